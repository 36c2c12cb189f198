#include "ChurnPool.h"

#include "Options.h"
#include "WsProtocol.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace bench {

namespace {

// Only pongs, the uid and a close frame are ever queued by a client.
constexpr size_t MaxOutput = 64 * 1024;
constexpr int64_t Ms = 1000 * 1000;
constexpr int64_t Second = 1000 * Ms;
constexpr int64_t PortRetryNs = 10 * Ms;
// From connect() to a probe arriving; far above any bind on a loaded machine.
constexpr int64_t VerifyTimeoutNs = 20 * Second;
// A probe answered "ok" normally arrives within a millisecond; when it does
// not, an older connection of the uid got it, and a new probe is due.
constexpr int64_t ReprobeNs = 100 * Ms;
// The server closes its side right after echoing a close frame.
constexpr int64_t CloseTimeoutNs = 5 * Second;
// A server may drop a slow consumer just as it starts reading again.
constexpr int64_t ResumeGraceNs = 1 * Second;
// The server checks bind deadlines once a second; the machine may be busy.
constexpr int64_t UnboundSlackNs = 5 * Second;
// Lines pushed to a stalled client, so that its queue grows fast.
constexpr uint32_t FloodPayload = 16 * 1024;
// A fixed, small receive buffer (no autotuning up to tcp_rmem's 32 MiB): a
// client that stops reading backs up into the server's queue after a few
// KiB, as a slow phone would, instead of after megabytes of kernel buffer.
// Pushes are short lines, so readers never notice it.
constexpr int ReceiveBuffer = 16 * 1024;

char scratch[256 * 1024];

} // namespace

ChurnPool::ChurnPool(Epoll &epoll, const Options &options, Tracker &tracker)
    : m_epoll(epoll)
    , m_options(options)
    , m_tracker(tracker)
    , m_clients(options.clients)
    , m_unbound(options.unbound)
    , m_random(systemRandom())
    , m_choice(options.seed)
{
    m_inState[size_t(State::Idle)] = options.clients;
}

void ChurnPool::setState(uint32_t i, State s)
{
    Client &c = m_clients[i];
    --m_inState[size_t(c.state)];
    ++m_inState[size_t(s)];
    c.state = s;
}

void ChurnPool::noteFailure(std::string *first, uint32_t i, const std::string &why)
{
    if (!first->empty())
        return;
    *first = m_options.uidPrefix;
    appendNumber(*first, i);
    *first += ": " + why;
}

void ChurnPool::timer(Timer what, uint32_t index, uint32_t generation, int64_t at)
{
    m_timers.push({at, index, generation, what});
}

void ChurnPool::connectAll(int64_t now)
{
    for (uint32_t i = 0; i < m_clients.size(); ++i) {
        setState(i, State::Queued);
        m_queue.push_back(i);
    }
    m_lastTick = now;
    fill(now);
}

void ChurnPool::setChurning(bool on, int64_t now)
{
    m_churning = on;
    m_churnTokens = m_stallTokens = 0;
    m_lastTick = now;
}

bool ChurnPool::settled() const
{
    return m_inState[size_t(State::Active)] == m_clients.size() && m_flood.empty()
        && m_unboundOpen == 0;
}

int64_t ChurnPool::nextWakeNs(int64_t now) const
{
    int64_t next = INT64_MAX;
    if (!m_timers.empty())
        next = m_timers.top().at;
    if (m_retryAt)
        next = std::min(next, m_retryAt);
    return next == INT64_MAX ? INT64_MAX : std::max<int64_t>(0, next - now);
}

void ChurnPool::tick(int64_t now)
{
    while (!m_timers.empty() && m_timers.top().at <= now) {
        const TimerEntry t = m_timers.top();
        m_timers.pop();
        fire(t, now);
    }
    if (m_churning && !m_closedAll) {
        const double dt = double(now - m_lastTick) / 1e9;
        // Caught up after a late wake-up, but never in a burst of more than
        // a tenth of a second's worth.
        m_churnTokens = std::min(m_churnTokens + m_options.churn * dt, m_options.churn * 0.1 + 1);
        m_stallTokens =
            std::min(m_stallTokens + m_options.stallRate * dt, m_options.stallRate * 0.1 + 1);
        uint32_t i = 0;
        for (; m_churnTokens >= 1; m_churnTokens -= 1) {
            if (pickActive(&i))
                startLeaving(i, now);
        }
        for (; m_stallTokens >= 1; m_stallTokens -= 1) {
            if (pickActive(&i))
                startStall(i, now);
        }
        for (uint32_t j = 0; j < m_unbound.size(); ++j) {
            if (m_unbound[j].state == Unbound::State::Idle)
                startUnbound(j, now);
        }
    }
    m_lastTick = now;
    fill(now);
}

