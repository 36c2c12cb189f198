#include "LocalGatewaySource.h"

#include "ClusterLink.h"
#include "OfflineStore.h"
#include "PushServer.h"

namespace {
constexpr int SampleMs = 1000;
}

LocalGatewaySource::LocalGatewaySource(PushServer *server, QObject *parent)
    : GatewaySource(parent)
    , m_server(server)
{
    SessionRegistry *registry = server->registry();
    connect(registry, &SessionRegistry::uidOnline, this, &GatewaySource::presenceChanged);
    connect(registry, &SessionRegistry::uidOffline, this, &GatewaySource::presenceChanged);
    connect(registry, &SessionRegistry::uidChanged, this,
        [this](const QByteArray &uid, int) { Q_EMIT presenceChanged(uid); });
    // One event, one batch: the log model's own queue batches and bounds
    // them; a second queue here would only copy them once more.
    connect(server->eventLog(), &EventLog::eventAdded, this,
        [this](const Event &event) { Q_EMIT eventsArrived(QList<Event> {event}); });
    connect(server, &PushServer::listeningChanged, this, [this](bool listening) {
        attachCluster();
        Q_EMIT listeningChanged(listening);
    });

    m_clock.start();
    m_sampleTimer.setInterval(SampleMs);
    connect(&m_sampleTimer, &QTimer::timeout, this, &LocalGatewaySource::sampleCounters);
    m_sampleTimer.start();
    attachCluster();
}

void LocalGatewaySource::attachCluster()
{
    ClusterLink *link = m_server->cluster();
    if (!link || link == m_cluster)
        return;
    m_cluster = link;
    connect(link, &ClusterLink::remoteUidOnline, this,
        [this](const QByteArray &uid, const QString &) { Q_EMIT presenceChanged(uid); });
    connect(link, &ClusterLink::remoteUidOffline, this,
        [this](const QByteArray &uid, const QString &) { Q_EMIT presenceChanged(uid); });
    connect(link, &ClusterLink::presenceReset, this, &GatewaySource::presenceReset);
    connect(link, &ClusterLink::nodesChanged, this, &GatewaySource::clusterChanged);
    connect(link, &ClusterLink::linkChanged, this, [this] {
        Q_EMIT clusterChanged();
        // Up again: the replica was reloaded; read it once it counts as up.
        Q_EMIT presenceReset();
    });
    connect(link, &QObject::destroyed, this, &GatewaySource::clusterChanged);
    Q_EMIT clusterChanged();
    Q_EMIT presenceReset();
}

QString LocalGatewaySource::version() const
{
    return QStringLiteral(PUSHCONSOLE_VERSION);
}

bool LocalGatewaySource::isListening() const
{
    return m_server->isListening();
}

QDateTime LocalGatewaySource::startedAt() const
{
    return m_server->startedAt();
}

QString LocalGatewaySource::wsAddress() const
{
    return m_server->wsAddress();
}

QString LocalGatewaySource::textAddress() const
{
    return m_server->textAddress();
}

QString LocalGatewaySource::httpAddress() const
{
    return m_server->httpAddress();
}

ClusterState LocalGatewaySource::cluster() const
{
    ClusterState state;
    if (!m_cluster)
        return state;
    state.enabled = true;
    state.up = m_cluster->isUp();
    state.nodeId = QString::fromUtf8(m_cluster->nodeId());
    state.redis = m_cluster->options().url.displayString();
    for (const ClusterNodeInfo &n : m_cluster->nodes())
        state.nodes.append({n.id, n.uids, n.self});
    return state;
}

OfflineState LocalGatewaySource::offline() const
{
    OfflineState state;
    const OfflineStore *store = m_server->offlineStore();
    if (!store)
        return state;
    state.enabled = true;
    state.description = store->description();
    state.ttlMs = store->limits().ttlMs;
    state.maxPerUid = store->limits().maxPerUid;
    state.maxTotal = store->limits().maxTotal;
    return state;
}

