#include "RedisOfflineStore.h"

#include "ClusterLink.h"
#include "Logging.h"
#include "Metrics.h"
#include "RedisClient.h"

#include <QPointer>

#include <memory>

namespace {

// Entries of a uid's list are "seq stored-ms payload", oldest first. Its
// byte count (payloads only) expires with it. The index holds "seq size
// uid" scored by seq, oldest first, for the total caps and the purge; the
// total byte count is the sum of the index's sizes. Every script keeps the
// four in step. The metadata keys have a '-' where uid keys have a ':',
// so no uid can name one of them.
const QByteArray Prelude = QByteArrayLiteral(R"lua(
local function parse(item)
  local a = string.find(item, ' ', 1, true)
  local b = string.find(item, ' ', a + 1, true)
  return string.sub(item, 1, a - 1), tonumber(string.sub(item, a + 1, b - 1)), #item - b, b
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
)lua");

// KEYS: the uid's list, its bytes, index, sequence, total bytes.
// ARGV: uid, payload, ttl ms, max per uid, max total, max bytes per uid,
// max bytes, channel, key prefix. The caller refused a payload over the
// caps, so trimming never reaches the message just stored.
// Returns {dropped of this uid, dropped of all}.
const QByteArray StoreScript = Prelude + QByteArrayLiteral(R"lua(
local size = #ARGV[2]
local seq = redis.call('INCR', KEYS[4])
redis.call('RPUSH', KEYS[1], seq .. ' ' .. now() .. ' ' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local mine = redis.call('INCRBY', KEYS[2], size)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], seq, seq .. ' ' .. size .. ' ' .. ARGV[1])
local total = redis.call('INCRBY', KEYS[5], size)
local count = redis.call('LLEN', KEYS[1])
local perUid, perUidBytes = tonumber(ARGV[4]), tonumber(ARGV[6])
local own = 0
while count > 1 and (count > perUid or mine > perUidBytes) do
  local s, ms, len = parse(redis.call('LPOP', KEYS[1]))
  redis.call('ZREM', KEYS[3], s .. ' ' .. len .. ' ' .. ARGV[1])
  mine = redis.call('DECRBY', KEYS[2], len)
  total = redis.call('DECRBY', KEYS[5], len)
  count = count - 1
  own = own + 1
end
local maxTotal, maxBytes = tonumber(ARGV[5]), tonumber(ARGV[7])
local all = redis.call('ZCARD', KEYS[3])
local others = 0
while all > 1 and (all > maxTotal or total > maxBytes) do
  local m = redis.call('ZPOPMIN', KEYS[3])[1]
  local s, len, u = string.match(m, '^(%d+) (%d+) (.+)$')
  if tonumber(s) == seq then
    redis.call('ZADD', KEYS[3], seq, m)
    break
  end
  len = tonumber(len)
  local k = ARGV[9] .. 'offline:' .. u
  local head = redis.call('LINDEX', k, 0)
  -- An index entry whose list expired as a whole only goes.
  if head and parse(head) == s then
    redis.call('LPOP', k)
    local bk = ARGV[9] .. 'offline-bytes:' .. u
    if redis.call('DECRBY', bk, len) <= 0 or redis.call('EXISTS', k) == 0 then
      redis.call('DEL', bk)
    end
    others = others + 1
  end
  total = redis.call('DECRBY', KEYS[5], len)
  all = all - 1
end
redis.call('PUBLISH', ARGV[8], ARGV[1])
return {own, others}
)lua");

