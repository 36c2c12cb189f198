#include "PushSender.h"

#include "Options.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace bench {

namespace {

constexpr int64_t ProbeRetryNs = 1000 * 1000;
constexpr int64_t PortRetryNs = 5 * 1000 * 1000;
// Replies are "ok", "fail" or a short error; a longer line is a server bug.
constexpr size_t MaxReplyLine = 64 * 1024;

char scratch[64 * 1024];

Reply classify(const char *line, size_t size, bool *unexpected)
{
    if (size > 0 && line[size - 1] == '\r')
        --size;
    *unexpected = false;
    if (size == 2 && std::memcmp(line, "ok", 2) == 0)
        return Reply::Ok;
    if (size == 4 && std::memcmp(line, "fail", 4) == 0)
        return Reply::Fail;
    *unexpected = size < 7 || std::memcmp(line, "error: ", 7) != 0;
    return Reply::Error;
}

} // namespace

PushSender::PushSender(Epoll &epoll, const Options &options, Tracker &tracker)
    : m_epoll(epoll)
    , m_options(options)
    , m_tracker(tracker)
    , m_random(options.seed)
    , m_total(options.pushes)
{ }

void PushSender::failure(const std::string &why)
{
    if (m_firstFailure.empty())
        m_firstFailure = why;
}

bool PushSender::openConn(Conn &c, uint64_t token, bool noDelay)
{
    int err = 0;
    const int fd = connectLoopback(m_options.textPort, noDelay, &err);
    if (fd < 0) {
        ++m_connectErrors;
        failure("text port: connect: " + errorText(err));
        return false;
    }
    c.fd.reset(fd);
    return m_epoll.add(fd, EPOLLIN | EPOLLOUT, token);
}

bool PushSender::openProbes()
{
    if (!openConn(m_probes, makeToken(Kind::ProbeConn, 0, 0), true)) {
        m_fatal = "cannot connect to the text port for bind probes: " + m_firstFailure;
        return false;
    }
    return true;
}

void PushSender::probe(uint32_t client)
{
    m_probeQueue.push_back(client);
}

void PushSender::closeProbes()
{
    m_probes.fd.reset();
    m_probes.dead = true;
    m_probeQueue.clear();
    m_probeRetry.clear();
}

void PushSender::start(int64_t now)
{
    m_started = true;
    m_refilledAt = now;
    if (pacedTarget)
        m_total = UINT64_MAX; // the soak ends by time, not by count
    m_tokens = m_options.rate > 0 ? 1 : 0;
    if (m_total == 0)
        return;
    if (m_options.mode == Mode::Pipeline) {
        m_conns.resize(m_options.conns);
        uint32_t opened = 0;
        for (uint32_t i = 0; i < m_conns.size(); ++i) {
            if (openConn(m_conns[i], makeToken(Kind::TextConn, 0, i), true))
                ++opened, ++m_connections;
            else
                m_conns[i].dead = true;
        }
        if (opened == 0) {
            m_serverGone = true;
            m_fatal = "cannot connect to the text port: " + m_firstFailure;
        }
    } else {
        m_slots.resize(m_options.concurrency);
    }
    pump(now);
}

bool PushSender::ticking() const
{
    if (!m_probeRetry.empty())
        return true;
    if (!m_started || m_serverGone || m_next == m_total || m_paused)
        return false;
    if (m_options.rate > 0)
        return true;
    for (const Slot &s : m_slots) {
        if (s.retryAt)
            return true;
    }
    return false;
}

bool PushSender::takeToken()
{
    if (m_options.rate <= 0)
        return true;
    if (m_tokens < 1)
        return false;
    m_tokens -= 1;
    return true;
}

void PushSender::pump(int64_t now)
{
    if (!m_probes.dead && m_probes.connected)
        pumpProbes(now);
    if (!m_started || m_serverGone)
        return;
    if (m_options.rate > 0) {
        // A burst of 20 ms of pushes at most, so a late wake-up is caught up
        // without ever running ahead of the requested rate.
        const double burst = std::max(1.0, m_options.rate * 0.02);
        m_tokens = std::min(burst, m_tokens + m_options.rate * double(now - m_refilledAt) / 1e9);
        m_refilledAt = now;
    }
    if (m_options.mode == Mode::Pipeline)
        pumpPipeline(now);
    else
        pumpSlots(now);
}

