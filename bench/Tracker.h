// What happened to every push: its reply, its delivery, and the counters
// and latency histograms the report is made of. One byte of state per push.
#pragma once

#include "Histogram.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

enum class Reply { Ok, Fail, Error, Unanswered };

class Tracker
{
public:
    Tracker(uint64_t pushes, std::string uidPrefix)
        : m_state(pushes, 0)
        , m_prefix(std::move(uidPrefix))
    { }

    void sent() { ++m_sent; }
    // The reply to push seq, or Unanswered when its connection died first.
    void reply(uint64_t seq, Reply r, int64_t roundTripNs, int64_t now);
    // A text frame received by client `client`: a push, or a bind probe.
    void message(uint32_t client, const char *data, size_t size, int64_t now);
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
