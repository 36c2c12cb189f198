#include "ClusterLink.h"

#include "EventLog.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "RedisClient.h"
#include "SessionRegistry.h"

#include <QHostInfo>
#include <QRandomGenerator>

#include <memory>

#include <unistd.h>

namespace {

const QByteArray Prefix = QByteArrayLiteral("pushconsole:");

// Every change of a node's uid set bumps its version and is announced with
// that version, in one script, so the announcements of a node are numbered
// without gaps and a replica can tell a missed one.
// KEYS: uid set, version. ARGV: node, uid, channel, "+" or "-".
const char ChangeScript[] = R"lua(
if ARGV[4] == '+' then
  redis.call('SADD', KEYS[1], ARGV[2])
else
  redis.call('SREM', KEYS[1], ARGV[2])
end
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. ARGV[1] .. ' ' .. v .. ' ' .. ARGV[2])
return v
)lua";

// (Re)registers a node with its complete uid set.
// KEYS: node registry, liveness key, uid set, version.
// ARGV: node, token, ttl ms, channel, uids...
const char RegisterScript[] = R"lua(
redis.call('DEL', KEYS[3])
for i = 5, #ARGV, 1000 do
  redis.call('SADD', KEYS[3], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
local v = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[4], 'up ' .. ARGV[1] .. ' ' .. v)
return v
)lua";

// The heartbeat: renews this node's liveness (when it is still ours),
// reaps nodes whose liveness expired, and lists the live ones with their
// versions. KEYS: registry, own liveness key.
// ARGV: node, token, ttl ms, channel, key prefix.
const char TickScript[] = R"lua(
local renewed = 0
if redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  renewed = 1
end
local out = {renewed}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local p = ARGV[5] .. 'node:' .. n
  if redis.call('EXISTS', p) == 1 then
    table.insert(out, n)
    table.insert(out, tonumber(redis.call('GET', p .. ':ver') or '0'))
  else
    redis.call('DEL', p .. ':uids', p .. ':ver')
    redis.call('SREM', KEYS[1], n)
    redis.call('PUBLISH', ARGV[4], 'down ' .. n)
  end
end
return out
)lua";

// The uid sets of live nodes (all, or one) with their versions, read in one
// step so that a set and its version agree. KEYS: registry.
// ARGV: key prefix, node or "".
const char SnapshotScript[] = R"lua(
local list
if ARGV[2] ~= '' then list = {ARGV[2]} else list = redis.call('SMEMBERS', KEYS[1]) end
local out = {}
for _, n in ipairs(list) do
  local p = ARGV[1] .. 'node:' .. n
  if redis.call('EXISTS', p) == 1 then
    table.insert(out, n)
    table.insert(out, tonumber(redis.call('GET', p .. ':ver') or '0'))
    table.insert(out, redis.call('SMEMBERS', p .. ':uids'))
  end
end
return out
)lua";

// Graceful leave. KEYS: registry, liveness, uid set, version.
// ARGV: node, token, channel.
const char LeaveScript[] = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[3], 'down ' .. ARGV[1])
return 1
)lua";

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
            QStringLiteral("state=down node=%1 redis=%2 reason=\"%3\"")
                .arg(QString::fromUtf8(m_options.nodeId), m_options.url.displayString(),
                    tr("cannot reach Redis (%1); local delivery goes on, retrying").arg(why)));
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
    qDeleteAll(m_nodes);
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

QByteArray ClusterLink::key(const QByteArray &suffix) const
{
    return Prefix + suffix;
}

QByteArray ClusterLink::nodeKey(const QByteArray &node, const char *suffix) const
{
    QByteArray k = Prefix + "node:" + node;
    if (suffix) {
        k += ':';
        k += suffix;
    }
    return k;
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
    m_up = false;
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
        && m_cmd->command({"EVAL", LeaveScript, "4", key("nodes"), nodeKey(m_options.nodeId),
            nodeKey(m_options.nodeId, "uids"), nodeKey(m_options.nodeId, "ver"), m_options.nodeId,
            m_token, m_presenceChannel});
}

void ClusterLink::commandReady()
{
    tryUp();
}