// Drops the uid's expired messages (at the head), then returns the ones
// after a sequence number, oldest first, up to a byte budget (at least
// one), without removing them.
// KEYS: the uid's list, its bytes, index, total bytes.
// ARGV: uid, after seq, max bytes, ttl ms.
// Returns {expired count, seq, payload, seq, payload, ...}.
const QByteArray FetchScript = Prelude + QByteArrayLiteral(R"lua(
local t, ttl = now(), tonumber(ARGV[4])
local expired = 0
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local s, ms, len = parse(head)
  if t - ms <= ttl then break end
  redis.call('LPOP', KEYS[1])
  redis.call('ZREM', KEYS[3], s .. ' ' .. len .. ' ' .. ARGV[1])
  redis.call('DECRBY', KEYS[4], len)
  redis.call('DECRBY', KEYS[2], len)
  expired = expired + 1
end
if expired > 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
end
local out = {expired}
local after, budget, bytes = tonumber(ARGV[2]), tonumber(ARGV[3]), 0
local i = 0
while true do
  local items = redis.call('LRANGE', KEYS[1], i, i + 7)
  if #items == 0 then return out end
  for _, item in ipairs(items) do
    local s, ms, len, b = parse(item)
    if tonumber(s) > after then
      if #out > 1 and bytes + len > budget then return out end
      out[#out + 1] = tonumber(s)
      out[#out + 1] = string.sub(item, b + 1)
      bytes = bytes + len
    end
  end
  i = i + 8
end
)lua");

// Removes the uid's messages up to a sequence number (handed over).
// KEYS: the uid's list, its bytes, index, total bytes. ARGV: uid, up to seq.
// Returns how many it removed.
const QByteArray AckScript = Prelude + QByteArrayLiteral(R"lua(
local upTo = tonumber(ARGV[2])
local n = 0
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local s, ms, len = parse(head)
  if tonumber(s) > upTo then break end
  redis.call('LPOP', KEYS[1])
  redis.call('ZREM', KEYS[3], s .. ' ' .. len .. ' ' .. ARGV[1])
  redis.call('DECRBY', KEYS[4], len)
  redis.call('DECRBY', KEYS[2], len)
  n = n + 1
end
if n > 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
end
return n
)lua");

// Drops messages older than the TTL, oldest of all first, with their index
// entries; index entries of lists that expired as a whole go too.
// KEYS: index, total bytes. ARGV: ttl ms, key prefix.
// Returns how many messages it dropped.
const QByteArray PurgeScript = Prelude + QByteArrayLiteral(R"lua(
local t, ttl = now(), tonumber(ARGV[1])
local expired = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, 999)) do
  local s, len, u = string.match(m, '^(%d+) (%d+) (.+)$')
  local k = ARGV[2] .. 'offline:' .. u
  local head = redis.call('LINDEX', k, 0)
  local gone = true
  if head then
    local hs, ms = parse(head)
    if hs == s then
      if t - ms <= ttl then break end -- the oldest of all is still fresh
      redis.call('LPOP', k)
      local bk = ARGV[2] .. 'offline-bytes:' .. u
      if redis.call('DECRBY', bk, tonumber(len)) <= 0 or redis.call('EXISTS', k) == 0 then
        redis.call('DEL', bk)
      end
    elseif tonumber(hs) < tonumber(s) then
      gone = false -- still in its list, behind an older one
    end
  end
  if gone then
    redis.call('ZREM', KEYS[1], m)
    redis.call('DECRBY', KEYS[2], tonumber(len))
    expired = expired + 1
  end
end
return expired
)lua");

const QByteArray Prefix = QByteArrayLiteral("pushconsole:");

} // namespace

QByteArray RedisOfflineStore::listKey(const QByteArray &uid)
{
    return Prefix + "offline:" + uid;
}

QByteArray RedisOfflineStore::bytesKey(const QByteArray &uid)
{
    return Prefix + "offline-bytes:" + uid;
}

QByteArray RedisOfflineStore::indexKey()
{
    return Prefix + "offline-index";
}

QByteArray RedisOfflineStore::totalBytesKey()
{
    return Prefix + "offline-bytes";
}

RedisOfflineStore::RedisOfflineStore(
    const Limits &limits, ClusterLink *link, Metrics *metrics, QObject *parent)
    : OfflineStore(limits, metrics, parent)
    , m_link(link)
{
    m_purge.setInterval(int(qBound(qint64(1000), m_limits.ttlMs / 4, qint64(60 * 1000))));
    connect(&m_purge, &QTimer::timeout, this, &RedisOfflineStore::purgeExpired);
    m_purge.start();
    connect(link, &ClusterLink::linkChanged, this, &OfflineStore::availabilityChanged);
    connect(link, &ClusterLink::offlineMessageStored, this, &OfflineStore::storedElsewhere);
}

bool RedisOfflineStore::isAvailable() const
{
    // Down, the node cannot tell "offline" from "on a node we cannot see".
    return m_link->isUp();
}

