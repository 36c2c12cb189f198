#include "ClusterLink.h"

#include "ClusterScripts.h"
#include "EventLog.h"
#include "Events.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "RedisClient.h"
#include "SessionRegistry.h"

#include <QHostInfo>
#include <QRandomGenerator>

#include <memory>

#include <unistd.h>

using ClusterScripts::key;
using ClusterScripts::nodeKey;

namespace {

bool isNodeChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
        || c == '.' || c == '-';
}

} // namespace

ClusterLink::ClusterLink(const Options &options, SessionRegistry *registry, EventLog *log,
    Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_registry(registry)
    , m_log(log)
    , m_metrics(metrics)
    , m_replica(options.nodeId, [](const QByteArray &node) { return nodeKey(node, "push"); })
{
    RedisClient::Options o;
    o.url = options.url;
    o.connectTimeoutMs = options.timeoutMs;
    o.commandTimeoutMs = options.timeoutMs;
    o.clientName = "pushconsole:" + options.nodeId + ":cmd";
    m_cmd = new RedisClient(o, this);
    o.clientName = "pushconsole:" + options.nodeId + ":sub";
    m_sub = new RedisClient(o, this);

    m_token = QByteArray::number(QRandomGenerator::global()->generate64(), 36);
    m_presenceChannel = key("presence");
    m_broadcastChannel = key("broadcast");
    m_ownChannel = nodeKey(m_options.nodeId, "push");
    m_offlineChannel = key("offline");
    m_kickChannel = nodeKey(m_options.nodeId, "kick");
    m_echo = "ping " + m_options.nodeId + ' ';

    connect(m_cmd, &RedisClient::ready, this, &ClusterLink::commandReady);
    connect(m_sub, &RedisClient::ready, this, &ClusterLink::subscriberReady);
    connect(m_sub, &RedisClient::subscribed, this, &ClusterLink::subscribedTo);
    connect(m_cmd, &RedisClient::connectionLost, this,
        [this](const QString &why) { goDown(tr("lost the connection to Redis: %1").arg(why)); });
    connect(m_sub, &RedisClient::connectionLost, this, [this](const QString &why) {
        m_subscribed = false;
        // Pushes published to this node would be lost until it subscribes
        // again: the others must stop routing here now, not after the TTL.
        const bool withdrawn = withdraw();
        goDown(tr("lost the subscription connection to Redis: %1").arg(why)
            + (withdrawn ? tr("; presence withdrawn until it is back") : QString()));
    });
    const auto attemptFailed = [this](const QString &why) {
        // Once per outage; the backoff keeps trying quietly.
        if (m_outageReported)
            return;
        m_outageReported = true;
        report(true,
            Events::why(Event::Reason::ClusterDown,
                {QString::fromUtf8(m_options.nodeId), m_options.url.displayString(),
                    tr("cannot reach Redis (%1); local delivery goes on, retrying").arg(why)}));
    };
    connect(m_cmd, &RedisClient::connectFailed, this, attemptFailed);
    connect(m_sub, &RedisClient::connectFailed, this, attemptFailed);
    m_sub->setMessageHandler([this](const QByteArray &channel, const QByteArray &message) {
        messageReceived(channel, message);
    });

    connect(registry, &SessionRegistry::uidOnline, this,
        [this](const QByteArray &uid) { localUidChanged(uid, true); });
    connect(registry, &SessionRegistry::uidOffline, this,
        [this](const QByteArray &uid) { localUidChanged(uid, false); });

    // A third of the TTL: a node survives two lost ticks.
    m_tick.setInterval(int(qMax<qint64>(200, m_options.ttlMs / 3)));
    connect(&m_tick, &QTimer::timeout, this, &ClusterLink::tick);
}

ClusterLink::~ClusterLink()
{
    // Pending handlers point into this object: stop the clients first.
    m_cmd->stop();
    m_sub->stop();
}

bool ClusterLink::isValidNodeId(QByteArrayView id)
{
    if (id.isEmpty() || id.size() > 64)
        return false;
    for (char c : id) {
        if (!isNodeChar(c))
            return false;
    }
    return true;
}

QByteArray ClusterLink::defaultNodeId()
{
    QByteArray host;
    for (char c : QHostInfo::localHostName().toLatin1()) {
        if (isNodeChar(c))
            host.append(c);
    }
    if (host.isEmpty())
        host = "node";
    const QByteArray pid = '-' + QByteArray::number(qint64(::getpid()));
    return host.left(64 - pid.size()) + pid;
}

void ClusterLink::start()
{
    m_stopped = false;
    m_cmd->start();
    m_sub->start();
    m_tick.start();
}

void ClusterLink::stop()
{
    m_stopped = true;
    m_tick.stop();
    withdraw();
    m_replica.clear();
    // The process may exit before the loop turns again.
    m_cmd->flush();
}

bool ClusterLink::withdraw()
{
    if (!m_registered)
        return false;
    m_registered = false;
    // Sent after the registration on the same connection: Redis applies
    // them in that order.
    return m_cmd->isReady()
        && m_cmd->command(ClusterScripts::leave(m_options.nodeId, m_token, m_presenceChannel));
}

void ClusterLink::commandReady()
{
    tryUp();
}

void ClusterLink::subscriberReady()
{
    m_pendingSubscriptions = {
        m_presenceChannel, m_broadcastChannel, m_ownChannel, m_offlineChannel, m_kickChannel};
    m_sub->subscribe(m_pendingSubscriptions.values());
}

void ClusterLink::subscribedTo(const QByteArray &channel)
{
    m_pendingSubscriptions.remove(channel);
    if (m_pendingSubscriptions.isEmpty() && !m_subscribed) {
        m_subscribed = true;
        tryUp();
    }
}

void ClusterLink::tryUp()
{
    // Subscribed first, then registered and loaded: no announcement can
    // fall between the snapshot and the subscription.
    if (m_stopped || !m_cmd->isReady() || !m_subscribed || m_registered)
        return;
    sendRegister();
    loadAll();
}

void ClusterLink::sendRegister()
{
    const QList<QByteArray> args = ClusterScripts::registerNode(
        m_options.nodeId, m_token, m_options.ttlMs, m_presenceChannel, m_registry->uids());
    // Changes after this point are sent after it on the same connection,
    // so Redis applies them in the right order.
    m_registered = m_cmd->command(args, [this](const RedisReply &reply) {
        if (reply.isError() && !reply.isDisconnected())
            qCWarning(lcCluster) << "register failed:" << reply.errorString();
    });
}

void ClusterLink::loadAll()
{
    m_replica.beginFullLoad();
    m_cmd->command(ClusterScripts::snapshot(), [this](const RedisReply &reply) {
        if (!m_replica.isLoadingAll())
            return;
        if (reply.isError()) {
            m_replica.clear();
            if (!reply.isDisconnected())
                m_cmd->reconnect(tr("presence snapshot failed: %1").arg(reply.errorString()));
            return;
        }
        const PresenceReplica::Changes changes =
            m_replica.applyFullSnapshot(ClusterScripts::snapshotReply(reply));
        m_outageReported = false;
        m_upSinceMs = m_lastEchoMs = MonotonicClock::nowMs();
        passOn(changes);
        report(false,
            Events::why(Event::Reason::ClusterUp,
                {QString::fromUtf8(m_options.nodeId), m_options.url.displayString(),
                    QString::number(m_replica.nodeCount() + 1),
                    QString::number(m_replica.uidCount())}));
        Q_EMIT linkChanged(true);
    });
}

void ClusterLink::loadNode(const QByteArray &id, quint64 load)
{
    m_cmd->command(ClusterScripts::snapshot(id), [this, id, load](const RedisReply &reply) {
        if (reply.isError()) {
            if (!reply.isDisconnected() && m_replica.isLoading(id))
                m_cmd->reconnect(tr("presence snapshot failed: %1").arg(reply.errorString()));
            return;
        }
        passOn(m_replica.applyNodeSnapshot(id, load, ClusterScripts::snapshotReply(reply)));
    });
}

void ClusterLink::passOn(const PresenceReplica::Changes &changes)
{
    for (const PresenceChange &c : changes) {
        switch (c.kind) {
        case PresenceChange::Kind::UidOnline:
            Q_EMIT remoteUidOnline(c.uid, QString::fromUtf8(c.node));
            break;
        case PresenceChange::Kind::UidOffline:
            Q_EMIT remoteUidOffline(c.uid, QString::fromUtf8(c.node));
            break;
        case PresenceChange::Kind::Reset:
            Q_EMIT presenceReset();
            break;
        case PresenceChange::Kind::NodesChanged:
            Q_EMIT nodesChanged();
            break;
        case PresenceChange::Kind::Load:
            loadNode(c.node, c.load);
            break;
        }
    }
}

void ClusterLink::goDown(const QString &reason)
{
    const bool wasUp = isUp();
    m_registered = false;
    m_replica.clear();
    if (wasUp) {
        ++m_metrics->clusterLinkLosses;
        m_outageReported = true;
        report(true,
            Events::why(Event::Reason::ClusterDown,
                {QString::fromUtf8(m_options.nodeId), m_options.url.displayString(),
                    reason + tr("; local delivery goes on, reconnecting")}));
        Q_EMIT presenceReset();
        Q_EMIT nodesChanged();
        Q_EMIT linkChanged(false);
    }
    // The other connection may be fine; registration starts over once both
    // are, from tryUp().
    if (m_cmd->isReady() && m_subscribed)
        QMetaObject::invokeMethod(this, &ClusterLink::tryUp, Qt::QueuedConnection);
}

void ClusterLink::tick()
{
    if (!m_cmd->isReady() || !m_registered)
        return;
    const qint64 now = MonotonicClock::nowMs();
    // The subscription connection only ever reads: a link that died
    // silently shows as our own ping never coming back.
    if (isUp() && now - m_lastEchoMs > 2 * m_tick.interval() + m_options.timeoutMs) {
        const qint64 silent = now - std::exchange(m_lastEchoMs, now);
        m_sub->reconnect(tr("no echo on the presence channel for %1 ms").arg(silent));
        return;
    }
    m_cmd->command({"PUBLISH", m_presenceChannel, m_echo + QByteArray::number(++m_pingSeq)});
    m_cmd->command(
        ClusterScripts::tick(m_options.nodeId, m_token, m_options.ttlMs, m_presenceChannel),
        [this](const RedisReply &reply) { handleTick(reply); });
}

void ClusterLink::handleTick(const RedisReply &reply)
{
    if (reply.isError()) {
        if (!reply.isDisconnected())
            qCWarning(lcCluster) << "tick failed:" << reply.errorString();
        return;
    }
    if (reply.elements.isEmpty() || !m_registered)
        return;
    const ClusterScripts::TickReply tick = ClusterScripts::tickReply(reply);
    if (!tick.renewed) {
        // Our liveness key expired (this process stalled for longer than
        // the TTL, or Redis lost its data) or another process uses our id.
        report(true,
            Events::why(Event::Reason::ClusterRejoin,
                {QString::fromUtf8(m_options.nodeId),
                    tr("this node's presence had expired in Redis (or another process uses the "
                       "same --node-id); registering again")}));
        sendRegister();
    }
    passOn(m_replica.applyLiveNodes(tick.live));
}

void ClusterLink::publish(NodeMask nodes, const QByteArray &line, PublishHandler done)
{
    QByteArray message;
    message.reserve(m_options.nodeId.size() + 1 + line.size());
    message.append(m_options.nodeId).append('\n').append(line);
    // Shared by the node's replies: the last one to arrive answers.
    struct Tally
    {
        int waiting = 1; // one for the loop below
        int receivers = 0;
        PublishHandler done;
    };
    auto tally = std::make_shared<Tally>();
    tally->done = std::move(done);
    const auto settle = [tally] {
        if (--tally->waiting == 0 && tally->done)
            tally->done(tally->receivers);
    };
    int sent = 0;
    while (nodes) {
        const int bit = qCountTrailingZeroBits(nodes);
        nodes &= nodes - 1;
        const QByteArray *channel = m_replica.channelOf(bit);
        if (!channel)
            continue;
        ++tally->waiting;
        const bool queued =
            sendPublish(*channel, message, [tally, settle](const RedisReply &reply) {
                if (reply.type == RedisReply::Type::Integer && reply.integer > 0)
                    ++tally->receivers;
                settle();
            });
        if (queued)
            ++sent;
        else
            settle();
    }
    m_metrics->clusterSent += quint64(sent);
    settle();
}

void ClusterLink::publishBroadcast(const QByteArray &line, PublishHandler done)
{
    if (!isUp() || m_replica.nodeCount() == 0 || m_replica.isEmpty()) {
        done(0);
        return;
    }
    QByteArray message;
    message.reserve(m_options.nodeId.size() + 1 + line.size());
    message.append(m_options.nodeId).append('\n').append(line);
    const bool queued = sendPublish(m_broadcastChannel, message, [done](const RedisReply &reply) {
        // This node reads the broadcast channel too.
        const int others =
            reply.type == RedisReply::Type::Integer ? int(qMax<qint64>(0, reply.integer - 1)) : 0;
        done(others);
    });
    if (queued)
        m_metrics->clusterSent += quint64(m_replica.nodeCount());
    else
        done(0);
}

bool ClusterLink::sendPublish(const QByteArray &channel, const QByteArray &message,
    std::function<void(const RedisReply &)> handler)
{
    // The message waits in hiredis's buffer until written, and the push's
    // record (at most its line) in the router until answered.
    const qint64 cost = 2 * message.size() + PublishOverhead;
    if (!commandWithinBudget(
            {QByteArrayLiteral("PUBLISH"), channel, message}, cost, std::move(handler))) {
        ++m_metrics->clusterPublishRefused;
        return false;
    }
    return true;
}

bool ClusterLink::commandWithinBudget(
    const QList<QByteArray> &args, qint64 cost, std::function<void(const RedisReply &)> handler)
{
    if (m_inFlightBytes + cost > m_options.maxInFlightBytes) {
        if (!m_inFlightReported) {
            m_inFlightReported = true;
            report(true,
                Events::why(Event::Reason::ClusterPublishRefused,
                    {QString::fromUtf8(m_options.nodeId), QString::number(m_inFlightBytes),
                        QString::number(m_options.maxInFlightBytes),
                        tr("Redis answers slower than pushes come in; pushes that need it "
                           "answer fail until it catches up (--cluster-max-in-flight)")}));
        }
        return false;
    }
    const bool sent =
        m_cmd->command(args, [this, cost, handler = std::move(handler)](const RedisReply &reply) {
            m_inFlightBytes -= cost;
            if (m_inFlightBytes <= m_options.maxInFlightBytes / 2)
                m_inFlightReported = false;
            handler(reply);
        });
    if (sent)
        m_inFlightBytes += cost;
    return sent;
}

void ClusterLink::messageReceived(const QByteArray &channel, const QByteArray &message)
{
    if (channel == m_ownChannel || channel == m_broadcastChannel) {
        const qsizetype nl = message.indexOf('\n');
        if (nl <= 0)
            return;
        const QByteArray origin = message.left(nl);
        if (origin == m_options.nodeId)
            return; // our own broadcast
        ++m_metrics->clusterReceived;
        if (m_onPush)
            m_onPush(origin, message.mid(nl + 1));
        return;
    }
    if (channel == m_presenceChannel) {
        if (message.startsWith(m_echo))
            m_lastEchoMs = MonotonicClock::nowMs();
        else
            passOn(m_replica.applyEvent(message));
        return;
    }
    if (channel == m_offlineChannel) {
        Q_EMIT offlineMessageStored(message);
        return;
    }
    if (channel == m_kickChannel) {
        const qsizetype nl = message.indexOf('\n');
        if (nl > 0 && m_onKick)
            m_onKick(message.left(nl), message.mid(nl + 1));
    }
}

void ClusterLink::kickRemote(const QByteArray &uid, std::function<void(int nodes)> done)
{
    const QStringList holders = remoteNodesOf(uid);
    struct Tally
    {
        int waiting = 1; // one for the loop below
        int receivers = 0;
        std::function<void(int)> done;
    };
    auto tally = std::make_shared<Tally>();
    tally->done = std::move(done);
    const auto settle = [tally] {
        if (--tally->waiting == 0 && tally->done)
            tally->done(tally->receivers);
    };
    const QByteArray message = m_options.nodeId + '\n' + uid;
    for (const QString &node : holders) {
        ++tally->waiting;
        // A node too old to read kicks has no subscriber there: Redis
        // answers 0 and it does not count.
        const bool queued = sendPublish(
            nodeKey(node.toUtf8(), "kick"), message, [tally, settle](const RedisReply &reply) {
                if (reply.type == RedisReply::Type::Integer && reply.integer > 0)
                    ++tally->receivers;
                settle();
            });
        if (!queued)
            settle();
    }
    settle();
}

void ClusterLink::localUidChanged(const QByteArray &uid, bool online)
{
    // Not registered: the next registration sends the whole set.
    if (!m_registered || !m_cmd->isReady())
        return;
    m_cmd->command(ClusterScripts::change(m_options.nodeId, uid, m_presenceChannel, online));
}

QList<ClusterNodeInfo> ClusterLink::nodes() const
{
    QList<ClusterNodeInfo> out = m_replica.nodes();
    out.prepend({QString::fromUtf8(m_options.nodeId), m_registry->uidCount(), true});
    return out;
}

QStringList ClusterLink::remoteNodesOf(const QByteArray &uid) const
{
    return isUp() ? m_replica.remoteNodesOf(uid) : QStringList();
}

QHash<QByteArray, QStringList> ClusterLink::remotePresence() const
{
    // The replica is emptied when the link goes down, and complete whenever
    // presenceReset() is emitted (even while the join is finishing).
    return m_replica.remotePresence();
}

void ClusterLink::report(bool warning, const Events::Why &why)
{
    m_log->append(Events::cluster(warning, why));
}