void ClusterLink::subscriberReady()
{
    m_pendingSubscriptions = {
        m_presenceChannel, m_broadcastChannel, m_ownChannel, m_offlineChannel};
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
    QList<QByteArray> args = {"EVAL", RegisterScript, "4", key("nodes"), nodeKey(m_options.nodeId),
        nodeKey(m_options.nodeId, "uids"), nodeKey(m_options.nodeId, "ver"), m_options.nodeId,
        m_token, QByteArray::number(m_options.ttlMs), m_presenceChannel};
    const QList<QByteArray> uids = m_registry->uids();
    args.reserve(args.size() + uids.size());
    args.append(uids);
    // Changes after this point are sent after it on the same connection,
    // so Redis applies them in the right order.
    m_registered = m_cmd->command(args, [this](const RedisReply &reply) {
        if (reply.isError() && !reply.isDisconnected())
            qCWarning(lcCluster) << "register failed:" << reply.errorString();
    });
}

void ClusterLink::loadAll()
{
    m_snapshotPending = true;
    m_earlyEvents.clear();
    m_cmd->command(
        {"EVAL", SnapshotScript, "1", key("nodes"), Prefix, ""}, [this](const RedisReply &reply) {
            if (!m_snapshotPending)
                return;
            m_snapshotPending = false;
            if (reply.isError()) {
                if (!reply.isDisconnected())
                    m_cmd->reconnect(tr("presence snapshot failed: %1").arg(reply.errorString()));
                return;
            }
            applySnapshot(reply, nullptr);
            m_up = true;
            m_outageReported = false;
            m_upSinceMs = m_lastEchoMs = MonotonicClock::nowMs();
            const QList<QByteArray> early = std::exchange(m_earlyEvents, {});
            for (const QByteArray &e : early)
                presenceEvent(e);
            report(false,
                QStringLiteral("state=up node=%1 redis=%2 nodes=%3 remote-uids=%4")
                    .arg(QString::fromUtf8(m_options.nodeId), m_options.url.displayString())
                    .arg(m_nodes.size() + 1)
                    .arg(m_remote.size()));
            Q_EMIT linkChanged(true);
        });
}

void ClusterLink::loadNode(Node *node)
{
    node->loading = true;
    node->buffered.clear();
    const QByteArray id = node->id;
    m_cmd->command({"EVAL", SnapshotScript, "1", key("nodes"), Prefix, id},
        [this, id](const RedisReply &reply) {
            Node *n = m_nodes.value(id);
            if (!n || !n->loading || !m_up)
                return;
            if (reply.isError()) {
                if (!reply.isDisconnected())
                    m_cmd->reconnect(tr("presence snapshot failed: %1").arg(reply.errorString()));
                return;
            }
            applySnapshot(reply, n);
        });
}

void ClusterLink::applySnapshot(const RedisReply &reply, Node *only)
{
    if (!only)
        clearReplica();
    bool onlyFound = false;
    const QList<RedisReply> &e = reply.elements;
    for (qsizetype i = 0; i + 2 < e.size(); i += 3) {
        const QByteArray id = e[i].string;
        if (id == m_options.nodeId || (only && id != only->id))
            continue;
        Node *node = only ? only : addNode(id);
        if (!node)
            continue;
        QSet<QByteArray> fresh;
        fresh.reserve(e[i + 2].elements.size());
        for (const RedisReply &uid : e[i + 2].elements)
            fresh.insert(uid.string);
        node->version = e[i + 1].integer;
        node->seenVersion = node->version;
        node->loading = false;
        if (only) {
            // One node reloaded: tell the console what changed, uid by uid.
            onlyFound = true;
            const QString name = QString::fromUtf8(node->id);
            for (const QByteArray &uid : std::as_const(node->uids)) {
                if (!fresh.contains(uid)) {
                    setBit(uid, node, false);
                    Q_EMIT remoteUidOffline(uid, name);
                }
            }
            for (const QByteArray &uid : std::as_const(fresh)) {
                if (!node->uids.contains(uid)) {
                    setBit(uid, node, true);
                    Q_EMIT remoteUidOnline(uid, name);
                }
            }
        } else {
            for (const QByteArray &uid : std::as_const(fresh))
                setBit(uid, node, true);
        }
        node->uids = std::move(fresh);
        // What came in while loading, in order; the older part is in the
        // snapshot already.
        const QList<QByteArray> buffered = std::exchange(node->buffered, {});
        for (const QByteArray &event : buffered)
            presenceEvent(event);
    }
    if (only && !onlyFound) {
        removeNode(only->id); // gone in the meantime
        return;
    }
    if (!only)
        Q_EMIT presenceReset();
    Q_EMIT nodesChanged();
}

