#include "RedisOfflineStore.h"

#include "ClusterLink.h"
#include "Logging.h"
#include "Metrics.h"
#include "RedisClient.h"

#include <memory>

namespace {

// Entries are "seq stored-ms payload"; the index holds "seq uid" scored by
// the time Redis stored it, oldest first, for the total cap and the purge.
// KEYS: the uid's list, index, sequence. ARGV: uid, payload, ttl ms,
// max per uid, max total, channel, key prefix. Returns how many it dropped.
const char StoreScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seq = redis.call('INCR', KEYS[3])
redis.call('RPUSH', KEYS[1], seq .. ' ' .. now .. ' ' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, seq .. ' ' .. ARGV[1])
local dropped = 0
local perUid = tonumber(ARGV[4])
while perUid > 0 and redis.call('LLEN', KEYS[1]) > perUid do
  local old = redis.call('LPOP', KEYS[1])
  redis.call('ZREM', KEYS[2], string.match(old, '^(%d+) ') .. ' ' .. ARGV[1])
  dropped = dropped + 1
end
local total = tonumber(ARGV[5])
while total > 0 and redis.call('ZCARD', KEYS[2]) > total do
  local m = redis.call('ZPOPMIN', KEYS[2])
  local s, u = string.match(m[1], '^(%d+) (.+)$')
  local k = ARGV[7] .. 'offline:' .. u
  local head = redis.call('LINDEX', k, 0)
  -- An index entry whose message is gone (taken, expired) only goes.
  if head and string.match(head, '^(%d+) ') == s then
    redis.call('LPOP', k)
    dropped = dropped + 1
  end
end
redis.call('PUBLISH', ARGV[6], ARGV[1])
return dropped
)lua";

// Removes and returns a uid's messages that have not expired, oldest first.
// KEYS: the uid's list, index. ARGV: uid, ttl ms.
// Returns {expired count, payload...}.
const char TakeScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
local out = {0}
for _, item in ipairs(items) do
  local s, ms, payload = string.match(item, '^(%d+) (%d+) (.*)$')
  redis.call('ZREM', KEYS[2], s .. ' ' .. ARGV[1])
  if now - tonumber(ms) <= tonumber(ARGV[2]) then
    table.insert(out, payload)
  else
    out[1] = out[1] + 1
  end
end
return out
)lua";

// Drops messages older than the TTL from the heads of their lists (a list
// lives as long as its newest message) and their index entries.
// KEYS: index. ARGV: ttl ms, key prefix. Returns how many messages it dropped.
const char PurgeScript[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, 1000)
local dropped = 0
for _, m in ipairs(old) do
  local s, u = string.match(m, '^(%d+) (.+)$')
  local k = ARGV[2] .. 'offline:' .. u
  local head = redis.call('LINDEX', k, 0)
  if head and string.match(head, '^(%d+) ') == s then
    redis.call('LPOP', k)
    dropped = dropped + 1
  end
  redis.call('ZREM', KEYS[1], m)
end
return dropped
)lua";

const QByteArray Prefix = QByteArrayLiteral("pushconsole:");

} // namespace

RedisOfflineStore::RedisOfflineStore(
    const Limits &limits, ClusterLink *link, Metrics *metrics, QObject *parent)
    : OfflineStore(limits, metrics, parent)
    , m_link(link)
{
    m_purge.setInterval(int(qBound(qint64(1000), m_limits.ttlMs / 4, qint64(60 * 1000))));
    connect(&m_purge, &QTimer::timeout, this, &RedisOfflineStore::purgeExpired);
    m_purge.start();
}

bool RedisOfflineStore::isAvailable() const
{
    // Down, the node cannot tell "offline" from "on a node we cannot see".
    return m_link->isUp();
}

void RedisOfflineStore::store(
    const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done)
{
    if (!isAvailable() || uids.isEmpty()) {
        if (done)
            done(0);
        return;
    }
    RedisClient *redis = m_link->commands();
    const QByteArray ttl = QByteArray::number(m_limits.ttlMs);
    const QByteArray perUid = QByteArray::number(m_limits.maxPerUid);
    const QByteArray total = QByteArray::number(m_limits.maxTotal);
    const QByteArray index = Prefix + "offline:index";
    const QByteArray seq = Prefix + "offline:seq";
    const QByteArray channel = Prefix + "offline";
    // "Stored" means Redis ran the script: counted as the replies come.
    struct Tally
    {
        int waiting = 1; // one for the loop below
        int stored = 0;
        StoreHandler done;
    };
    auto tally = std::make_shared<Tally>();
    tally->done = std::move(done);
    Metrics *metrics = m_metrics;
    const auto settle = [tally] {
        if (--tally->waiting == 0 && tally->done)
            tally->done(tally->stored);
    };
    for (const QByteArray &uid : uids) {
        ++tally->waiting;
        const bool sent =
            redis->command({"EVAL", StoreScript, "3", Prefix + "offline:" + uid, index, seq, uid,
                               payload, ttl, perUid, total, channel, Prefix},
                [metrics, tally, settle](const RedisReply &reply) {
                    if (reply.type == RedisReply::Type::Integer) {
                        metrics->offlineDropped += quint64(reply.integer);
                        ++metrics->offlineStored;
                        ++tally->stored;
                    } else if (!reply.isDisconnected()) {
                        qCWarning(lcCluster) << "offline store:" << reply.errorString();
                    }
                    settle();
                });
        if (!sent)
            settle();
    }
    settle();
}

void RedisOfflineStore::take(const QByteArray &uid, TakeHandler handler)
{
    Metrics *metrics = m_metrics;
    const bool sent = isAvailable()
        && m_link->commands()->command(
            {"EVAL", TakeScript, "2", Prefix + "offline:" + uid, Prefix + "offline:index", uid,
                QByteArray::number(m_limits.ttlMs)},
            [handler, metrics](const RedisReply &reply) {
                QList<QByteArray> out;
                if (reply.type == RedisReply::Type::Array && !reply.elements.isEmpty()) {
                    metrics->offlineExpired += quint64(reply.elements.front().integer);
                    out.reserve(reply.elements.size() - 1);
                    for (qsizetype i = 1; i < reply.elements.size(); ++i)
                        out.append(reply.elements[i].string);
                } else if (!reply.isDisconnected()) {
                    qCWarning(lcCluster) << "offline take:" << reply.errorString();
                }
                handler(out);
            });
    if (!sent)
        handler({});
}

void RedisOfflineStore::purgeExpired()
{
    if (!isAvailable())
        return;
    Metrics *metrics = m_metrics;
    m_link->commands()->command({"EVAL", PurgeScript, "1", Prefix + "offline:index",
                                    QByteArray::number(m_limits.ttlMs), Prefix},
        [metrics](const RedisReply &reply) {
            if (reply.type == RedisReply::Type::Integer)
                metrics->offlineExpired += quint64(reply.integer);
        });
}
