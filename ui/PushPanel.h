#pragma once

#include "PushHistoryModel.h"
#include "PushResult.h"

#include <QTimer>
#include <QWidget>

class GatewaySource;
class OnlineModel;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QPushButton;

// Manual pushes: target uid(s) or broadcast, a JSON payload with live
// validation and templates, Send (Ctrl+Enter) through the gateway's router
// like the push port, the result inline, and recent pushes to send again.
class PushPanel final : public QWidget
{
    Q_OBJECT
public:
    PushPanel(GatewaySource *source, OnlineModel *online, QWidget *parent = nullptr);

    void setTargets(const QStringList &uids);
    void setPayload(const QString &payload);
    PushHistoryModel *history() const { return m_history; }
    QString resultText() const;

    // What Send does; returns what the gateway answered, or a result with
    // pending set when the answer comes later (it is shown then).
    PushResult send();

private:
    void validate();
    void loadTemplate(int index);
    void loadHistoryEntry(const QModelIndex &index);
    void resendSelected();
    void showResult(const QString &text, const QString &color);
    void showPushResult(const PushResult &r, PushHistoryModel::Entry entry);
    void saveHistory() const;

    GatewaySource *m_source;
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