void ClusterLink::goDown(const QString &reason)
{
    const bool wasUp = m_up;
    m_up = false;
    m_registered = false;
    m_snapshotPending = false;
    m_earlyEvents.clear();
    clearReplica();
    if (wasUp) {
        ++m_metrics->clusterLinkLosses;
        m_outageReported = true;
        report(true,
            QStringLiteral("state=down node=%1 redis=%2 reason=\"%3\"")
                .arg(QString::fromUtf8(m_options.nodeId), m_options.url.displayString(),
                    reason + tr("; local delivery goes on, reconnecting")));
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
    if (m_up && now - m_lastEchoMs > 2 * m_tick.interval() + m_options.timeoutMs) {
        const qint64 silent = now - std::exchange(m_lastEchoMs, now);
        m_sub->reconnect(tr("no echo on the presence channel for %1 ms").arg(silent));
        return;
    }
    m_cmd->command({"PUBLISH", m_presenceChannel,
        "ping " + m_options.nodeId + ' ' + QByteArray::number(++m_pingSeq)});
    m_cmd->command(
        {"EVAL", TickScript, "2", key("nodes"), nodeKey(m_options.nodeId), m_options.nodeId,
            m_token, QByteArray::number(m_options.ttlMs), m_presenceChannel, Prefix},
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
    if (reply.elements.front().integer == 0) {
        // Our liveness key expired (this process stalled for longer than
        // the TTL, or Redis lost its data) or another process uses our id.
        report(true,
            QStringLiteral("state=rejoin node=%1 reason=\"%2\"")
                .arg(QString::fromUtf8(m_options.nodeId),
                    tr("this node's presence had expired in Redis (or another process uses the "
                       "same --node-id); registering again")));
        sendRegister();
    }
    if (!m_up)
        return;
    QSet<QByteArray> live;
    const QList<RedisReply> &e = reply.elements;
    for (qsizetype i = 1; i + 1 < e.size(); i += 2) {
        const QByteArray id = e[i].string;
        if (id == m_options.nodeId)
            continue;
        live.insert(id);
        const qint64 version = e[i + 1].integer;
        Node *node = m_nodes.value(id);
        if (!node) {
            // Its announcement was missed: load it.
            if ((node = addNode(id)))
                loadNode(node);
            continue;
        }
        // Announcements take milliseconds: one still missing a whole tick
        // later was lost.
        if (!node->loading && node->version < node->seenVersion)
            loadNode(node);
        node->seenVersion = version;
    }
    const QList<QByteArray> known = m_nodes.keys();
    for (const QByteArray &id : known) {
        if (!live.contains(id))
            removeNode(id);
    }
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
        const Node *node = m_byBit[size_t(bit)];
        if (!node)
            continue;
        ++tally->waiting;
        const bool queued =
            sendPublish(node->channel, message, [tally, settle](const RedisReply &reply) {
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
    if (!m_up || m_nodes.isEmpty() || m_remote.isEmpty()) {
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
        m_metrics->clusterSent += quint64(m_nodes.size());
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
                QStringLiteral("node=%1 publish=refused in-flight=%2 limit=%3 reason=\"%4\"")
                    .arg(QString::fromUtf8(m_options.nodeId))
                    .arg(m_inFlightBytes)
                    .arg(m_options.maxInFlightBytes)
                    .arg(tr("Redis answers slower than pushes come in; pushes that need it "
                            "answer fail until it catches up (--cluster-max-in-flight)")));
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
        if (m_snapshotPending) {
            m_earlyEvents.append(message);
            return;
        }
        presenceEvent(message);
        return;
    }
    if (channel == m_offlineChannel)
        Q_EMIT offlineMessageStored(message);
}

void ClusterLink::presenceEvent(const QByteArray &event)
{
    // "+ node version uid", "- node version uid", "up node version",
    // "down node", "ping node seq".
    const QList<QByteArray> parts = event.split(' ');
    if (parts.size() < 2)
        return;
    const QByteArray &op = parts[0];
    const QByteArray &id = parts[1];
    if (id == m_options.nodeId) {
        if (op == "ping")
            m_lastEchoMs = MonotonicClock::nowMs();
        return;
    }
    if (op == "ping" || !m_up)
        return;
    if (op == "down") {
        removeNode(id);
        return;
    }
    if (parts.size() < 3)
        return;
    const qint64 version = parts[2].toLongLong();
    Node *node = m_nodes.value(id);
    if (op == "up") {
        if (node && !node->loading && node->version >= version)
            return; // the snapshot already has it
        if (!node && !(node = addNode(id)))
            return;
        if (!node->loading)
            loadNode(node);
        node->buffered.append(event);
        return;
    }
    if ((op != "+" && op != "-") || parts.size() < 4)
        return;
    if (!node) {
        if (!(node = addNode(id)))
            return;
        loadNode(node);
    }
    if (node->loading) {
        node->buffered.append(event);
        return;
    }
    if (!applyEvent(node, op[0], version, parts[3])) {
        loadNode(node);
        node->buffered.append(event);
    }
}

bool ClusterLink::applyEvent(Node *node, char op, qint64 version, const QByteArray &uid)
{
    if (version <= node->version)
        return true; // in the snapshot already
    if (version != node->version + 1)
        return false; // a gap: reload
    node->version = version;
    if (op == '+') {
        if (!node->uids.contains(uid)) {
            node->uids.insert(uid);
            setBit(uid, node, true);
            Q_EMIT remoteUidOnline(uid, QString::fromUtf8(node->id));
        }
    } else if (node->uids.remove(uid)) {
        setBit(uid, node, false);
        Q_EMIT remoteUidOffline(uid, QString::fromUtf8(node->id));
    }
    return true;
}

ClusterLink::Node *ClusterLink::addNode(const QByteArray &id)
{
    if (Node *existing = m_nodes.value(id))
        return existing;
    int bit = -1;
    for (int i = 0; i < MaxNodes; ++i) {
        if (!m_byBit[size_t(i)]) {
            bit = i;
            break;
        }
    }
    if (bit < 0) {
        qCWarning(lcCluster) << "more than" << MaxNodes << "nodes; ignoring" << id;
        return nullptr;
    }
    auto *node = new Node;
    node->id = id;
    node->channel = nodeKey(id, "push");
    node->bit = bit;
    m_byBit[size_t(bit)] = node;
    m_nodes.insert(id, node);
    return node;
}

void ClusterLink::removeNode(const QByteArray &id)
{
    Node *node = m_nodes.take(id);
    if (!node)
        return;
    for (const QByteArray &uid : std::as_const(node->uids))
        setBit(uid, node, false);
    m_byBit[size_t(node->bit)] = nullptr;
    delete node;
    Q_EMIT presenceReset();
    Q_EMIT nodesChanged();
}

void ClusterLink::clearReplica()
{
    qDeleteAll(m_nodes);
    m_nodes.clear();
    m_byBit.fill(nullptr);
    m_remote.clear();
}

void ClusterLink::setBit(const QByteArray &uid, Node *node, bool on)
{
    const NodeMask bit = NodeMask(1) << node->bit;
    if (on) {
        m_remote[uid] |= bit;
        return;
    }
    const auto it = m_remote.find(uid);
    if (it == m_remote.end())
        return;
    it.value() &= ~bit;
    if (!it.value())
        m_remote.erase(it);
}

void ClusterLink::localUidChanged(const QByteArray &uid, bool online)
{
    // Not registered: the next registration sends the whole set.
    if (!m_registered || !m_cmd->isReady())
        return;
    m_cmd->command({"EVAL", ChangeScript, "2", nodeKey(m_options.nodeId, "uids"),
        nodeKey(m_options.nodeId, "ver"), m_options.nodeId, uid, m_presenceChannel,
        online ? QByteArrayView("+") : QByteArrayView("-")});
}

QList<ClusterNodeInfo> ClusterLink::nodes() const
{
    QList<ClusterNodeInfo> out;
    out.append({QString::fromUtf8(m_options.nodeId), m_registry->uidCount(), true});
    for (const Node *n : m_nodes)
        out.append({QString::fromUtf8(n->id), int(n->uids.size()), false});
    return out;
}

QStringList ClusterLink::remoteNodesOf(const QByteArray &uid) const
{
    QStringList out;
    NodeMask mask = nodesHolding(uid);
    while (mask) {
        const int bit = qCountTrailingZeroBits(mask);
        mask &= mask - 1;
        if (const Node *n = m_byBit[size_t(bit)])
            out.append(QString::fromUtf8(n->id));
    }
    return out;
}

QHash<QByteArray, QStringList> ClusterLink::remotePresence() const
{
    // The replica is emptied when the link goes down, and complete whenever
    // presenceReset() is emitted (even while the join is finishing).
    QHash<QByteArray, QStringList> out;
    out.reserve(m_remote.size());
    for (auto it = m_remote.cbegin(); it != m_remote.cend(); ++it)
        out.insert(it.key(), remoteNodesOf(it.key()));
    return out;
}

void ClusterLink::report(bool warning, const QString &detail)
{
    Event e;
    e.type = Event::Type::Cluster;
    e.level = warning ? Event::Level::Warning : Event::Level::Info;
    e.detail = detail;
    m_log->append(std::move(e));
}