bool ChurnPool::pickActive(uint32_t *out)
{
    // A few draws among the targets; stalled ones neither leave nor stall again.
    for (int tries = 0; tries < 8 && !m_active.empty(); ++tries) {
        const uint32_t i = m_active[m_choice.next() % m_active.size()];
        if (m_clients[i].state == State::Active) {
            *out = i;
            return true;
        }
    }
    return false;
}

void ChurnPool::fire(const TimerEntry &t, int64_t now)
{
    if (t.what == Timer::UnboundDeadline) {
        Unbound &u = m_unbound[t.index];
        if (u.generation != t.generation || u.state == Unbound::State::Idle)
            return;
        // Still open long after the bind timeout: the server never closed it.
        ++m_stats.unboundLate;
        unboundEnd(t.index);
        return;
    }
    Client &c = m_clients[t.index];
    if (c.generation != t.generation)
        return;
    switch (t.what) {
    case Timer::VerifyTimeout:
        if (c.state >= State::Connecting && c.state <= State::Verifying) {
            ++m_stats.bindFailures;
            noteFailure(&m_stats.firstFailure, t.index, "not bound 20 s after connect()");
            --m_inWindow;
            closeFd(t.index, true);
            gone(t.index);
        }
        return;
    case Timer::Reprobe:
        if (c.state == State::Verifying) {
            ++m_stats.reprobes;
            probe(t.index);
        }
        return;
    case Timer::StallEnd:
        if (c.state == State::Stalled)
            endStall(t.index, now);
        return;
    case Timer::DrainTimeout:
        if (c.state == State::Leaving) {
            // Give up: what is still missing is lost, and stays counted so.
            ++m_stats.drainTimeouts;
            m_stats.lostAtLeave += c.outstanding;
            c.outstanding = 0;
            closeWith(t.index, now);
        }
        return;
    case Timer::CloseTimeout:
        if (c.state == State::Closing) {
            ++m_stats.closeTimeouts;
            noteFailure(&m_stats.firstFailure, t.index, "no FIN 5 s after our close frame");
            closeFd(t.index, true);
            gone(t.index);
        }
        return;
    case Timer::UnboundDeadline:
        return;
    }
}

void ChurnPool::fill(int64_t now)
{
    if (m_retryAt) {
        if (now < m_retryAt)
            return;
        m_retryAt = 0;
    }
    while (!m_queue.empty() && m_inWindow < m_options.connectWindow && m_fatal.empty()
        && !m_closedAll) {
        const uint32_t i = m_queue.front();
        startConnect(i, now);
        if (m_retryAt || !m_fatal.empty())
            return;
        m_queue.pop_front();
    }
}

void ChurnPool::startConnect(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    int err = 0;
    const int fd = connectLoopback(m_options.wsPort, true, &err, ReceiveBuffer);
    if (fd < 0) {
        if (err == EADDRNOTAVAIL || err == EAGAIN) {
            // Every ephemeral port in use or in TIME_WAIT: wait a little.
            ++m_stats.portRetries;
            m_retryAt = now + PortRetryNs;
        } else if (err == EMFILE || err == ENFILE) {
            m_fatal = "out of file descriptors";
        } else {
            ++m_stats.bindFailures;
            noteFailure(&m_stats.firstFailure, i, "connect: " + errorText(err));
            m_retryAt = now + PortRetryNs;
        }
        return;
    }
    c.fd.reset(fd);
    ++m_open;
    m_stats.maxOpen = std::max(m_stats.maxOpen, open());
    c.generation = (c.generation + 1) & 0xFFFFFF;
    c.in.clear();
    c.out.clear();
    c.watchingWrite = true; // until connected: only the end of connect() matters
    c.sawClose = false;
    c.endedSlow = false;
    c.connectedAt = now;
    c.resumedAt = 0;
    ++m_inWindow;
    setState(i, State::Connecting);
    timer(Timer::VerifyTimeout, i, c.generation, now + VerifyTimeoutNs);
    if (!m_epoll.add(fd, EPOLLOUT, makeToken(Kind::SoakClient, c.generation, i)))
        m_fatal = "epoll_ctl: " + errorText(errno);
}