bool PushSender::chooseTarget(uint64_t seq, PushTarget *target)
{
    if (directedTarget && directedTarget(target))
        return true;
    if (!takeToken())
        return false;
    if (pacedTarget) {
        if (pacedTarget(target))
            return true;
        if (m_options.rate > 0)
            m_tokens += 1; // nobody to push to right now: keep the token
        return false;
    }
    *target = defaultTarget(seq);
    return true;
}

PushTarget PushSender::defaultTarget(uint64_t seq)
{
    PushTarget t;
    t.client = uint32_t(m_options.targets == Targets::Cycle ? seq % m_options.clients
                                                            : m_random.next() % m_options.clients);
    t.payload = m_options.payload;
    return t;
}

void PushSender::appendLine(std::string &out, uint64_t seq, const PushTarget &target, int64_t now)
{
    const size_t start = out.size();
    out += "{\"uid\":\"";
    out += m_options.uidPrefix;
    appendNumber(out, target.client);
    out += "\",\"seq\":";
    appendNumber(out, seq);
    out += ",\"t\":";
    appendNumber(out, uint64_t(now));
    // Pad to exactly --payload bytes: a "pad" member, or blanks (valid JSON
    // white space) when there is no room for one.
    const size_t length = out.size() - start + 1;
    if (target.payload > length) {
        const size_t missing = target.payload - length;
        const size_t member = std::strlen(",\"pad\":\"\"");
        if (missing >= member) {
            out += ",\"pad\":\"";
            out.append(missing - member, 'x');
            out += '"';
        } else {
            out.append(missing, ' ');
        }
    }
    out += "}\n";
}

void PushSender::pumpProbes(int64_t now)
{
    while (!m_probeRetry.empty() && m_probeRetry.front().sentAt <= now) {
        m_probeQueue.push_back(uint32_t(m_probeRetry.front().seq));
        m_probeRetry.pop_front();
    }
    if (m_probeQueue.empty())
        return;
    for (uint32_t client : m_probeQueue) {
        if (!probeWanted(client))
            continue;
        // Probe the uid the client bound as (different only with --bind-offset).
        const uint64_t uid = (uint64_t(client) + m_options.bindOffset) % m_options.clients;
        m_probes.out += "{\"uid\":\"";
        m_probes.out += m_options.uidPrefix;
        appendNumber(m_probes.out, uid);
        m_probes.out += "\",\"probe\":";
        appendNumber(m_probes.out, client);
        m_probes.out += "}\n";
        m_probes.inflight.push_back({client, now, {}});
        ++m_probesSent;
    }
    m_probeQueue.clear();
    connFlush(m_probes, makeToken(Kind::ProbeConn, 0, 0));
}

void PushSender::pumpPipeline(int64_t now)
{
    const uint32_t n = uint32_t(m_conns.size());
    bool tokens = true;
    for (uint32_t k = 0; k < n && tokens && m_next < m_total; ++k) {
        const uint32_t i = (m_rotate + k) % n;
        Conn &c = m_conns[i];
        if (!c.connected || c.dead)
            continue;
        bool added = false;
        while (c.inflight.size() < m_options.depth && m_next < m_total && !m_paused) {
            PushTarget target;
            if (!chooseTarget(m_next, &target)) {
                tokens = false;
                break;
            }
            const uint64_t seq = m_next++;
            appendLine(c.out, seq, target, now);
            c.inflight.push_back({seq, now, target});
            ++m_inFlight;
            m_tracker.sent(seq);
            added = true;
        }
        if (added)
            connFlush(c, makeToken(Kind::TextConn, 0, i));
    }
    // Paced pushes spread over the connections instead of filling the first.
    m_rotate = n ? (m_rotate + 1) % n : 0;
}

void PushSender::connFlush(Conn &c, uint64_t token)
{
    while (c.outPos < c.out.size()) {
        const ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
        if (n > 0) {
            c.outPos += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c.watchingWrite) {
                c.watchingWrite = true;
                m_epoll.modify(c.fd.get(), EPOLLIN | EPOLLOUT, token);
            }
            return;
        }
        // The reader side notices the same failure and cleans up.
        c.outPos = c.out.size();
        break;
    }
    c.out.clear();
    c.outPos = 0;
    if (c.watchingWrite) {
        c.watchingWrite = false;
        m_epoll.modify(c.fd.get(), EPOLLIN, token);
    }
}

