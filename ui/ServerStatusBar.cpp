#include "ServerStatusBar.h"

#include "ClusterStatus.h"
#include "TimeText.h"

#include <QDateTime>
#include <QLabel>
#include <QLocale>

namespace {
const QString Alert = QStringLiteral("color: #c62828; font-weight: bold;");

QLabel *counter(const char *name, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QLatin1String(name));
    label->setContentsMargins(6, 0, 6, 0);
    return label;
}
} // namespace

ServerStatusBar::ServerStatusBar(GatewaySource *source, ClusterStatus *cluster, QWidget *parent)
    : QStatusBar(parent)
    , m_source(source)
    , m_cluster(cluster)
{
    m_link = counter("statusLink", this);
    m_online = counter("statusOnline", this);
    m_clusterState = counter("statusCluster", this);
    m_listening = counter("statusListening", this);
    m_uptime = counter("statusUptime", this);
    m_pushes = counter("statusPushes", this);
    addPermanentWidget(m_link);
    addPermanentWidget(m_online);
    addPermanentWidget(m_clusterState);
    addPermanentWidget(m_listening);
    addPermanentWidget(m_uptime);
    addPermanentWidget(m_pushes);
    m_clusterState->hide();
    m_link->hide();
    connect(source, &GatewaySource::listeningChanged, this, &ServerStatusBar::refresh);
    // A hello names the gateway and its version.
    connect(source, &GatewaySource::listeningChanged, this, &ServerStatusBar::refreshLink);
    // A lost link must show at once, not at the next tick.
    connect(cluster, &ClusterStatus::stateChanged, this, &ServerStatusBar::refreshCluster);
    connect(cluster, &ClusterStatus::changed, this, &ServerStatusBar::refreshCluster);
    connect(source, &GatewaySource::linkStateChanged, this, &ServerStatusBar::refreshLink);
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ServerStatusBar::refresh);
    m_timer.start();
    const CounterSample counters = source->counters();
    setOnline(counters.uids, counters.connections);
    refresh();
    refreshLink();
}

void ServerStatusBar::refreshLink()
{
    const QString location = m_source->location();
    switch (m_source->linkState()) {
    case GatewaySource::LinkState::Connected:
        if (location.isEmpty()) {
            m_link->hide();
            return;
        }
        // Which gateway this window watches, at a glance.
        m_link->setText(m_source->nodeName().isEmpty()
                ? tr("Attached to %1 · gateway %2").arg(location, m_source->version())
                : tr("Attached to %1 · node %2 · gateway %3")
                      .arg(location, m_source->nodeName(), m_source->version()));
        m_link->setStyleSheet(QString());
        break;
    case GatewaySource::LinkState::Lost:
        m_link->setText(tr("Connection to the gateway lost: reconnecting…"));
        m_link->setStyleSheet(Alert);
        break;
    case GatewaySource::LinkState::Resyncing:
        m_link->setText(tr("Reconnected: reading the gateway's state…"));
        m_link->setStyleSheet(QString());
        break;
    }
    m_link->setToolTip(m_source->linkError().isEmpty() ? location : m_source->linkError());
    m_link->show();
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
    if (m_source->isListening()) {
        m_listening->setText(tr("Listening: WebSocket %1 · push %2")
                                 .arg(m_source->wsAddress(), m_source->textAddress()));
        m_listening->setStyleSheet(QString());
        const qint64 up = m_source->startedAt().msecsTo(QDateTime::currentDateTimeUtc());
        m_uptime->setText(tr("Up %1").arg(TimeText::duration(up)));
    } else {
        m_listening->setText(tr("Not listening"));
        m_listening->setStyleSheet(Alert);
        m_uptime->setText(tr("Stopped"));
    }
    const CounterSample m = m_source->counters();
    if (m_source->offline().enabled) {
        m_pushes->setText(tr("Pushes: %1 ok · %2 fail · %3 queued · %4 error")
                              .arg(locale.toString(m.pushesWith(PushStatus::Ok)),
                                  locale.toString(m.pushesWith(PushStatus::Fail)),
                                  locale.toString(m.pushesWith(PushStatus::Queued)),
                                  locale.toString(m.pushesWith(PushStatus::Error))));
    } else {
        m_pushes->setText(tr("Pushes: %1 ok · %2 fail · %3 error")
                              .arg(locale.toString(m.pushesWith(PushStatus::Ok)),
                                  locale.toString(m.pushesWith(PushStatus::Fail)),
                                  locale.toString(m.pushesWith(PushStatus::Error))));
    }
    refreshCluster();
}

void ServerStatusBar::refreshCluster()
{
    if (!m_cluster->isEnabled()) {
        m_clusterState->hide();
        return;
    }
    const QLocale locale;
    const QString node = m_cluster->nodeId();
    switch (m_cluster->state()) {
    case ClusterStatus::State::Off:
        break;
    case ClusterStatus::State::Joining:
        m_clusterState->setText(tr("Node %1 · joining the cluster…").arg(node));
        m_clusterState->setStyleSheet(QString());
        break;
    case ClusterStatus::State::Up:
        m_clusterState->setText(
            tr("Node %1 of %2").arg(node, locale.toString(m_cluster->nodeCount())));
        m_clusterState->setStyleSheet(QString());
        break;
    case ClusterStatus::State::Down:
        m_clusterState->setText(tr("Node %1 · cluster link down").arg(node));
        m_clusterState->setStyleSheet(Alert);
        break;
    }
    const CounterSample m = m_source->counters();
    m_clusterState->setToolTip(
        tr("Redis: %1\n"
           "Pushes published to other nodes: %2\n"
           "Pushes received from other nodes: %3\n"
           "Times the link was lost: %4")
            .arg(m_cluster->cluster().redis, locale.toString(m.clusterSent),
                locale.toString(m.clusterReceived), locale.toString(m.clusterLinkLosses)));
    m_clusterState->show();
}
