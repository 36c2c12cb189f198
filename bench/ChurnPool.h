// The soak's WebSocket clients: N uids whose connections come and go on one
// epoll loop. A client connects, binds its uid, and counts as bound only once
// a probe pushed to that uid arrives on this very connection (an older
// connection of the same uid may still be registered on the server). Bound
// clients are push targets. Now and then one leaves: it stops being a target,
// waits until every push to it that was answered "ok" has arrived, closes in
// one of three ways (close frame, FIN, RST) and binds again on a new
// connection. Others stop reading for a while (slow consumers, which the
// server may drop), and a few extra connections never send a uid at all
// (the server's bind timeout must close them).
#pragma once

#include "Histogram.h"
#include "PushSender.h"
#include "Tracker.h"
#include "Util.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

namespace bench {

struct Options;

class ChurnPool
{
public:
    enum class State : uint8_t {
        Idle, // never connected
        Queued, // waiting for a place in the connect window
        Connecting,
        Handshake,
        Binding, // uid frame not fully written yet
        Verifying, // uid written; probing until a probe arrives here
        Active, // bound, reading, a push target
        Stalled, // bound, a push target, not reading
        Leaving, // not a target; waiting for its "ok" pushes to arrive
        Closing, // sent a close frame; waiting for the echo and the server's FIN
        Gone, // connection closed; waiting for replies still in flight
        Count
    };
    enum CloseMode : uint8_t { CloseFrame, Fin, Reset, CloseModes };

    // Everything the report needs; every count is over the whole run.
    struct Stats
    {
        uint64_t binds = 0; // connections verified bound (the first ones included)
        uint64_t reprobes = 0; // probes answered ok that arrived elsewhere: probed again
        uint64_t leaves[CloseModes] = {}; // leaving clients, by how they closed
        uint64_t drainTimeouts = 0; // left before every "ok" push had arrived
        uint64_t lostAtLeave = 0; // "ok" pushes still missing when a client gave up
        uint64_t cleanNoEcho = 0; // close frame sent, FIN came without a close frame
        uint64_t closeTimeouts = 0; // close frame sent, no FIN within CloseTimeout
        uint64_t bindFailures = 0; // a connection that never got bound
        uint64_t unexpectedDrops = 0; // the server ended a connection that was reading
        uint64_t lostOnDrop = 0; // "ok" pushes missing on those connections
        uint64_t stalls = 0, stallsResumed = 0, floodPushes = 0;
        uint64_t slowDrops = 0; // stalled connections the server dropped
        uint64_t excusedOk = 0, excusedFails = 0; // pushes to those, not counted as lost
        uint64_t unexpectedFails = 0; // "fail" for a connection that stayed bound
        uint64_t failsAfterEnd = 0; // "fail" after a drain timeout or an unexpected drop
        uint64_t protocolErrors = 0;
        uint64_t pings = 0;
        uint64_t internalErrors = 0; // bookkeeping that does not add up: a bench bug
        uint64_t portRetries = 0;
        // Connections that never send a uid.
        uint64_t unboundOpened = 0, unboundClosed1008 = 0, unboundClosedOther = 0;
        uint64_t unboundLate = 0, unboundFailures = 0, unboundMessages = 0;
        int64_t unboundMinNs = -1, unboundMaxNs = -1; // open until the server closed it
        uint32_t maxOpen = 0; // most WebSocket connections open at once (both kinds)
        std::string firstFailure, firstDrop, firstProtocolError;
        Histogram rebind; // connect() to "probe arrived", for every bind after the first
        Histogram latency; // pushes to connections that never stalled
    };

    ChurnPool(Epoll &epoll, const Options &options, Tracker &tracker);

    // Send a bind probe for client's uid (set by the owner).
    std::function<void(uint32_t client)> probe;

    // Queues every client for its first connection.
    void connectAll(int64_t now);
    void handle(uint64_t token, uint32_t events, int64_t now);
    // Timers, the connect window, and (while churning) new leaves, stalls
    // and unbound connections.
    void tick(int64_t now);
    // When tick() next has something to do on its own, in ns from now.
    int64_t nextWakeNs(int64_t now) const;
    void setChurning(bool on, int64_t now);
    // Every client bound and reading, no stall or flood going, no unbound
    // connection open: the state in which RSS and descriptors are compared.
    bool settled() const;
    uint32_t inState(State s) const { return m_inState[size_t(s)]; }
    uint32_t open() const { return m_open + m_unboundOpen; }
    uint32_t unboundOpen() const { return m_unboundOpen; }
    // Closes every connection (half with FIN, half with RST) for good.
    void closeAll();
    // End of run: "fail" replies to connections still open are unexpected.
    void finish();

    // Hooks for the push sender.
    bool pacedTarget(PushTarget *t);
    bool directedTarget(PushTarget *t);
    void replied(const PushTarget &t, Reply r, bool outstanding, int64_t now);
    void probeAnswered(uint32_t client, int64_t now);
    bool probeWanted(uint32_t client) const;

