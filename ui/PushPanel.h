#pragma once

#include "PushHistoryModel.h"
#include "PushResult.h"

#include <QTimer>
#include <QWidget>

class OnlineModel;
class PushServer;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QPushButton;

// Manual pushes: target uid(s) or broadcast, a JSON payload with live
// validation and templates, Send (Ctrl+Enter) through the same router as
// the push port, the result inline, and recent pushes to send again.
class PushPanel final : public QWidget
{
    Q_OBJECT
public:
    PushPanel(PushServer *server, OnlineModel *online, QWidget *parent = nullptr);

    void setTargets(const QStringList &uids);
    void setPayload(const QString &payload);
    PushHistoryModel *history() const { return m_history; }
    QString resultText() const;

    // What Send does; returns what the router answered (maybe pending: the
    // final answer is shown when it comes).
    PushResult send();

private:
    void validate();
    void loadTemplate(int index);
    void loadHistoryEntry(const QModelIndex &index);
    void resendSelected();
    void showResult(const QString &text, const QString &color);
    void showPushResult(const PushResult &r, PushHistoryModel::Entry entry);
    void saveHistory() const;

    PushServer *m_server;
    PushHistoryModel *m_history;
    QLineEdit *m_target;
    QCheckBox *m_broadcast;
    QComboBox *m_templates;
    QPlainTextEdit *m_payload;
    QLabel *m_validation;
    QLabel *m_result;
    QPushButton *m_send;
    QListView *m_historyView;
    QPushButton *m_resend;
    QTimer m_validateTimer;
};
