#pragma once

#include "AttachTarget.h"

#include <QDialog>
#include <QList>

class QComboBox;
class QLabel;
class QLineEdit;

// Gateway → Attach to…: the URL of a gateway's HTTP API, the file that
// holds its API key and, for https with a private CA, the CA file. The
// gateways attached to before are offered again; only their URLs and file
// paths are remembered (QSettings "attach/recent"), never a key.
class AttachDialog final : public QDialog
{
    Q_OBJECT
public:
    struct Recent
    {
        QString url;
        QString keyFile;
        QString caFile;
    };
    static constexpr int MaxRecent = 10;

    explicit AttachDialog(QWidget *parent = nullptr);

    // The remembered gateways, most recent first.
    static QList<Recent> recent();
    // Puts target first in the list, the oldest beyond MaxRecent dropped.
    static void remember(const AttachTarget &target);

    QComboBox *urlBox() const { return m_url; }
    QLineEdit *keyFileEdit() const { return m_keyFile; }
    QLineEdit *caFileEdit() const { return m_caFile; }
    QString error() const;

    void accept() override;

Q_SIGNALS:
    // The files were read and the URL is well-formed: attach now.
    void attachRequested(const AttachTarget &target);

private:
    void fillFromRecent(int index);

    QComboBox *m_url;
    QLineEdit *m_keyFile;
    QLineEdit *m_caFile;
    QLabel *m_error;
    QList<Recent> m_recent;
};