    std::string m_fatal; // the run cannot go on (out of descriptors)
    Stats m_stats;

private:
    struct Client
    {
        Fd fd;
        std::string in; // unparsed bytes: the handshake response or a partial frame
        std::string out; // bytes the socket did not take yet
        char key[24];
        State state = State::Idle;
        bool watchingWrite = false;
        bool sawClose = false; // Closing: the server echoed our close frame
        bool endedSlow = false; // the last connection was a slow consumer the server dropped
        uint32_t generation = 0; // of the current (or last) connection
        uint32_t pending = 0; // pushes sent to this connection, not answered yet
        uint32_t outstanding = 0; // answered "ok", not arrived yet
        uint32_t fails = 0; // answered "fail", judged when the connection ends
        uint32_t activeIndex = NotActive; // position in m_active
        int64_t connectedAt = 0; // connect() of the current connection
        int64_t resumedAt = 0; // end of the last stall
    };
    struct Unbound
    {
        enum class State : uint8_t { Idle, Connecting, Handshake, Waiting, Closing };
        Fd fd;
        std::string in;
        char key[24];
        State state = State::Idle;
        uint32_t generation = 0;
        int64_t startedAt = 0;
    };
    enum class Timer : uint8_t {
        VerifyTimeout,
        Reprobe,
        StallEnd,
        DrainTimeout,
        CloseTimeout,
        UnboundDeadline
    };
    struct TimerEntry
    {
        int64_t at;
        uint32_t index;
        uint32_t generation;
        Timer what;
        bool operator>(const TimerEntry &o) const { return at > o.at; }
    };
    struct Flood
    {
        uint32_t client, generation, count;
    };
    static constexpr uint32_t NotActive = UINT32_MAX;

    void setState(uint32_t i, State s);
    void fill(int64_t now);
    void startConnect(uint32_t i, int64_t now);
    void clientEvent(uint32_t i, uint32_t events, int64_t now);
    void readable(uint32_t i, int64_t now, bool toTheEnd);
    void consume(uint32_t i, const char *data, size_t size, int64_t now);
    size_t frames(uint32_t i, const char *data, size_t size, int64_t now);
    size_t handshake(uint32_t i, const char *data, size_t size, int64_t now);
    void frame(uint32_t i, uint8_t opcode, bool fin, const char *payload, size_t size, int64_t now);
    void sendFrame(uint32_t i, uint8_t opcode, const char *payload, size_t size);
    void send(uint32_t i, const char *data, size_t size);
    void flush(uint32_t i);
    void updateInterest(uint32_t i);
    void uidWritten(uint32_t i);
    void becomeActive(uint32_t i, int64_t now);
    void startLeaving(uint32_t i, int64_t now);
    void checkDrained(uint32_t i, int64_t now);
    void closeWith(uint32_t i, int64_t now);
    void startStall(uint32_t i, int64_t now);
    void endStall(uint32_t i, int64_t now);
    void dropFlood(uint32_t i);
    // The server (or the network) ended the connection: judge what was missing.
    void ended(uint32_t i, const std::string &why, int64_t now);
    void closeFd(uint32_t i, bool reset);
    void gone(uint32_t i);
    void addActive(uint32_t i);
    void removeActive(uint32_t i);
    bool pickActive(uint32_t *i);
    void timer(Timer what, uint32_t index, uint32_t generation, int64_t at);
    void fire(const TimerEntry &t, int64_t now);
    void noteFailure(std::string *first, uint32_t i, const std::string &why);

    void startUnbound(uint32_t j, int64_t now);
    void unboundEvent(uint32_t j, uint32_t events, int64_t now);
    void unboundClosed(uint32_t j, int64_t now, bool withCloseFrame, int code);
    void unboundEnd(uint32_t j);

    Epoll &m_epoll;
    const Options &m_options;
    Tracker &m_tracker;
    std::vector<Client> m_clients;
    std::vector<Unbound> m_unbound;
    std::vector<uint32_t> m_active; // push targets: Active and Stalled clients
    std::deque<uint32_t> m_queue; // waiting to connect
    std::deque<Flood> m_flood; // pushes owed to stalled clients
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> m_timers;
    uint32_t m_inState[size_t(State::Count)] = {};
    Random m_random; // masks and keys
    Random m_choice; // who leaves, who stalls: reproducible with --seed
    uint32_t m_inWindow = 0; // between connect() and bound
    uint32_t m_open = 0, m_unboundOpen = 0;
    uint32_t m_nextMode = 0;
    bool m_churning = false, m_closedAll = false;
    double m_churnTokens = 0, m_stallTokens = 0;
    int64_t m_lastTick = 0, m_retryAt = 0;
};

} // namespace bench