QList<QByteArray> LocalGatewaySource::onlineUids() const
{
    QList<QByteArray> uids = m_server->registry()->uids();
    if (!m_cluster)
        return uids;
    const QHash<QByteArray, QStringList> remote = m_cluster->remotePresence();
    uids.reserve(uids.size() + remote.size());
    for (auto it = remote.cbegin(); it != remote.cend(); ++it) {
        if (!m_server->registry()->isOnline(it.key()))
            uids.append(it.key());
    }
    return uids;
}

PresenceEntry LocalGatewaySource::presence(const QByteArray &uid) const
{
    PresenceEntry e;
    e.uid = uid;
    const QList<SessionInfo> sessions = m_server->registry()->sessions(uid);
    e.connections = int(sessions.size());
    e.connectedAt = sessions.isEmpty() ? 0 : sessions.front().connectedAt;
    for (const SessionInfo &s : sessions) {
        e.peers.append(s.peer);
        e.connectedAt = qMin(e.connectedAt, s.connectedAt);
        e.lastActivity = qMax(e.lastActivity, s.lastActivity);
        e.messagesIn += s.messagesIn;
        e.messagesOut += s.messagesOut;
    }
    if (m_cluster) {
        e.otherNodes = m_cluster->remoteNodesOf(uid);
        e.otherNodes.sort();
    }
    return e;
}

void LocalGatewaySource::requestSessions(
    const QByteArray &uid, QObject *context, SessionsHandler done)
{
    if (context)
        done(m_server->registry()->sessions(uid));
}

QList<Event> LocalGatewaySource::recentEvents() const
{
    return m_server->eventLog()->snapshot();
}

int LocalGatewaySource::eventCapacity() const
{
    return m_server->config().logBuffer;
}

CounterSample LocalGatewaySource::counters() const
{
    const Metrics &m = m_server->metrics();
    CounterSample s;
    s.time = QDateTime::currentMSecsSinceEpoch();
    s.steadyMs = m_clock.elapsed();
    s.uids = m_server->registry()->uidCount();
    s.connections = m_server->registry()->connectionCount();
    for (const PushStatus status :
        {PushStatus::Ok, PushStatus::Fail, PushStatus::Error, PushStatus::Queued})
        s.pushes[int(status)] = m.pushesWith(status);
    s.clusterSent = m.clusterSent;
    s.clusterReceived = m.clusterReceived;
    s.clusterLinkLosses = m.clusterLinkLosses;
    s.offlineStored = m.offlineStored;
    s.offlineDelivered = m.offlineDelivered;
    s.offlineDropped = m.offlineDropped;
    s.offlineExpired = m.offlineExpired;
    return s;
}

void LocalGatewaySource::sampleCounters()
{
    Q_EMIT countersSampled(counters());
}

void LocalGatewaySource::push(const QByteArray &line, QObject *context, PushHandler done)
{
    QPointer<QObject> guard(context);
    const PushResult r = m_server->router()->push(line, PushSource::Console,
        QStringLiteral("console"), [guard, done](const PushResult &final) {
            if (guard)
                done(final);
        });
    if (!r.pending && guard)
        done(r);
}

void LocalGatewaySource::kick(const QByteArray &uid, QObject *context, KickHandler done)
{
    // In cluster mode the nodes holding the uid are asked too (through
    // Redis, like a push), so the answer may come later.
    QPointer<QObject> guard(context);
    m_server->kickEverywhere(uid, [guard, done](int closed, int nodes) {
        if (!guard)
            return;
        KickResult r;
        r.closed = closed;
        r.nodes = nodes;
        done(r);
    });
}

bool LocalGatewaySource::kicksAcrossCluster() const
{
    return cluster().enabled;
}

bool LocalGatewaySource::startListeners(QString *error)
{
    return m_server->start(error);
}

void LocalGatewaySource::stopListeners()
{
    m_server->stopListening();
}

Config LocalGatewaySource::config() const
{
    return m_server->config();
}

void LocalGatewaySource::setConfig(const Config &config)
{
    m_server->setConfig(config);
}