void PushSender::handle(uint64_t token, uint32_t events, int64_t now)
{
    switch (tokenKind(token)) {
    case Kind::ProbeConn:
        connHandle(m_probes, token, events, true, now);
        break;
    case Kind::TextConn:
        if (tokenIndex(token) < m_conns.size())
            connHandle(m_conns[tokenIndex(token)], token, events, false, now);
        break;
    case Kind::Slot:
        if (tokenIndex(token) < m_slots.size()
            && m_slots[tokenIndex(token)].generation == tokenGeneration(token))
            slotHandle(tokenIndex(token), events, now);
        break;
    default:
        break;
    }
}

void PushSender::connHandle(Conn &c, uint64_t token, uint32_t events, bool probes, int64_t now)
{
    if (c.dead)
        return;
    if (!c.connected) {
        if (const int err = socketError(c.fd.get())) {
            ++m_connectErrors;
            connKill(c, "text port: connect: " + errorText(err), probes, now);
            return;
        }
        c.connected = true;
        connFlush(c, token); // also stops watching for writability
        pump(now);
        return;
    }
    if (events & EPOLLOUT)
        connFlush(c, token);
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (int round = 0; round < 4; ++round) {
        const ssize_t n = ::recv(c.fd.get(), scratch, sizeof scratch, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
            connKill(c,
                n == 0 ? "text port: connection closed by the server"
                       : "text port: read: " + errorText(errno),
                probes, now);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        const char *p = scratch;
        const char *end = scratch + n;
        while (p < end && !c.dead) {
            const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
            if (!nl) {
                c.in.append(p, size_t(end - p));
                if (c.in.size() > MaxReplyLine)
                    connKill(c, "text port: reply line too long", probes, now);
                break;
            }
            if (c.in.empty()) {
                connReply(c, p, size_t(nl - p), probes, now);
            } else {
                c.in.append(p, size_t(nl - p));
                const std::string line = std::move(c.in);
                c.in.clear();
                connReply(c, line.data(), line.size(), probes, now);
            }
            p = nl + 1;
        }
        if (c.dead || size_t(n) < sizeof scratch)
            return;
    }
}

void PushSender::connReply(Conn &c, const char *line, size_t size, bool probes, int64_t now)
{
    if (c.inflight.empty()) {
        connKill(c, "text port: a reply to no request: " + printable(line, size), probes, now);
        return;
    }
    const Pending p = c.inflight.front();
    c.inflight.pop_front();
    bool unexpected = false;
    const Reply r = classify(line, size, &unexpected);
    if (r == Reply::Error) {
        const std::string text(line, std::min<size_t>(size, 200));
        m_tracker.noteError(text);
        failure((unexpected ? "text port: unexpected reply: " : "text port: ") + text);
    }
    if (probes) {
        if (r == Reply::Ok) {
            probeOk(uint32_t(p.seq), now);
        } else if (r == Reply::Fail) {
            ++m_probeRetries;
            m_probeRetry.push_back({p.seq, now + ProbeRetryNs, {}});
        } else {
            m_fatal = "the server rejected a bind probe: " + printable(line, size, 200);
        }
        return;
    }
    --m_inFlight;
    settle(p, r, now);
}

void PushSender::settle(const Pending &p, Reply reply, int64_t now)
{
    const bool outstanding = m_tracker.reply(p.seq, reply, now - p.sentAt, now);
    if (replied)
        replied(p.target, reply, outstanding, now);
}

void PushSender::connKill(Conn &c, const std::string &why, bool probes, int64_t now)
{
    if (c.dead)
        return;
    c.dead = true;
    c.fd.reset();
    if (probes) {
        m_fatal = why + " (bind probe connection)";
        return;
    }
    failure(why);
    for (const Pending &p : c.inflight) {
        --m_inFlight;
        settle(p, Reply::Unanswered, now);
    }
    c.inflight.clear();
    // No reconnecting: a server that drops a backend's connection is the
    // finding, and the remaining connections carry on.
    if (std::all_of(m_conns.begin(), m_conns.end(), [](const Conn &x) { return x.dead; }))
        m_serverGone = true;
}

void PushSender::pumpSlots(int64_t now)
{
    for (uint32_t i = 0; i < m_slots.size() && m_next < m_total && !m_serverGone; ++i) {
        Slot &s = m_slots[i];
        if (s.state != Slot::State::Idle || (s.retryAt && now < s.retryAt))
            continue;
        if (!takeToken())
            return;
        slotStart(i, now);
    }
}

void PushSender::slotStart(uint32_t index, int64_t now)
{
    Slot &s = m_slots[index];
    s.retryAt = 0;
    int err = 0;
    const int fd = connectLoopback(m_options.textPort, false, &err);
    if (fd < 0) {
        if (err == EADDRNOTAVAIL || err == EAGAIN) {
            // Ephemeral ports all in TIME_WAIT: this is what a PHP backend
            // pushing this fast would run into too. Count it and retry.
            ++m_portRetries;
            s.retryAt = now + PortRetryNs;
            if (m_options.rate > 0)
                m_tokens += 1;
            return;
        }
        ++m_connectErrors;
        failure("text port: connect: " + errorText(err));
        m_serverGone = true;
        if (err == EMFILE || err == ENFILE)
            m_fatal = "out of file descriptors";
        return;
    }
    s.fd.reset(fd);
    s.generation = (s.generation + 1) & 0xFFFFFF;
    s.state = Slot::State::Connecting;
    s.seq = m_next++;
    s.startedAt = now;
    s.written = 0;
    s.line.clear();
    s.in.clear();
    appendLine(s.line, s.seq, defaultTarget(s.seq), now);
    ++m_inFlight;
    ++m_connections;
    m_tracker.sent(s.seq);
    if (!m_epoll.add(fd, EPOLLOUT, makeToken(Kind::Slot, s.generation, index))) {
        failure("epoll_ctl: " + errorText(errno));
        slotFinish(index, Reply::Unanswered, now);
    }
}

void PushSender::slotHandle(uint32_t index, uint32_t events, int64_t now)
{
    Slot &s = m_slots[index];
    const uint64_t token = makeToken(Kind::Slot, s.generation, index);
    if (s.state == Slot::State::Connecting) {
        if (const int err = socketError(s.fd.get())) {
            ++m_connectErrors;
            failure("text port: connect: " + errorText(err));
            if (err == ECONNREFUSED)
                m_serverGone = true;
            slotFinish(index, Reply::Unanswered, now);
            return;
        }
        s.state = Slot::State::Writing;
    }
    if (s.state == Slot::State::Writing) {
        while (s.written < s.line.size()) {
            const ssize_t n = ::send(
                s.fd.get(), s.line.data() + s.written, s.line.size() - s.written, MSG_NOSIGNAL);
            if (n > 0) {
                s.written += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return; // still watching EPOLLOUT
            failure("text port: write: " + errorText(errno));
            slotFinish(index, Reply::Unanswered, now);
            return;
        }
        s.state = Slot::State::Reading;
        m_epoll.modify(s.fd.get(), EPOLLIN, token);
        return;
    }
    if (s.state != Slot::State::Reading || !(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (;;) {
        const ssize_t n = ::recv(s.fd.get(), scratch, sizeof scratch, 0);
        if (n > 0) {
            const char *nl = static_cast<const char *>(std::memchr(scratch, '\n', size_t(n)));
            s.in.append(scratch, nl ? size_t(nl - scratch) : size_t(n));
            if (nl) {
                bool unexpected = false;
                const Reply r = classify(s.in.data(), s.in.size(), &unexpected);
                if (r == Reply::Error) {
                    const std::string text = printable(s.in.data(), s.in.size(), 200);
                    m_tracker.noteError(text);
                    failure((unexpected ? "text port: unexpected reply: " : "text port: ") + text);
                }
                slotFinish(index, r, now);
                return;
            }
            if (s.in.size() > MaxReplyLine) {
                failure("text port: reply line too long");
                slotFinish(index, Reply::Unanswered, now);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        failure(n == 0 ? "text port: connection closed before the reply"
                       : "text port: read: " + errorText(errno));
        slotFinish(index, Reply::Unanswered, now);
        return;
    }
}

void PushSender::slotFinish(uint32_t index, Reply reply, int64_t now)
{
    Slot &s = m_slots[index];
    // The seed's backend closes right after reading its reply.
    s.fd.reset();
    s.state = Slot::State::Idle;
    --m_inFlight;
    m_tracker.reply(s.seq, reply, now - s.startedAt, now);
}

void PushSender::abandon(int64_t now)
{
    if (m_inFlight > 0)
        failure("no reply before the run ended");
    for (Conn &c : m_conns) {
        if (c.dead)
            continue;
        for (const Pending &p : c.inflight)
            settle(p, Reply::Unanswered, now);
        m_inFlight -= c.inflight.size();
        c.inflight.clear();
        c.fd.reset();
        c.dead = true;
    }
    for (uint32_t i = 0; i < m_slots.size(); ++i) {
        if (m_slots[i].state != Slot::State::Idle)
            slotFinish(i, Reply::Unanswered, now);
    }
    closeProbes();
    m_serverGone = true;
}

} // namespace bench
