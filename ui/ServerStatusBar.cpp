#include "ServerStatusBar.h"

#include "PushServer.h"
#include "TimeText.h"

#include <QDateTime>
#include <QLabel>
#include <QLocale>

namespace {
QLabel *counter(const char *name, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QLatin1String(name));
    label->setContentsMargins(6, 0, 6, 0);
    return label;
}
} // namespace

ServerStatusBar::ServerStatusBar(PushServer *server, QWidget *parent)
    : QStatusBar(parent)
    , m_server(server)
{
    m_online = counter("statusOnline", this);
    m_listening = counter("statusListening", this);
    m_uptime = counter("statusUptime", this);
    m_pushes = counter("statusPushes", this);
    addPermanentWidget(m_online);
    addPermanentWidget(m_listening);
    addPermanentWidget(m_uptime);
    addPermanentWidget(m_pushes);
    connect(server, &PushServer::listeningChanged, this, &ServerStatusBar::refresh);
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ServerStatusBar::refresh);
    m_timer.start();
    setOnline(server->registry()->uidCount(), server->registry()->connectionCount());
    refresh();
}

void ServerStatusBar::setOnline(int uids, int connections)
{
    const QLocale locale;
    m_online->setText(tr("Online uids: %1 · connections: %2")
                          .arg(locale.toString(uids), locale.toString(connections)));
}

void ServerStatusBar::refresh()
{
    const QLocale locale;
    if (m_server->isListening()) {
        m_listening->setText(tr("Listening: WebSocket %1 · push %2")
                                 .arg(m_server->wsAddress(), m_server->textAddress()));
        m_listening->setStyleSheet(QString());
        const qint64 up = m_server->startedAt().msecsTo(QDateTime::currentDateTimeUtc());
        m_uptime->setText(tr("Up %1").arg(TimeText::duration(up)));
    } else {
        m_listening->setText(tr("Not listening"));
        m_listening->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
        m_uptime->setText(tr("Stopped"));
    }
    const Metrics &m = m_server->metrics();
    m_pushes->setText(tr("Pushes: %1 ok · %2 fail · %3 error")
                          .arg(locale.toString(m.pushesWith(PushStatus::Ok)),
                              locale.toString(m.pushesWith(PushStatus::Fail)),
                              locale.toString(m.pushesWith(PushStatus::Error))));
}
