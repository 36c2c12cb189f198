#include "ClusterScripts.h"

#include "RedisClient.h"

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

// The script's text without a copy: it is sent with every call.
template<size_t N>
QByteArray text(const char (&script)[N])
{
    return QByteArray::fromRawData(script, qsizetype(N - 1));
}

} // namespace

namespace ClusterScripts {

QByteArray key(const QByteArray &suffix)
{
    return Prefix + suffix;
}

QByteArray nodeKey(const QByteArray &node, const char *suffix)
{
    QByteArray k = Prefix + "node:" + node;
    if (suffix) {
        k += ':';
        k += suffix;
    }
    return k;
}

QList<QByteArray> change(
    const QByteArray &node, const QByteArray &uid, const QByteArray &channel, bool online)
{
    return {QByteArrayLiteral("EVAL"), text(ChangeScript), "2", nodeKey(node, "uids"),
        nodeKey(node, "ver"), node, uid, channel,
        online ? QByteArrayLiteral("+") : QByteArrayLiteral("-")};
}

QList<QByteArray> registerNode(const QByteArray &node, const QByteArray &token, qint64 ttlMs,
    const QByteArray &channel, const QList<QByteArray> &uids)
{
    QList<QByteArray> args = {QByteArrayLiteral("EVAL"), text(RegisterScript), "4", key("nodes"),
        nodeKey(node), nodeKey(node, "uids"), nodeKey(node, "ver"), node, token,
        QByteArray::number(ttlMs), channel};
    args.reserve(args.size() + uids.size());
    args.append(uids);
    return args;
}

QList<QByteArray> tick(
    const QByteArray &node, const QByteArray &token, qint64 ttlMs, const QByteArray &channel)
{
    return {QByteArrayLiteral("EVAL"), text(TickScript), "2", key("nodes"), nodeKey(node), node,
        token, QByteArray::number(ttlMs), channel, Prefix};
}

QList<QByteArray> snapshot(const QByteArray &node)
{
    return {QByteArrayLiteral("EVAL"), text(SnapshotScript), "1", key("nodes"), Prefix, node};
}

QList<QByteArray> leave(const QByteArray &node, const QByteArray &token, const QByteArray &channel)
{
    return {QByteArrayLiteral("EVAL"), text(LeaveScript), "4", key("nodes"), nodeKey(node),
        nodeKey(node, "uids"), nodeKey(node, "ver"), node, token, channel};
}

QList<PresenceReplica::NodeSnapshot> snapshotReply(const RedisReply &reply)
{
    // id, version, [uids] per node.
    QList<PresenceReplica::NodeSnapshot> nodes;
    const QList<RedisReply> &e = reply.elements;
    nodes.reserve(e.size() / 3);
    for (qsizetype i = 0; i + 2 < e.size(); i += 3) {
        PresenceReplica::NodeSnapshot node;
        node.id = e[i].string;
        node.version = e[i + 1].integer;
        node.uids.reserve(e[i + 2].elements.size());
        for (const RedisReply &uid : e[i + 2].elements)
            node.uids.insert(uid.string);
        nodes.append(std::move(node));
    }
    return nodes;
}

TickReply tickReply(const RedisReply &reply)
{
    // renewed, then id, version per live node.
    TickReply out;
    const QList<RedisReply> &e = reply.elements;
    if (e.isEmpty())
        return out;
    out.renewed = e.front().integer != 0;
    out.live.reserve(e.size() / 2);
    for (qsizetype i = 1; i + 1 < e.size(); i += 2)
        out.live.append({e[i].string, e[i + 1].integer});
    return out;
}

} // namespace ClusterScripts
