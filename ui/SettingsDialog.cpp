#include "SettingsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {
QSpinBox *portBox(int value, QWidget *parent)
{
    auto *box = new QSpinBox(parent);
    box->setRange(0, 65535);
    box->setSpecialValueText(SettingsDialog::tr("any free port"));
    box->setValue(value);
    box->setMinimumWidth(box->fontMetrics().horizontalAdvance(QStringLiteral("0000000000000")));
    return box;
}
} // namespace

SettingsDialog::SettingsDialog(const Config &current, Apply apply, QWidget *parent)
    : QDialog(parent)
    , m_config(current)
    , m_apply(std::move(apply))
{
    setWindowTitle(tr("Gateway settings"));
    setObjectName(QStringLiteral("settingsDialog"));

    const QStringList common = {QStringLiteral("0.0.0.0"), QStringLiteral("127.0.0.1"),
        QStringLiteral("::"), QStringLiteral("::1")};
    m_wsBind = addressBox(current.wsBind.toString(), common);
    m_wsBind->setObjectName(QStringLiteral("wsBind"));
    m_wsPort = portBox(current.wsPort, this);
    m_wsPort->setObjectName(QStringLiteral("wsPort"));
    m_textBind = addressBox(current.textBind.toString(), common);
    m_textBind->setObjectName(QStringLiteral("textBind"));
    m_textPort = portBox(current.textPort, this);
    m_textPort->setObjectName(QStringLiteral("textPort"));

    m_heartbeat = new QSpinBox(this);
    m_heartbeat->setObjectName(QStringLiteral("heartbeat"));
    m_heartbeat->setRange(1, 24 * 3600);
    m_heartbeat->setSuffix(tr(" s"));
    m_heartbeat->setValue(int(qMax<qint64>(1, current.heartbeatMs / 1000)));
    m_ping = new QSpinBox(this);
    m_ping->setObjectName(QStringLiteral("pingInterval"));
    m_ping->setRange(0, 24 * 3600);
    m_ping->setSuffix(tr(" s"));
    m_ping->setSpecialValueText(tr("never"));
    m_ping->setValue(int(current.pingIntervalMs / 1000));

    auto *ws = new QGroupBox(tr("WebSocket clients"), this);
    auto *wsForm = new QFormLayout(ws);
    wsForm->addRow(tr("Address:"), m_wsBind);
    wsForm->addRow(tr("Port:"), m_wsPort);

    auto *text = new QGroupBox(tr("Push port (backends)"), this);
    auto *textForm = new QFormLayout(text);
    textForm->addRow(tr("Address:"), m_textBind);
    textForm->addRow(tr("Port:"), m_textPort);
    auto *exposed = new QLabel(
        tr("Anyone who can reach the push port can push to any user: keep it on 127.0.0.1 "
           "unless a firewall protects it."),
        text);
    exposed->setWordWrap(true);
    exposed->setForegroundRole(QPalette::PlaceholderText);
    textForm->addRow(exposed);

    auto *alive = new QGroupBox(tr("Heartbeat"), this);
    auto *aliveForm = new QFormLayout(alive);
    aliveForm->addRow(tr("Drop clients idle for:"), m_heartbeat);
    aliveForm->addRow(tr("Ping clients every:"), m_ping);

    auto *note = new QLabel(tr("Applying restarts the listeners; connected clients stay "
                               "connected. The settings last until the console quits: put them "
                               "in a --config file to keep them."),
        this);
    note->setWordWrap(true);

    m_error = new QLabel(this);
    m_error->setObjectName(QStringLiteral("settingsError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(
        QStringLiteral("QLabel { color: #b71c1c; background: #fdecea; border: 1px solid #f5c2c0;"
                       " border-radius: 4px; padding: 6px; }"));
    m_error->hide();

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Apply and restart listeners"));
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(ws);
    layout->addWidget(text);
    layout->addWidget(alive);
    layout->addWidget(note);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    setMinimumWidth(fontMetrics().averageCharWidth() * 64);
}

QComboBox *SettingsDialog::addressBox(const QString &current, const QStringList &choices)
{
    auto *box = new QComboBox(this);
    box->setEditable(true);
    box->addItems(choices);
    box->setCurrentText(current);
    box->setInsertPolicy(QComboBox::NoInsert);
    return box;
}

bool SettingsDialog::readAddress(QComboBox *box, QHostAddress *out) const
{
    QString text = box->currentText().trimmed();
    if (text == QLatin1String("localhost"))
        text = QStringLiteral("127.0.0.1");
    return out->setAddress(text);
}

Config SettingsDialog::config() const
{
    Config c = m_config;
    readAddress(m_wsBind, &c.wsBind);
    readAddress(m_textBind, &c.textBind);
    c.wsPort = quint16(m_wsPort->value());
    c.textPort = quint16(m_textPort->value());
    c.heartbeatMs = qint64(m_heartbeat->value()) * 1000;
    c.pingIntervalMs = qint64(m_ping->value()) * 1000;
    return c;
}

QString SettingsDialog::error() const
{
    return m_error->text();
}

void SettingsDialog::showError(const QString &error)
{
    m_error->setText(error);
    m_error->setVisible(!error.isEmpty());
}

void SettingsDialog::accept()
{
    QHostAddress address;
    if (!readAddress(m_wsBind, &address)) {
        showError(tr("\"%1\" is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::).")
                      .arg(m_wsBind->currentText()));
        m_wsBind->setFocus();
        return;
    }
    if (!readAddress(m_textBind, &address)) {
        showError(tr("\"%1\" is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::).")
                      .arg(m_textBind->currentText()));
        m_textBind->setFocus();
        return;
    }
    const Config c = config();
    if (c.wsPort != 0 && c.wsPort == c.textPort && c.wsBind == c.textBind) {
        showError(tr("The WebSocket port and the push port must differ."));
        return;
    }
    const QString error = m_apply(c);
    if (!error.isEmpty()) {
        m_failed = true;
        showError(tr("The listeners could not be restarted: %1").arg(error));
        return;
    }
    m_failed = false;
    showError(QString());
    QDialog::accept();
}
