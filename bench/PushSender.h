// The backend side: bind probes and pushes over the text push port, either
// pipelined over a few persistent connections or one connection per push
// like the seed's PHP code, optionally paced by a token bucket.
#pragma once

#include "Tracker.h"
#include "Util.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct Options;

// Where one push goes: the client (uid PREFIX<client>), which of its
// connections the bench expects it on, and the padded line length.
struct PushTarget
{
    uint32_t client = 0;
    uint32_t generation = 0;
    uint32_t payload = 0;
};

class PushSender
{
public:
    PushSender(Epoll &epoll, const Options &options, Tracker &tracker);

    // Bind probes: one pipelined connection; "fail" means not bound yet, so
    // the probe is sent again a millisecond later.
    std::function<void(uint32_t client, int64_t now)> probeOk;
    // False once a client has failed: its probe would say "fail" forever.
    std::function<bool(uint32_t client)> probeWanted;
    bool openProbes();
    void probe(uint32_t client);
    void closeProbes();

    // Soak mode (set before start()): the number of pushes is open-ended and
    // the soak picks the targets. directedTarget gives pushes that go out
    // whatever the pacing (the flood to a stalled client), pacedTarget one
    // target per token; either says false when it has none. replied reports
    // every push's outcome, with outstanding true for "ok, not arrived yet".
    std::function<bool(PushTarget *)> directedTarget;
    std::function<bool(PushTarget *)> pacedTarget;
    std::function<void(const PushTarget &, Reply, bool outstanding, int64_t now)> replied;
    // Soak: stop or resume issuing pushes (in-flight ones still complete).
    void setPaused(bool paused) { m_paused = paused; }
    uint64_t inFlight() const { return m_inFlight; }

    void start(int64_t now);
    // Sends what the window and the token bucket allow.
    void pump(int64_t now);
    void handle(uint64_t token, uint32_t events, int64_t now);
    // Every push was sent and answered, or no more can be.
    bool done() const { return m_inFlight == 0 && (m_next == m_total || m_serverGone); }
    // Something waits on the clock rather than on a socket.
    bool ticking() const;
    // Out of time: whatever is in flight stays unanswered.
    void abandon(int64_t now);

    uint64_t issued() const { return m_next; }
    uint64_t m_probesSent = 0, m_probeRetries = 0;
    uint64_t m_connectErrors = 0, m_portRetries = 0, m_connections = 0;
    bool m_serverGone = false;
    std::string m_fatal; // the run cannot go on
    std::string m_firstFailure;

private:
    struct Pending
    {
        uint64_t seq; // for probes: the client index
        int64_t sentAt;
        PushTarget target;
    };
    struct Conn
    {
        Fd fd;
        bool connected = false, dead = false, watchingWrite = true;
        std::string out, in;
        size_t outPos = 0;
        std::deque<Pending> inflight;
    };
    struct Slot
    {
        enum class State : uint8_t { Idle, Connecting, Writing, Reading };
        Fd fd;
        uint32_t generation = 0;
        State state = State::Idle;
        std::string line, in;
        size_t written = 0;
        uint64_t seq = 0;
        int64_t startedAt = 0, retryAt = 0;
    };

    bool openConn(Conn &c, uint64_t token, bool noDelay);
    void connHandle(Conn &c, uint64_t token, uint32_t events, bool probes, int64_t now);
    void connReply(Conn &c, const char *line, size_t size, bool probes, int64_t now);
    void connFlush(Conn &c, uint64_t token);
    void connKill(Conn &c, const std::string &why, bool probes, int64_t now);
    void pumpProbes(int64_t now);
    void pumpPipeline(int64_t now);
    void pumpSlots(int64_t now);
    void slotStart(uint32_t index, int64_t now);
    void slotHandle(uint32_t index, uint32_t events, int64_t now);
    void slotFinish(uint32_t index, Reply reply, int64_t now);
    bool takeToken();
    bool chooseTarget(uint64_t seq, PushTarget *target);
    PushTarget defaultTarget(uint64_t seq);
    void settle(const Pending &p, Reply reply, int64_t now);
    void appendLine(std::string &out, uint64_t seq, const PushTarget &target, int64_t now);
    void failure(const std::string &why);

    Epoll &m_epoll;
    const Options &m_options;
    Tracker &m_tracker;
    Random m_random;
    uint64_t m_total;
    uint64_t m_next = 0;
    uint64_t m_inFlight = 0;
    double m_tokens = 0;
    int64_t m_refilledAt = 0;
    uint32_t m_rotate = 0;
    bool m_started = false;
    bool m_paused = false;

    Conn m_probes;
    std::deque<uint32_t> m_probeQueue;
    std::deque<Pending> m_probeRetry; // client, when to probe again

    std::vector<Conn> m_conns;
    std::vector<Slot> m_slots;
};

} // namespace bench
