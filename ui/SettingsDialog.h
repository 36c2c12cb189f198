#pragma once

#include "Config.h"

#include <QDialog>

#include <functional>

class QComboBox;
class QLabel;
class QSpinBox;

// Ports, bind addresses and heartbeat of the running gateway. OK applies
// them by restarting the listeners; when a port cannot be opened the dialog
// stays open with the reason, so the operator can pick another.
class SettingsDialog final : public QDialog
{
    Q_OBJECT
public:
    // Restarts the listeners with the config; returns why not, or empty.
    using Apply = std::function<QString(const Config &)>;

    SettingsDialog(const Config &current, Apply apply, QWidget *parent = nullptr);

    Config config() const;
    QString error() const;
    // True once an apply failed: the listeners are then closed.
    bool applyFailed() const { return m_failed; }

    void accept() override;

private:
    QComboBox *addressBox(const QString &current, const QStringList &choices);
    bool readAddress(QComboBox *box, QHostAddress *out) const;
    void showError(const QString &error);

    Config m_config;
    Apply m_apply;
    bool m_failed = false;
    QComboBox *m_wsBind;
    QSpinBox *m_wsPort;
    QComboBox *m_textBind;
    QSpinBox *m_textPort;
    QSpinBox *m_heartbeat;
    QSpinBox *m_ping;
    QLabel *m_error;
};
