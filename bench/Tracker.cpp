#include "Tracker.h"

#include "Util.h"

#include <cstring>

namespace bench {

namespace {

// Reads the unsigned decimal at p (at most 19 digits); false if there is none.
bool readNumber(const char *&p, const char *end, uint64_t *out)
{
    const char *start = p;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
        v = v * 10 + uint64_t(*p++ - '0');
    *out = v;
    return p > start;
}

bool skip(const char *&p, const char *end, const char *literal)
{
    const size_t n = std::strlen(literal);
    if (size_t(end - p) < n || std::memcmp(p, literal, n) != 0)
        return false;
    p += n;
    return true;
}

} // namespace

bool Tracker::reply(uint64_t seq, Reply r, int64_t roundTripNs, int64_t now)
{
    if (seq >= m_state.size() || (m_state[seq] & Answered))
        return false;
    uint8_t &s = m_state[seq];
    s |= Answered;
    m_lastReply = now;
    switch (r) {
    case Reply::Ok:
        ++m_ok;
        s |= Ok;
        if (!(s & Received))
            ++m_outstanding;
        break;
    case Reply::Fail:
        ++m_fail;
        break;
    case Reply::Error:
        ++m_error;
        break;
    case Reply::Unanswered:
        ++m_unanswered;
        return false; // no round trip to record
    }
    m_roundTrip.record(roundTripNs);
    return r == Reply::Ok && !(s & Received);
}

bool Tracker::addressedTo(uint32_t client, const char *uid, size_t size) const
{
    if (size <= m_prefix.size() || std::memcmp(uid, m_prefix.data(), m_prefix.size()) != 0)
        return false;
    const char *p = uid + m_prefix.size();
    const char *end = uid + size;
    if (*p == '0' && end - p > 1)
        return false; // "b07" is not "b7"
    uint64_t n = 0;
    return readNumber(p, end, &n) && p == end && n == client;
}

Arrival Tracker::message(uint32_t client, const char *data, size_t size, int64_t now)
{
    Arrival result;
    // The bench wrote these lines itself, so a fixed layout is enough:
    // {"uid":"b17","seq":12,"t":345,...} or {"uid":"b17","probe":17}
    const char *p = data;
    const char *end = data + size;
    const char *uid = nullptr;
    const char *uidEnd = nullptr;
    uint64_t seq = 0, sentAt = 0;
    bool ok = skip(p, end, "{\"uid\":\"");
    if (ok) {
        uid = p;
        uidEnd = static_cast<const char *>(std::memchr(p, '"', size_t(end - p)));
        ok = uidEnd != nullptr;
    }
    if (ok) {
        p = uidEnd + 1;
        uint64_t number = 0;
        if (uidEnd - uid == 1 && *uid == '*' && skip(p, end, ",\"bcast\":")
            && readNumber(p, end, &number) && skip(p, end, ",\"t\":")
            && readNumber(p, end, &sentAt)) {
            ++m_broadcasts;
            m_broadcastLatency.record(now - int64_t(sentAt));
            result.kind = Arrival::Kind::Broadcast;
            result.seq = number;
            return result;
        }
        if (skip(p, end, ",\"probe\":")) {
            ok = readNumber(p, end, &seq);
            if (ok) {
                result.seq = seq;
                if (addressedTo(client, uid, size_t(uidEnd - uid))) {
                    ++m_probesDelivered;
                    result.kind = Arrival::Kind::Probe;
                } else {
                    ++m_misrouted;
                    result.kind = Arrival::Kind::Misrouted;
                }
                return result;
            }
        } else {
            ok = skip(p, end, ",\"seq\":") && readNumber(p, end, &seq) && skip(p, end, ",\"t\":")
                && readNumber(p, end, &sentAt) && seq < m_state.size();
        }
    }
    if (!ok) {
        ++m_malformed;
        if (m_firstMalformed.empty())
            m_firstMalformed = printable(data, size, 120);
        return result;
    }
    result.seq = seq;
    if (!addressedTo(client, uid, size_t(uidEnd - uid))) {
        ++m_misrouted;
        result.kind = Arrival::Kind::Misrouted;
        return result;
    }
    uint8_t &s = m_state[seq];
    if (s & Received) {
        ++m_duplicates;
        result.kind = Arrival::Kind::Duplicate;
        return result;
    }
    s |= Received;
    ++m_delivered;
    m_lastDelivery = now;
    result.kind = Arrival::Kind::Push;
    if (s & Ok) {
        --m_outstanding;
        result.settledOk = true;
    }
    result.latencyNs = now - int64_t(sentAt);
    m_latency.record(result.latencyNs);
    return result;
}

uint64_t Tracker::deliveredWithoutOk() const
{
    uint64_t n = 0;
    for (uint8_t s : m_state) {
        if ((s & Received) && !(s & Ok))
            ++n;
    }
    return n;
}

} // namespace bench