void ChurnPool::handle(uint64_t token, uint32_t events, int64_t now)
{
    const uint32_t index = tokenIndex(token);
    if (tokenKind(token) == Kind::Unbound) {
        if (index < m_unbound.size() && m_unbound[index].generation == tokenGeneration(token))
            unboundEvent(index, events, now);
        return;
    }
    // An event for a descriptor closed earlier in the same batch carries the
    // old generation.
    if (index < m_clients.size() && m_clients[index].generation == tokenGeneration(token)
        && m_clients[index].fd.valid())
        clientEvent(index, events, now);
}

void ChurnPool::clientEvent(uint32_t i, uint32_t events, int64_t now)
{
    Client &c = m_clients[i];
    if (c.state == State::Connecting) {
        if (const int err = socketError(c.fd.get())) {
            ended(i, "connect: " + errorText(err), now);
            return;
        }
        const std::string key = ws::newKey(m_random);
        std::memcpy(c.key, key.data(), sizeof c.key);
        const std::string request = ws::upgradeRequest(m_options.wsPort, key);
        setState(i, State::Handshake);
        c.watchingWrite = false;
        updateInterest(i);
        send(i, request.data(), request.size());
        return;
    }
    if (events & EPOLLOUT)
        flush(i);
    if (!c.fd.valid())
        return;
    if (c.state == State::Stalled) {
        // Not reading, so only an error or hang-up wakes it: the server
        // dropped it. Take what did arrive, then judge the rest.
        if (events & (EPOLLERR | EPOLLHUP))
            readable(i, now, true);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        readable(i, now, false);
}

void ChurnPool::readable(uint32_t i, int64_t now, bool toTheEnd)
{
    Client &c = m_clients[i];
    const uint32_t generation = c.generation;
    // Level-triggered: a few reads per wake-up keep one busy client from
    // starving the others; the rest comes on the next round.
    for (int round = 0; (toTheEnd || round < 4) && c.fd.valid() && c.generation == generation;
         ++round) {
        const ssize_t n = ::recv(c.fd.get(), scratch, sizeof scratch, 0);
        if (n > 0) {
            consume(i, scratch, size_t(n), now);
            if (size_t(n) < sizeof scratch && !toTheEnd)
                return;
            continue;
        }
        if (n == 0) {
            ended(i, "connection closed by the server", now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            ended(i, "read: " + errorText(errno), now);
        return;
    }
}

void ChurnPool::consume(uint32_t i, const char *data, size_t size, int64_t now)
{
    Client &c = m_clients[i];
    const uint32_t generation = c.generation;
    const auto same = [&] { return c.fd.valid() && c.generation == generation; };
    // Usual case: whole frames, parsed straight from the read buffer.
    if (c.in.empty() && c.state != State::Handshake) {
        const size_t used = frames(i, data, size, now);
        if (same() && used < size)
            c.in.assign(data + used, size - used);
        return;
    }
    if (c.in.size() + size > ws::MaxFrame + sizeof scratch) {
        ++m_stats.protocolErrors;
        noteFailure(&m_stats.firstProtocolError, i, "frame larger than 32 MiB");
        ended(i, "protocol: frame larger than 32 MiB", now);
        return;
    }
    c.in.append(data, size);
    size_t used = 0;
    if (c.state == State::Handshake) {
        used = handshake(i, c.in.data(), c.in.size(), now);
        if (!same() || c.state == State::Handshake)
            return; // refused, or the response is not complete yet
    }
    used += frames(i, c.in.data() + used, c.in.size() - used, now);
    if (!same())
        return;
    if (used == c.in.size())
        std::string().swap(c.in); // give the memory back: thousands of idle clients
    else
        c.in.erase(0, used);
}

size_t ChurnPool::frames(uint32_t i, const char *data, size_t size, int64_t now)
{
    const Client &c = m_clients[i];
    const uint32_t generation = c.generation;
    size_t pos = 0;
    // A frame may end the connection (and free the buffer data points into).
    while (c.fd.valid() && c.generation == generation) {
        ws::Frame f;
        size_t used = 0;
        const char *error = "";
        const ws::FrameResult r = ws::parseFrame(data + pos, size - pos, &f, &used, &error);
        if (r == ws::FrameResult::NeedMore)
            break;
        if (r == ws::FrameResult::Bad) {
            ++m_stats.protocolErrors;
            noteFailure(&m_stats.firstProtocolError, i, error);
            ended(i, error, now);
            return size;
        }
        pos += used;
        frame(i, f.opcode, f.fin, f.payload, f.size, now);
    }
    return pos;
}

size_t ChurnPool::handshake(uint32_t i, const char *data, size_t size, int64_t now)
{
    Client &c = m_clients[i];
    size_t headerSize = 0;
    std::string error;
    switch (ws::checkResponse(data, size, c.key, &headerSize, &error)) {
    case ws::Handshake::Incomplete:
        return 0;
    case ws::Handshake::Bad:
        ++m_stats.protocolErrors;
        noteFailure(&m_stats.firstProtocolError, i, error);
        ended(i, error, now);
        return 0;
    case ws::Handshake::Ok:
        break;
    }
    setState(i, State::Binding);
    std::string uid = m_options.uidPrefix;
    appendNumber(uid, i);
    sendFrame(i, ws::Text, uid.data(), uid.size());
    if (c.fd.valid() && c.state == State::Binding && c.out.empty())
        uidWritten(i);
    return headerSize;
}

void ChurnPool::uidWritten(uint32_t i)
{
    setState(i, State::Verifying);
    probe(i);
}

void ChurnPool::frame(
    uint32_t i, uint8_t opcode, bool fin, const char *payload, size_t size, int64_t now)
{
    Client &c = m_clients[i];
    switch (opcode) {
    case ws::Text: {
        if (!fin) {
            // The contract: every push is one unfragmented text frame.
            ++m_stats.protocolErrors;
            noteFailure(&m_stats.firstProtocolError, i, "fragmented text message");
            ended(i, "protocol: fragmented text message", now);
            return;
        }
        const Arrival a = m_tracker.message(i, payload, size, now);
        if (a.kind == Arrival::Kind::Probe) {
            if (c.state == State::Verifying)
                becomeActive(i, now);
        } else if (a.kind == Arrival::Kind::Push) {
            // A stall delays every push to it by up to --stall: keep that
            // out of the latency of everybody else.
            if (c.state != State::Stalled && c.resumedAt == 0)
                m_stats.latency.record(a.latencyNs);
            if (a.settledOk) {
                if (c.outstanding > 0)
                    --c.outstanding;
                else
                    ++m_stats.internalErrors;
                checkDrained(i, now);
            }
        }
        return;
    }
    case ws::Ping:
        if (!fin || size > 125) {
            ++m_stats.protocolErrors;
            noteFailure(&m_stats.firstProtocolError, i, "invalid ping frame");
            ended(i, "protocol: invalid ping frame", now);
            return;
        }
        ++m_stats.pings;
        if (c.state != State::Closing) // nothing but the close goes out after ours
            sendFrame(i, ws::Pong, payload, size);
        return;
    case ws::Pong:
        return; // unsolicited pong: allowed, nothing to do
    case ws::Close:
        if (c.state == State::Closing) {
            c.sawClose = true; // the echo of ours; the FIN follows
            return;
        }
        // The server closes: echo the code (RFC 6455 5.5.1), and judge.
        sendFrame(i, ws::Close, payload, std::min<size_t>(size, 2));
        ended(i, ws::describeClose(payload, size), now);
        return;
    default:
        ++m_stats.protocolErrors;
        noteFailure(&m_stats.firstProtocolError, i,
            opcode == ws::Binary             ? "unexpected binary frame"
                : opcode == ws::Continuation ? "unexpected continuation frame"
                                             : "unknown opcode");
        ended(i, "protocol error", now);
        return;
    }
}

void ChurnPool::sendFrame(uint32_t i, uint8_t opcode, const char *payload, size_t size)
{
    char frame[ws::MaxClientFrame];
    const size_t n = ws::encodeClientFrame(frame, opcode, payload, size, uint32_t(m_random.next()));
    if (n == 0) {
        ++m_stats.internalErrors;
        return;
    }
    send(i, frame, n);
}

void ChurnPool::send(uint32_t i, const char *data, size_t size)
{
    Client &c = m_clients[i];
    if (!c.fd.valid())
        return;
    int err = 0;
    switch (sendOrQueue(c.fd.get(), c.out, data, size, MaxOutput, &err)) {
    case SendResult::Full:
        // Pongs pile up only when the server stops reading: end it here.
        ++m_stats.internalErrors;
        noteFailure(&m_stats.firstFailure, i, "the server does not read: output queue full");
        c.out.clear();
        break;
    case SendResult::Queued:
        c.watchingWrite = true;
        updateInterest(i);
        break;
    case SendResult::Failed: // the read side sees the same reset and judges it
    case SendResult::Sent:
    case SendResult::Appended:
        break;
    }
}

void ChurnPool::flush(uint32_t i)
{
    Client &c = m_clients[i];
    std::string pending;
    pending.swap(c.out);
    c.watchingWrite = false;
    send(i, pending.data(), pending.size());
    if (!c.fd.valid())
        return;
    if (c.out.empty())
        updateInterest(i);
    if (c.out.empty() && c.state == State::Binding)
        uidWritten(i);
}

void ChurnPool::updateInterest(uint32_t i)
{
    Client &c = m_clients[i];
    if (!c.fd.valid())
        return;
    // A stalled client does not ask for input; epoll still reports errors
    // and hang-ups, which is how a dropped slow consumer is noticed.
    uint32_t events = c.state == State::Stalled ? 0u : uint32_t(EPOLLIN);
    if (c.watchingWrite)
        events |= EPOLLOUT;
    m_epoll.modify(c.fd.get(), events, makeToken(Kind::SoakClient, c.generation, i));
}

void ChurnPool::addActive(uint32_t i)
{
    Client &c = m_clients[i];
    if (c.activeIndex != NotActive)
        return;
    c.activeIndex = uint32_t(m_active.size());
    m_active.push_back(i);
}

void ChurnPool::removeActive(uint32_t i)
{
    Client &c = m_clients[i];
    if (c.activeIndex == NotActive)
        return;
    const uint32_t last = m_active.back();
    m_active[c.activeIndex] = last;
    m_clients[last].activeIndex = c.activeIndex;
    m_active.pop_back();
    c.activeIndex = NotActive;
}

void ChurnPool::becomeActive(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    --m_inWindow;
    ++m_stats.binds;
    // The ramp's binds wait behind hundreds of others: not a rebind's cost.
    if (c.generation > 1)
        m_stats.rebind.record(now - c.connectedAt);
    setState(i, State::Active);
    addActive(i);
}

bool ChurnPool::pacedTarget(PushTarget *t)
{
    if (m_active.empty())
        return false;
    const uint32_t i = m_active[m_choice.next() % m_active.size()];
    Client &c = m_clients[i];
    t->client = i;
    t->generation = c.generation;
    t->payload = m_options.payload;
    ++c.pending;
    return true;
}

bool ChurnPool::directedTarget(PushTarget *t)
{
    while (!m_flood.empty()) {
        Flood &f = m_flood.front();
        Client &c = m_clients[f.client];
        if (f.count == 0 || c.generation != f.generation || c.state != State::Stalled) {
            m_flood.pop_front(); // the stall is over: the rest is not owed any more
            continue;
        }
        t->client = f.client;
        t->generation = f.generation;
        t->payload = FloodPayload;
        ++c.pending;
        if (--f.count == 0)
            m_flood.pop_front();
        return true;
    }
    return false;
}

void ChurnPool::replied(const PushTarget &t, Reply r, bool outstanding, int64_t now)
{
    if (t.client >= m_clients.size()) {
        ++m_stats.internalErrors;
        return;
    }
    Client &c = m_clients[t.client];
    // A client reconnects only once every reply to its last connection is
    // in, so a reply always belongs to the current generation.
    if (t.generation != c.generation || c.pending == 0) {
        ++m_stats.internalErrors;
        return;
    }
    --c.pending;
    const bool open = c.fd.valid();
    if (r == Reply::Ok && outstanding) {
        if (open) {
            ++c.outstanding;
        } else if (c.endedSlow) {
            m_tracker.excuse(1);
            ++m_stats.excusedOk;
        } else {
            ++m_stats.lostAtLeave; // stays outstanding in the tracker: lost
        }
    } else if (r == Reply::Fail) {
        if (open)
            ++c.fails; // judged when the connection ends
        else if (c.endedSlow)
            ++m_stats.excusedFails;
        else
            ++m_stats.failsAfterEnd; // a drain timeout or a drop, reported as such
    }
    if (c.state == State::Leaving)
        checkDrained(t.client, now);
    else if (c.state == State::Gone && c.pending == 0)
        gone(t.client);
}

void ChurnPool::probeAnswered(uint32_t client, int64_t now)
{
    Client &c = m_clients[client];
    if (c.state == State::Verifying)
        timer(Timer::Reprobe, client, c.generation, now + ReprobeNs);
}

bool ChurnPool::probeWanted(uint32_t client) const
{
    return m_clients[client].state == State::Verifying;
}

void ChurnPool::startLeaving(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    removeActive(i);
    setState(i, State::Leaving);
    timer(Timer::DrainTimeout, i, c.generation, now + int64_t(m_options.drainTimeout * 1e9));
    checkDrained(i, now);
}

void ChurnPool::checkDrained(uint32_t i, int64_t now)
{
    const Client &c = m_clients[i];
    if (c.state == State::Leaving && c.pending == 0 && c.outstanding == 0)
        closeWith(i, now);
}

void ChurnPool::closeWith(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    // Every push to this connection answered "fail" while it stayed bound.
    m_stats.unexpectedFails += c.fails;
    c.fails = 0;
    const CloseMode mode = CloseMode(m_nextMode++ % CloseModes);
    ++m_stats.leaves[mode];
    if (mode == CloseFrame) {
        const char normal[2] = {char(0x03), char(0xE8)}; // 1000
        setState(i, State::Closing);
        sendFrame(i, ws::Close, normal, sizeof normal);
        timer(Timer::CloseTimeout, i, c.generation, now + CloseTimeoutNs);
        return;
    }
    closeFd(i, mode == Reset);
    gone(i);
}

void ChurnPool::startStall(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    setState(i, State::Stalled);
    updateInterest(i);
    ++m_stats.stalls;
    timer(Timer::StallEnd, i, c.generation, now + int64_t(m_options.stall * 1e9));
    // A random amount up to --stall-bytes: some stalls pass the server's
    // output cap and get dropped, others stay under it and must lose nothing.
    const uint64_t bytes = m_options.stallBytes ? m_choice.next() % (m_options.stallBytes + 1) : 0;
    const uint32_t count = uint32_t(bytes / FloodPayload);
    if (count > 0) {
        m_flood.push_back({i, c.generation, count});
        m_stats.floodPushes += count;
    }
}

void ChurnPool::dropFlood(uint32_t i)
{
    // The stall is over: what was not pushed yet is not owed any more.
    m_flood.erase(std::remove_if(m_flood.begin(), m_flood.end(),
                      [i](const Flood &f) { return f.client == i; }),
        m_flood.end());
}

void ChurnPool::endStall(uint32_t i, int64_t now)
{
    Client &c = m_clients[i];
    dropFlood(i);
    setState(i, State::Active);
    c.resumedAt = now;
    ++m_stats.stallsResumed;
    updateInterest(i);
    readable(i, now, false);
}

void ChurnPool::ended(uint32_t i, const std::string &why, int64_t now)
{
    Client &c = m_clients[i];
    switch (c.state) {
    case State::Closing:
        // Our close frame: the FIN (or a reset) is the expected end.
        if (!c.sawClose) {
            ++m_stats.cleanNoEcho;
            noteFailure(&m_stats.firstFailure, i, "close frame not echoed: " + why);
        }
        break;
    case State::Connecting:
    case State::Handshake:
    case State::Binding:
    case State::Verifying:
        ++m_stats.bindFailures;
        noteFailure(&m_stats.firstFailure, i, why);
        --m_inWindow;
        break;
    case State::Stalled:
    case State::Active:
    case State::Leaving:
        if (c.state == State::Stalled
            || (c.state == State::Active && c.resumedAt && now - c.resumedAt < ResumeGraceNs)) {
            // A slow consumer the server dropped: what it had not read yet
            // may be gone, and the server may have said "fail" after the drop.
            ++m_stats.slowDrops;
            m_tracker.excuse(c.outstanding);
            m_stats.excusedOk += c.outstanding;
            m_stats.excusedFails += c.fails;
            c.endedSlow = true;
        } else {
            ++m_stats.unexpectedDrops;
            noteFailure(&m_stats.firstDrop, i, why);
            m_stats.lostOnDrop += c.outstanding; // stays outstanding: lost
            m_stats.unexpectedFails += c.fails;
        }
        c.outstanding = 0;
        c.fails = 0;
        removeActive(i);
        dropFlood(i);
        break;
    default:
        break;
    }
    closeFd(i, false);
    gone(i);
}

void ChurnPool::closeFd(uint32_t i, bool reset)
{
    Client &c = m_clients[i];
    if (!c.fd.valid())
        return;
    if (reset) {
        // SO_LINGER with a zero timeout: close() sends an RST at once.
        const linger lin = {1, 0};
        ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    }
    c.fd.reset();
    --m_open;
    c.watchingWrite = false;
    std::string().swap(c.in);
    std::string().swap(c.out);
}

void ChurnPool::gone(uint32_t i)
{
    Client &c = m_clients[i];
    if (c.pending > 0 || m_closedAll) {
        // Replies for the old connection are still coming: they must be
        // judged against it before a new connection takes its place.
        setState(i, State::Gone);
        return;
    }
    setState(i, State::Queued);
    m_queue.push_back(i);
}

void ChurnPool::closeAll()
{
    m_closedAll = true;
    m_queue.clear();
    m_flood.clear();
    for (uint32_t i = 0; i < m_clients.size(); ++i) {
        if (m_clients[i].fd.valid()) {
            removeActive(i);
            // Both kinds of abrupt end, alike for every run.
            closeFd(i, i % 2 == 1);
            setState(i, State::Gone);
        }
    }
    for (uint32_t j = 0; j < m_unbound.size(); ++j)
        unboundEnd(j);
}

void ChurnPool::finish()
{
    for (Client &c : m_clients) {
        m_stats.unexpectedFails += c.fails;
        c.fails = 0;
    }
}

// Connections that never send a uid: the server must close them after its
// bind timeout (code 1008) whatever else goes on.

void ChurnPool::startUnbound(uint32_t j, int64_t now)
{
    Unbound &u = m_unbound[j];
    int err = 0;
    const int fd = connectLoopback(m_options.wsPort, true, &err);
    if (fd < 0) {
        if (err == EMFILE || err == ENFILE)
            m_fatal = "out of file descriptors";
        else if (err != EADDRNOTAVAIL && err != EAGAIN)
            ++m_stats.unboundFailures;
        return; // tried again on the next tick
    }
    u.fd.reset(fd);
    u.generation = (u.generation + 1) & 0xFFFFFF;
    u.state = Unbound::State::Connecting;
    u.startedAt = now;
    u.in.clear();
    ++m_unboundOpen;
    m_stats.maxOpen = std::max(m_stats.maxOpen, open());
    timer(Timer::UnboundDeadline, j, u.generation,
        now + int64_t(m_options.bindTimeout * 1e9) + UnboundSlackNs);
    if (!m_epoll.add(fd, EPOLLOUT, makeToken(Kind::Unbound, u.generation, j)))
        m_fatal = "epoll_ctl: " + errorText(errno);
}

void ChurnPool::unboundEvent(uint32_t j, uint32_t events, int64_t now)
{
    Unbound &u = m_unbound[j];
    if (!u.fd.valid())
        return;
    const uint64_t token = makeToken(Kind::Unbound, u.generation, j);
    if (u.state == Unbound::State::Connecting) {
        if (socketError(u.fd.get()) != 0) {
            ++m_stats.unboundFailures;
            unboundEnd(j);
            return;
        }
        const std::string key = ws::newKey(m_random);
        std::memcpy(u.key, key.data(), sizeof u.key);
        const std::string request = ws::upgradeRequest(m_options.wsPort, key);
        // A fresh socket takes a 150-byte request whole.
        if (::send(u.fd.get(), request.data(), request.size(), MSG_NOSIGNAL)
            != ssize_t(request.size())) {
            ++m_stats.unboundFailures;
            unboundEnd(j);
            return;
        }
        u.state = Unbound::State::Handshake;
        m_epoll.modify(u.fd.get(), EPOLLIN, token);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (;;) {
        const ssize_t n = ::recv(u.fd.get(), scratch, sizeof scratch, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            // A FIN or reset without a close frame first.
            if (u.state != Unbound::State::Closing)
                unboundClosed(j, now, false, 0);
            unboundEnd(j);
            return;
        }
        if (u.in.size() + size_t(n) > ws::MaxHandshake + 1024) {
            ++m_stats.protocolErrors;
            unboundEnd(j);
            return;
        }
        u.in.append(scratch, size_t(n));
        size_t used = 0;
        if (u.state == Unbound::State::Handshake) {
            std::string error;
            const ws::Handshake h =
                ws::checkResponse(u.in.data(), u.in.size(), u.key, &used, &error);
            if (h == ws::Handshake::Incomplete)
                continue;
            if (h == ws::Handshake::Bad) {
                ++m_stats.protocolErrors;
                if (m_stats.firstProtocolError.empty())
                    m_stats.firstProtocolError = "unbound connection: " + error;
                unboundEnd(j);
                return;
            }
            u.state = Unbound::State::Waiting;
            ++m_stats.unboundOpened;
        }
        for (;;) {
            ws::Frame f;
            size_t n2 = 0;
            const char *error = "";
            const ws::FrameResult r =
                ws::parseFrame(u.in.data() + used, u.in.size() - used, &f, &n2, &error);
            if (r == ws::FrameResult::NeedMore)
                break;
            if (r == ws::FrameResult::Bad) {
                ++m_stats.protocolErrors;
                unboundEnd(j);
                return;
            }
            used += n2;
            if (u.state == Unbound::State::Closing)
                continue;
            if (f.opcode == ws::Close) {
                unboundClosed(j, now, true, ws::closeCode(f.payload, f.size));
                char frame[ws::MaxClientFrame];
                const size_t len = ws::encodeClientFrame(frame, ws::Close, f.payload,
                    std::min<size_t>(f.size, 2), uint32_t(m_random.next()));
                ::send(u.fd.get(), frame, len, MSG_NOSIGNAL);
                u.state = Unbound::State::Closing; // the server's FIN follows
            } else if (f.opcode == ws::Ping && f.size <= 125) {
                char frame[ws::MaxClientFrame];
                const size_t len = ws::encodeClientFrame(
                    frame, ws::Pong, f.payload, f.size, uint32_t(m_random.next()));
                ::send(u.fd.get(), frame, len, MSG_NOSIGNAL);
            } else if (f.opcode != ws::Pong) {
                ++m_stats.unboundMessages; // nothing may be pushed to an unbound connection
            }
        }
        u.in.erase(0, used);
    }
}

void ChurnPool::unboundClosed(uint32_t j, int64_t now, bool withCloseFrame, int code)
{
    const int64_t lived = now - m_unbound[j].startedAt;
    if (withCloseFrame && code == 1008)
        ++m_stats.unboundClosed1008;
    else
        ++m_stats.unboundClosedOther;
    if (m_stats.unboundMinNs < 0 || lived < m_stats.unboundMinNs)
        m_stats.unboundMinNs = lived;
    m_stats.unboundMaxNs = std::max(m_stats.unboundMaxNs, lived);
}

void ChurnPool::unboundEnd(uint32_t j)
{
    Unbound &u = m_unbound[j];
    if (!u.fd.valid())
        return;
    u.fd.reset();
    --m_unboundOpen;
    u.state = Unbound::State::Idle;
    std::string().swap(u.in);
}

} // namespace bench