void RedisOfflineStore::store(
    const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done)
{
    const int n = int(uids.size());
    if (n == 0 || !isAvailable()) {
        if (done)
            done(0, n);
        return;
    }
    const qint64 size = payload.size();
    if (size > m_limits.largestMessage() || size * n > m_limits.maxBytes || n > m_limits.maxTotal) {
        refused(uids.front(), size, n);
        if (done)
            done(0, 0);
        return;
    }
    const QByteArray ttl = QByteArray::number(m_limits.ttlMs);
    const QByteArray perUid = QByteArray::number(m_limits.maxPerUid);
    const QByteArray total = QByteArray::number(m_limits.maxTotal);
    const QByteArray perUidBytes = QByteArray::number(m_limits.maxBytesPerUid);
    const QByteArray bytes = QByteArray::number(m_limits.maxBytes);
    const QByteArray index = indexKey();
    const QByteArray seq = Prefix + "offline-seq";
    const QByteArray totalBytes = totalBytesKey();
    const QByteArray channel = Prefix + "offline";
    // "Stored" means Redis ran the script: counted as the replies come.
    struct Tally
    {
        int waiting = 1; // one for the loop below
        int stored = 0;
        int failed = 0;
        StoreHandler done;
    };
    auto tally = std::make_shared<Tally>();
    tally->done = std::move(done);
    const auto settle = [tally] {
        if (--tally->waiting == 0 && tally->done)
            tally->done(tally->stored, tally->failed);
    };
    // Replies may come while the store goes away (at exit, as disconnected).
    const QPointer<RedisOfflineStore> self(this);
    Metrics *metrics = m_metrics;
    for (const QByteArray &uid : uids) {
        ++tally->waiting;
        // Each command holds the payload in hiredis's buffer until written:
        // one array push to thousands of offline uids, while Redis is slow,
        // must not grow the process past the cluster's in-flight cap.
        const QList<QByteArray> args = {"EVAL", StoreScript, "5", listKey(uid), bytesKey(uid),
            index, seq, totalBytes, uid, payload, ttl, perUid, total, perUidBytes, bytes, channel,
            Prefix};
        qint64 cost = ClusterLink::PublishOverhead;
        for (const QByteArray &arg : args)
            cost += arg.size();
        const bool sent = m_link->commandWithinBudget(
            args, cost, [self, metrics, tally, settle, uid](const RedisReply &reply) {
                if (reply.type == RedisReply::Type::Array && reply.elements.size() == 2) {
                    ++metrics->offlineStored;
                    ++tally->stored;
                    if (self)
                        self->dropped(
                            uid, int(reply.elements[0].integer), int(reply.elements[1].integer));
                } else {
                    ++tally->failed;
                    if (self)
                        self->failed(QStringLiteral("store"), reply.errorString());
                }
                settle();
            });
        if (!sent) {
            // Not connected, or past --cluster-max-in-flight (logged there).
            ++tally->failed;
            failed(QStringLiteral("store"),
                QStringLiteral("Redis is not connected or too far behind"));
            settle();
        }
    }
    settle();
}

void RedisOfflineStore::fetch(
    const QByteArray &uid, qint64 after, qint64 maxBytes, FetchHandler handler)
{
    const QPointer<RedisOfflineStore> self(this);
    Metrics *metrics = m_metrics;
    const bool sent = isAvailable()
        && m_link->commands()->command(
            {"EVAL", FetchScript, "4", listKey(uid), bytesKey(uid), indexKey(), totalBytesKey(),
                uid, QByteArray::number(after), QByteArray::number(maxBytes),
                QByteArray::number(m_limits.ttlMs)},
            [self, handler, metrics](const RedisReply &reply) {
                if (reply.type != RedisReply::Type::Array || reply.elements.isEmpty()
                    || reply.elements.size() % 2 != 1) {
                    if (self && !reply.isDisconnected())
                        self->failed(QStringLiteral("read"), reply.errorString());
                    handler(false, {});
                    return;
                }
                metrics->offlineExpired += quint64(reply.elements.front().integer);
                QList<Message> out;
                out.reserve((reply.elements.size() - 1) / 2);
                for (qsizetype i = 1; i + 1 < reply.elements.size(); i += 2)
                    out.append({reply.elements[i].integer, reply.elements[i + 1].string});
                handler(true, out);
            });
    if (!sent)
        handler(false, {});
}

void RedisOfflineStore::acknowledge(const QByteArray &uid, qint64 upTo)
{
    if (!isAvailable())
        return; // stays stored: delivered again on the next bind
    const QPointer<RedisOfflineStore> self(this);
    m_link->commands()->command({"EVAL", AckScript, "4", listKey(uid), bytesKey(uid), indexKey(),
                                    totalBytesKey(), uid, QByteArray::number(upTo)},
        [self](const RedisReply &reply) {
            if (reply.type != RedisReply::Type::Integer && self && !reply.isDisconnected())
                self->failed(QStringLiteral("acknowledge"), reply.errorString());
        });
}

void RedisOfflineStore::purgeExpired()
{
    if (!isAvailable())
        return;
    Metrics *metrics = m_metrics;
    m_link->commands()->command({"EVAL", PurgeScript, "2", indexKey(), totalBytesKey(),
                                    QByteArray::number(m_limits.ttlMs), Prefix},
        [metrics](const RedisReply &reply) {
            if (reply.type == RedisReply::Type::Integer)
                metrics->offlineExpired += quint64(reply.integer);
        });
}
