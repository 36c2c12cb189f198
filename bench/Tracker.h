// What happened to every push: its reply, its delivery, and the counters
// and latency histograms the report is made of. One byte of state per push.
#pragma once

#include "Histogram.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

enum class Reply { Ok, Fail, Error, Unanswered };

// What a received text frame turned out to be, for the soak's per-client
// bookkeeping.
struct Arrival
{
    enum class Kind : uint8_t { Push, Probe, Duplicate, Misrouted, Malformed, Broadcast };
    Kind kind = Kind::Malformed;
    uint64_t seq = 0; // the push's seq, or the probe's number
    bool settledOk = false; // a push answered ok before it arrived: no longer outstanding
    int64_t latencyNs = 0; // a push: from the line written to the frame read
};

class Tracker
{
public:
    Tracker(uint64_t pushes, std::string uidPrefix)
        : m_state(pushes, 0)
        , m_prefix(std::move(uidPrefix))
    { }

    // Push seq is on its way. The soak does not know its push count in
    // advance, so the per-push state grows here (one byte per push).
    void sent(uint64_t seq)
    {
        ++m_sent;
        if (seq >= m_state.size())
            m_state.resize(seq + 1, 0);
    }
    // The reply to push seq, or Unanswered when its connection died first.
    // True when the push is now outstanding: "ok" and not received yet.
    bool reply(uint64_t seq, Reply r, int64_t roundTripNs, int64_t now);
    // A text frame received by client `client`: a push, or a bind probe.
    Arrival message(uint32_t client, const char *data, size_t size, int64_t now);
    // The soak's rule for slow consumers the server dropped: n outstanding
    // pushes will never arrive, and may not (see bench/README.md).
    void excuse(uint64_t n)
    {
        m_outstanding -= n;
        m_excused += n;
    }
    void noteError(const std::string &reply)
    {
        if (m_firstError.empty())
            m_firstError = reply;
    }

    // "ok" pushes not delivered (yet): after the grace period, the lost ones.
    uint64_t outstanding() const { return m_outstanding; }
    uint64_t resolved() const { return m_ok + m_fail + m_error + m_unanswered; }
    // Delivered pushes whose reply was not "ok": the server said one thing
    // and did another (or died before it could answer).
    uint64_t deliveredWithoutOk() const;

    uint64_t m_sent = 0, m_ok = 0, m_fail = 0, m_error = 0, m_unanswered = 0;
    uint64_t m_delivered = 0, m_duplicates = 0, m_misrouted = 0, m_malformed = 0;
    uint64_t m_probesDelivered = 0;
    // Broadcasts sent by someone else (bench/fanout.sh):
    // {"uid":"*","bcast":N,"t":T}, counted apart and never checked.
    uint64_t m_broadcasts = 0;
    Histogram m_broadcastLatency; // broadcast line written -> frame read
    uint64_t m_excused = 0; // ok but not delivered to a slow consumer the server dropped
    int64_t m_lastReply = 0, m_lastDelivery = 0;
    std::string m_firstError, m_firstMalformed;
    Histogram m_latency; // push line written -> frame read by its client
    Histogram m_roundTrip; // push line written (connect mode: connect()) -> reply read

private:
    enum : uint8_t { Answered = 1, Ok = 2, Received = 4 };
    bool addressedTo(uint32_t client, const char *uid, size_t size) const;

    std::vector<uint8_t> m_state;
    std::string m_prefix;
    uint64_t m_outstanding = 0;
};

} // namespace bench
