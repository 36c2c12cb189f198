#include "Soak.h"

#include "ChurnPool.h"
#include "Options.h"
#include "Proc.h"
#include "PushSender.h"
#include "Tracker.h"
#include "Util.h"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/epoll.h>
#include <vector>

namespace bench {

namespace {

constexpr int64_t Ms = 1000 * 1000;
constexpr int64_t Second = 1000 * Ms;

double seconds(int64_t ns)
{
    return double(ns) / 1e9;
}

std::string mib(int64_t kb)
{
    if (kb < 0)
        return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(kb) / 1024);
    return buf;
}

unsigned long long ull(uint64_t v)
{
    return static_cast<unsigned long long>(v);
}

class Soak
{
public:
    Soak(const Options &o, const volatile std::sig_atomic_t *interrupted)
        : m_o(o)
        , m_interrupted(interrupted)
        , m_tracker(0, o.uidPrefix)
        , m_pool(m_epoll, o, m_tracker)
        , m_sender(m_epoll, o, m_tracker)
    {
        m_pool.probe = [this](uint32_t client) { m_sender.probe(client); };
        m_sender.probeOk = [this](
                               uint32_t client, int64_t now) { m_pool.probeAnswered(client, now); };
        m_sender.probeWanted = [this](uint32_t client) { return m_pool.probeWanted(client); };
        m_sender.pacedTarget = [this](PushTarget *t) { return m_pool.pacedTarget(t); };
        m_sender.directedTarget = [this](PushTarget *t) { return m_pool.directedTarget(t); };
        m_sender.replied = [this](const PushTarget &t, Reply r, bool outstanding, int64_t now) {
            m_pool.replied(t, r, outstanding, now);
        };
    }

    int run();

private:
    enum class Stop { No, Deadline, Interrupted, Fatal };
    // The server's state at a quiet moment: every client bound and reading,
    // no push in flight, no stall, no unbound connection.
    struct Point
    {
        int64_t at = 0;
        int64_t rssKb = -1;
        int fds = -1;
        bool settled = false;
    };

    Stop turn(int64_t until);
    void sample(int64_t now);
    // Stops churn and pushes, waits until the pool is settled and the
    // server's descriptor count is steady, and measures. Leaves it paused.
    Point settle(const char *what);
    void resume();
    void progress(const char *format, ...) __attribute__((format(printf, 2, 3)));
    void progressLine(int64_t now);
    std::vector<std::string> problems() const;
    double rssGrowth() const;
    void report(const std::vector<std::string> &problems) const;
    void reportJson(const std::vector<std::string> &problems) const;

    const Options &m_o;
    const volatile std::sig_atomic_t *m_interrupted;
    Epoll m_epoll;
    Tracker m_tracker;
    ChurnPool m_pool;
    PushSender m_sender;

    Stop m_stop = Stop::No;
    std::string m_stopPhase = "connect";
    std::string m_fatal;
    int64_t m_start = 0, m_deadline = 0, m_rampEnd = 0, m_churnStart = 0, m_churnEnd = 0;
    int64_t m_nextSample = 0, m_nextProgress = 0;
    Point m_before, m_warm, m_end, m_after;
    std::vector<std::string> m_unsettled;
    int m_peakFds = -1;
    int64_t m_peakRss = -1;
    int64_t m_fdsBackNs = -1; // teardown to the baseline descriptor count
    bool m_serverAlive = true;
    uint32_t m_bound = 0; // bound at the end of the ramp
    // Bound clients (push targets or leaving) during the churn, per second.
    uint32_t m_minBound = UINT32_MAX, m_maxBound = 0;
    uint64_t m_boundSum = 0, m_boundSamples = 0;
};

void Soak::progress(const char *format, ...)
{
    if (m_o.quiet)
        return;
    va_list args;
    va_start(args, format);
    std::fputs("pushbench: ", stderr);
    std::vfprintf(stderr, format, args);
    std::fputc('\n', stderr);
    va_end(args);
}

void Soak::progressLine(int64_t now)
{
    using S = ChurnPool::State;
    const auto in = [this](S s) { return m_pool.inState(s); };
    progress("soak %.0f/%.0f s: %u bound, %u stalled, %u leaving, %u reconnecting, %u unbound "
             "open; %llu rebinds, %llu pushes ok, %llu lost so far; server %s, %d fds",
        seconds(now - m_churnStart), m_o.soak, in(S::Active), in(S::Stalled),
        in(S::Leaving) + in(S::Closing),
        in(S::Gone) + in(S::Queued) + in(S::Connecting) + in(S::Handshake) + in(S::Binding)
            + in(S::Verifying),
        m_pool.unboundOpen(), ull(m_pool.m_stats.binds - m_bound), ull(m_tracker.m_ok),
        ull(m_pool.m_stats.lostAtLeave + m_pool.m_stats.lostOnDrop),
        mib(rssKb(m_o.serverPid)).c_str(), countFds(m_o.serverPid));
}

void Soak::sample(int64_t now)
{
    m_nextSample = now + Second;
    if (m_churnStart && !m_churnEnd) {
        using S = ChurnPool::State;
        const uint32_t bound =
            m_pool.inState(S::Active) + m_pool.inState(S::Stalled) + m_pool.inState(S::Leaving);
        m_minBound = std::min(m_minBound, bound);
        m_maxBound = std::max(m_maxBound, bound);
        m_boundSum += bound;
        ++m_boundSamples;
    }
    if (m_o.serverPid <= 0)
        return;
    const int64_t rss = rssKb(m_o.serverPid);
    const int fds = countFds(m_o.serverPid);
    if (rss < 0 && fds < 0) {
        m_serverAlive = false;
        return;
    }
    m_peakRss = std::max(m_peakRss, rss);
    m_peakFds = std::max(m_peakFds, fds);
}

Soak::Stop Soak::turn(int64_t until)
{
    int64_t now = nowNs();
    if (*m_interrupted)
        return Stop::Interrupted;
    if (now >= m_deadline)
        return Stop::Deadline;
    // Pacing runs on the clock; timers say when they are due; otherwise
    // sockets wake us.
    int64_t waitNs = m_sender.ticking() ? Ms : 50 * Ms;
    waitNs = std::min(waitNs, m_pool.nextWakeNs(now));
    waitNs = std::min(waitNs, std::max<int64_t>(0, std::min(until, m_deadline) - now));
    waitNs = std::min(waitNs, std::max<int64_t>(0, m_nextSample - now));
    const int timeoutMs = int((waitNs + Ms - 1) / Ms);
    epoll_event events[1024];
    const int n = epoll_wait(m_epoll.fd(), events, 1024, timeoutMs);
    if (n < 0 && errno != EINTR) {
        m_fatal = "epoll_wait: " + errorText(errno);
        return Stop::Fatal;
    }
    now = nowNs();
    for (int i = 0; i < n; ++i) {
        const uint64_t token = events[i].data.u64;
        const Kind kind = tokenKind(token);
        if (kind == Kind::SoakClient || kind == Kind::Unbound)
            m_pool.handle(token, events[i].events, now);
        else
            m_sender.handle(token, events[i].events, now);
    }
    m_pool.tick(now);
    m_sender.pump(now);
    if (now >= m_nextSample)
        sample(now);
    if (m_churnStart && now >= m_nextProgress) {
        m_nextProgress = now + 10 * Second;
        progressLine(now);
    }
    if (!m_sender.m_fatal.empty())
        m_fatal = m_sender.m_fatal;
    else if (!m_pool.m_fatal.empty())
        m_fatal = m_pool.m_fatal;
    else if (m_sender.m_serverGone)
        m_fatal = "every push connection was closed (" + m_sender.m_firstFailure + ")";
    else if (!m_serverAlive)
        m_fatal = "the server process is gone";
    return m_fatal.empty() ? Stop::No : Stop::Fatal;
}

Soak::Point Soak::settle(const char *what)
{
    Point p;
    m_pool.setChurning(false, nowNs());
    m_sender.setPaused(true);
    // Every stall ends, every leaving client drains and comes back, every
    // unbound connection meets its bind timeout: bounded by the longest.
    const int64_t limit =
        nowNs() + int64_t((m_o.stall + m_o.drainTimeout + m_o.bindTimeout + 30) * 1e9);
    // Pushes given up on stay outstanding for good: do not wait for those.
    const auto quiet = [this] {
        const ChurnPool::Stats &s = m_pool.m_stats;
        return m_pool.settled() && m_sender.inFlight() == 0
            && m_tracker.outstanding() <= s.lostAtLeave + s.lostOnDrop;
    };
    while (m_stop == Stop::No && nowNs() < limit && !quiet())
        m_stop = turn(limit);
    if (m_stop != Stop::No)
        return p;
    p.settled = quiet();
    if (!p.settled)
        m_unsettled.push_back(what);
    // The server releases closed connections from its event loop a moment
    // later: wait until its descriptor count holds still for a second.
    int last = countFds(m_o.serverPid);
    const int64_t steadyLimit = nowNs() + 10 * Second;
    int64_t next = nowNs() + Second;
    while (m_stop == Stop::No && nowNs() < steadyLimit) {
        m_stop = turn(next);
        if (nowNs() < next)
            continue;
        const int fds = countFds(m_o.serverPid);
        if (fds == last)
            break;
        last = fds;
        next = nowNs() + Second;
    }
    p.at = nowNs();
    p.rssKb = rssKb(m_o.serverPid);
    p.fds = countFds(m_o.serverPid);
    return p;
}

void Soak::resume()
{
    m_pool.setChurning(true, nowNs());
    m_sender.setPaused(false);
}

int Soak::run()
{
    if (!m_epoll.valid()) {
        std::fprintf(stderr, "pushbench: epoll_create1: %s\n", std::strerror(errno));
        return 1;
    }
    m_start = nowNs();
    m_deadline = m_start + int64_t(m_o.duration * 1e9);
    m_before.at = m_start;
    m_before.rssKb = rssKb(m_o.serverPid);
    m_before.fds = countFds(m_o.serverPid);
    m_peakFds = m_before.fds;
    m_peakRss = m_before.rssKb;
    sample(m_start);

    // Ramp: every client connects and binds once.
    progress("soak: connecting %u clients to 127.0.0.1:%d", m_o.clients, m_o.wsPort);
    if (!m_sender.openProbes()) {
        m_fatal = m_sender.m_fatal;
        m_stop = Stop::Fatal;
    } else {
        m_pool.connectAll(m_start);
    }
    while (m_stop == Stop::No && m_pool.inState(ChurnPool::State::Active) < m_o.clients)
        m_stop = turn(m_deadline);
    m_rampEnd = nowNs();
    m_bound = uint32_t(m_pool.m_stats.binds);
    if (m_stop == Stop::No) {
        progress("soak: %u clients bound in %.1f s; churn for %.0f s", m_bound,
            seconds(m_rampEnd - m_start), m_o.soak);
        // Churn, with a quiet moment after the warm-up for the reference.
        m_stopPhase = "churn";
        m_churnStart = nowNs();
        m_nextProgress = m_churnStart + 10 * Second;
        const int64_t churnEnd = m_churnStart + int64_t(m_o.soak * 1e9);
        const int64_t warmAt = m_churnStart + int64_t(m_o.soak * m_o.warmup / 100 * 1e9);
        m_sender.start(m_churnStart);
        resume();
        while (m_stop == Stop::No && nowNs() < warmAt)
            m_stop = turn(warmAt);
        if (m_stop == Stop::No) {
            m_warm = settle("after the warm-up");
            progress("soak: warm-up reference: server RSS %s, %d fds", mib(m_warm.rssKb).c_str(),
                m_warm.fds);
            resume();
        }
        while (m_stop == Stop::No && nowNs() < churnEnd)
            m_stop = turn(churnEnd);
        m_churnEnd = nowNs();
        if (m_stop == Stop::No) {
            m_stopPhase = "final settle";
            m_end = settle("at the end");
            progress(
                "soak: end of churn: server RSS %s, %d fds", mib(m_end.rssKb).c_str(), m_end.fds);
        }
    }
    // Late deliveries on open connections, if any, within --grace.
    const int64_t graceEnd = nowNs() + int64_t(m_o.grace * 1e9);
    while (m_stop == Stop::No && nowNs() < graceEnd
        && m_tracker.outstanding() > m_pool.m_stats.lostAtLeave + m_pool.m_stats.lostOnDrop)
        m_stop = turn(graceEnd);
    m_pool.finish();

    // Teardown: every bench connection goes; the server's descriptors must
    // come back to where they were before the run.
    m_sender.abandon(nowNs());
    m_pool.closeAll();
    if (m_o.serverPid > 0) {
        const int64_t closedAt = nowNs();
        const int64_t limit = closedAt + int64_t(m_o.fdWait * 1e9);
        for (;;) {
            const int fds = countFds(m_o.serverPid);
            if (fds < 0) {
                m_serverAlive = false;
                break;
            }
            m_after.fds = fds;
            if (fds <= m_before.fds) {
                m_fdsBackNs = nowNs() - closedAt;
                break;
            }
            if (nowNs() >= limit || *m_interrupted)
                break;
            timespec pause {0, 50 * Ms};
            nanosleep(&pause, nullptr);
        }
        m_after.at = nowNs();
        m_after.rssKb = rssKb(m_o.serverPid);
        if (m_serverAlive)
            m_serverAlive = ::kill(m_o.serverPid, 0) == 0 || errno == EPERM;
    }

    const std::vector<std::string> found = problems();
    if (m_o.json)
        reportJson(found);
    else
        report(found);
    return found.empty() ? 0 : 1;
}

double Soak::rssGrowth() const
{
    if (m_warm.rssKb <= 0 || m_end.rssKb < 0)
        return 0;
    return double(m_end.rssKb - m_warm.rssKb) * 100.0 / double(m_warm.rssKb);
}

std::vector<std::string> Soak::problems() const
{
    const ChurnPool::Stats &s = m_pool.m_stats;
    const Tracker &t = m_tracker;
    std::vector<std::string> p;
    const auto add = [&p](uint64_t n, const std::string &what) {
        if (n)
            p.push_back(std::to_string(n) + " " + what);
    };
    switch (m_stop) {
    case Stop::Deadline:
        p.push_back("timed out (--duration) in the " + m_stopPhase + " phase");
        break;
    case Stop::Interrupted:
        p.push_back("interrupted in the " + m_stopPhase + " phase");
        break;
    case Stop::Fatal:
        p.push_back(m_fatal + " (" + m_stopPhase + " phase)");
        break;
    case Stop::No:
        break;
    }
    if (m_bound < m_o.clients)
        p.push_back(std::to_string(m_o.clients - m_bound) + " of " + std::to_string(m_o.clients)
            + " clients not bound in the ramp");
    const uint64_t lost = t.outstanding();
    if (lost) {
        const uint64_t open = lost - std::min(lost, s.lostAtLeave + s.lostOnDrop);
        p.push_back(std::to_string(lost) + " pushes lost (answered ok, never arrived): "
            + std::to_string(s.lostAtLeave) + " to clients that left after --drain-timeout, "
            + std::to_string(s.lostOnDrop) + " on connections the server dropped, "
            + std::to_string(open) + " on connections still open");
    }
    add(t.m_misrouted, "messages misrouted (delivered to the wrong uid)");
    add(t.m_duplicates, "duplicate deliveries");
    if (t.m_malformed)
        p.push_back(std::to_string(t.m_malformed)
            + " malformed messages (first: " + t.m_firstMalformed + ")");
    add(t.deliveredWithoutOk(), "pushes delivered without an ok reply");
    if (t.m_error)
        p.push_back(
            std::to_string(t.m_error) + " pushes answered error (first: " + t.m_firstError + ")");
    if (t.m_unanswered)
        p.push_back(std::to_string(t.m_unanswered) + " pushes unanswered ("
            + m_sender.m_firstFailure + ")");
    add(s.unexpectedFails, "pushes answered fail while their client was bound");
    add(s.failsAfterEnd,
        "pushes answered fail after their client gave up waiting (--drain-timeout) or was "
        "dropped while reading");
    if (s.bindFailures)
        p.push_back(std::to_string(s.bindFailures)
            + " connections that did not get bound (first: " + s.firstFailure + ")");
    if (s.unexpectedDrops)
        p.push_back(std::to_string(s.unexpectedDrops)
            + " connections that were reading ended by the server (first: " + s.firstDrop + ")");
    if (s.protocolErrors)
        p.push_back(std::to_string(s.protocolErrors)
            + " WebSocket protocol errors (first: " + s.firstProtocolError + ")");
    add(s.cleanNoEcho, "close frames the server did not echo before its FIN");
    add(s.closeTimeouts, "close frames after which the server never closed");
    add(s.internalErrors, "bench bookkeeping errors (a pushbench bug)");
    if (m_o.unbound > 0) {
        add(s.unboundLate,
            "unbound connections not closed by the server within --bind-timeout + 5 s");
        add(s.unboundClosedOther, "unbound connections closed without a 1008 close frame");
        add(s.unboundMessages, "messages pushed to unbound connections");
        add(s.unboundFailures, "unbound connections that failed to connect");
    }
    for (const std::string &what : m_unsettled)
        p.push_back("the clients did not settle " + what + " (RSS and descriptors not comparable)");
    if (m_o.serverPid > 0 && m_stop == Stop::No) {
        const double growth = rssGrowth();
        if (growth > m_o.maxRssGrowth) {
            char buf[200];
            std::snprintf(buf, sizeof buf,
                "server RSS grew %.1f %% from the warm-up to the end (%s -> %s; limit %.1f %%)",
                growth, mib(m_warm.rssKb).c_str(), mib(m_end.rssKb).c_str(), m_o.maxRssGrowth);
            p.push_back(buf);
        }
        if (m_warm.fds != m_end.fds)
            p.push_back("server descriptors changed with the same clients connected: "
                + std::to_string(m_warm.fds) + " after the warm-up, " + std::to_string(m_end.fds)
                + " at the end");
        if (m_after.fds > m_before.fds)
            p.push_back("server descriptor leak: " + std::to_string(m_after.fds) + " open "
                + std::to_string(int64_t(m_o.fdWait)) + " s after the bench closed everything, "
                + std::to_string(m_before.fds) + " before the run");
    }
    if (!m_serverAlive)
        p.push_back("the server process is gone");
    return p;
}

void Soak::report(const std::vector<std::string> &problems) const
{
    const ChurnPool::Stats &s = m_pool.m_stats;
    const Tracker &t = m_tracker;
    const uint64_t rebinds = s.binds - std::min<uint64_t>(s.binds, m_bound);
    std::printf(
        "pushbench soak: %u clients, %.0f s of churn at %g/s, pushes at %s/s, stalls %g/s x "
        "%g s (up to %llu bytes each), %u unbound\n",
        m_o.clients, m_o.soak, m_o.churn,
        m_o.rate > 0 ? std::to_string(int64_t(m_o.rate)).c_str() : "max", m_o.stallRate, m_o.stall,
        ull(m_o.stallBytes), m_o.unbound);
    const uint64_t leaves =
        s.leaves[ChurnPool::CloseFrame] + s.leaves[ChurnPool::Fin] + s.leaves[ChurnPool::Reset];
    std::printf("clients     %u bound in %.2f s; %llu rebinds: %llu after leaving (close frame "
                "%llu, FIN %llu, RST %llu), %llu after a drop or failed bind; rebind p50 %.1f ms "
                "p99 %.1f ms; %llu probes reached an older connection\n",
        m_bound, seconds(m_rampEnd - m_start), ull(rebinds), ull(leaves),
        ull(s.leaves[ChurnPool::CloseFrame]), ull(s.leaves[ChurnPool::Fin]),
        ull(s.leaves[ChurnPool::Reset]), ull(rebinds - std::min(rebinds, leaves)),
        double(s.rebind.quantileNs(0.5)) / 1e6, double(s.rebind.quantileNs(0.99)) / 1e6,
        ull(s.reprobes));
    std::printf("held        %u-%u bound clients during the churn (mean %.0f), at most %u "
                "WebSocket connections open at once; %llu pings answered\n",
        m_boundSamples ? m_minBound : 0, m_maxBound,
        m_boundSamples ? double(m_boundSum) / double(m_boundSamples) : 0.0, s.maxOpen,
        ull(s.pings));
    std::printf(
        "problems    bind failures %llu, dropped while reading %llu, close not echoed %llu, "
        "close timeouts %llu, drain timeouts %llu, protocol errors %llu\n",
        ull(s.bindFailures), ull(s.unexpectedDrops), ull(s.cleanNoEcho), ull(s.closeTimeouts),
        ull(s.drainTimeouts), ull(s.protocolErrors));
    std::printf("slow        %llu stalls: %llu dropped by the server, %llu resumed; %llu flood "
                "pushes; excused %llu ok and %llu fail replies\n",
        ull(s.stalls), ull(s.slowDrops), ull(s.stallsResumed), ull(s.floodPushes), ull(s.excusedOk),
        ull(s.excusedFails));
    if (m_o.unbound > 0)
        std::printf("unbound     %llu opened; closed by the server after %.2f-%.2f s: %llu with "
                    "1008, %llu otherwise; %llu not closed in time\n",
            ull(s.unboundOpened), s.unboundMinNs < 0 ? 0.0 : seconds(s.unboundMinNs),
            s.unboundMaxNs < 0 ? 0.0 : seconds(s.unboundMaxNs), ull(s.unboundClosed1008),
            ull(s.unboundClosedOther), ull(s.unboundLate));
    std::printf("pushes      sent %llu, ok %llu, fail %llu (%llu excused), error %llu, unanswered "
                "%llu\n",
        ull(t.m_sent), ull(t.m_ok), ull(t.m_fail), ull(s.excusedFails), ull(t.m_error),
        ull(t.m_unanswered));
    std::printf("delivered   %llu; lost %llu, excused %llu, misrouted %llu, duplicates %llu, "
                "malformed %llu\n",
        ull(t.m_delivered), ull(t.outstanding()), ull(t.m_excused), ull(t.m_misrouted),
        ull(t.m_duplicates), ull(t.m_malformed));
    const Histogram &l = s.latency;
    std::printf("latency ms  clients that never stalled: p50 %.2f p99 %.2f p99.9 %.2f max %.2f; "
                "all: max %.0f\n",
        double(l.quantileNs(0.5)) / 1e6, double(l.quantileNs(0.99)) / 1e6,
        double(l.quantileNs(0.999)) / 1e6, double(l.maxNs()) / 1e6,
        double(t.m_latency.maxNs()) / 1e6);
    if (m_o.serverPid > 0) {
        std::printf(
            "server RSS  before %s, after warm-up %s (t=%.0f s), end %s (t=%.0f s): %+.2f %% "
            "(limit %.1f %%); peak %s\n",
            mib(m_before.rssKb).c_str(), mib(m_warm.rssKb).c_str(),
            m_warm.at ? seconds(m_warm.at - m_churnStart) : 0.0, mib(m_end.rssKb).c_str(),
            m_end.at ? seconds(m_end.at - m_churnStart) : 0.0, rssGrowth(), m_o.maxRssGrowth,
            mib(m_peakRss).c_str());
        std::printf("server fds  before %d, after warm-up %d, end %d, peak %d, after closing %d",
            m_before.fds, m_warm.fds, m_end.fds, m_peakFds, m_after.fds);
        if (m_fdsBackNs >= 0)
            std::printf(
                " (back to the baseline %.2f s after the bench closed)", seconds(m_fdsBackNs));
        std::printf("\n");
    } else {
        std::printf("server      no --server-pid: RSS and descriptor checks skipped\n");
    }
    if (problems.empty()) {
        std::printf("result      OK\n");
    } else {
        std::printf("result      FAILED\n");
        for (const std::string &p : problems)
            std::printf("  - %s\n", p.c_str());
    }
}

void Soak::reportJson(const std::vector<std::string> &problems) const
{
    const ChurnPool::Stats &s = m_pool.m_stats;
    const Tracker &t = m_tracker;
    std::string out = "{";
    char buf[1024];
    const auto add = [&](const char *format, auto... args) {
        std::snprintf(buf, sizeof buf, format, args...);
        out += buf;
    };
    add("\"ok\":%s,\"mode\":\"soak\",\"clients\":%u,\"soak_s\":%.1f,\"churn_per_s\":%.3f,"
        "\"rate\":%.3f,\"stall_rate\":%.3f,\"stall_s\":%.3f,\"stall_bytes\":%llu,\"unbound\":%u,",
        problems.empty() ? "true" : "false", m_o.clients, m_o.soak, m_o.churn, m_o.rate,
        m_o.stallRate, m_o.stall, ull(m_o.stallBytes), m_o.unbound);
    add("\"ramp_s\":%.3f,\"bound\":%u,\"binds\":%llu,\"leaves_close_frame\":%llu,"
        "\"leaves_fin\":%llu,\"leaves_rst\":%llu,\"reprobes\":%llu,\"rebind_p50_ms\":%.3f,"
        "\"rebind_p99_ms\":%.3f,\"max_open\":%u,\"pings\":%llu,\"bound_min\":%u,"
        "\"bound_max\":%u,",
        seconds(m_rampEnd - m_start), m_bound, ull(s.binds), ull(s.leaves[ChurnPool::CloseFrame]),
        ull(s.leaves[ChurnPool::Fin]), ull(s.leaves[ChurnPool::Reset]), ull(s.reprobes),
        double(s.rebind.quantileNs(0.5)) / 1e6, double(s.rebind.quantileNs(0.99)) / 1e6, s.maxOpen,
        ull(s.pings), m_boundSamples ? m_minBound : 0, m_maxBound);
    add("\"bind_failures\":%llu,\"unexpected_drops\":%llu,\"close_not_echoed\":%llu,"
        "\"close_timeouts\":%llu,\"drain_timeouts\":%llu,\"protocol_errors\":%llu,"
        "\"internal_errors\":%llu,",
        ull(s.bindFailures), ull(s.unexpectedDrops), ull(s.cleanNoEcho), ull(s.closeTimeouts),
        ull(s.drainTimeouts), ull(s.protocolErrors), ull(s.internalErrors));
    add("\"stalls\":%llu,\"slow_drops\":%llu,\"stalls_resumed\":%llu,\"flood_pushes\":%llu,"
        "\"excused_ok\":%llu,\"excused_fail\":%llu,",
        ull(s.stalls), ull(s.slowDrops), ull(s.stallsResumed), ull(s.floodPushes), ull(s.excusedOk),
        ull(s.excusedFails));
    add("\"unbound_opened\":%llu,\"unbound_closed_1008\":%llu,\"unbound_closed_other\":%llu,"
        "\"unbound_late\":%llu,\"unbound_min_s\":%.3f,\"unbound_max_s\":%.3f,",
        ull(s.unboundOpened), ull(s.unboundClosed1008), ull(s.unboundClosedOther),
        ull(s.unboundLate), s.unboundMinNs < 0 ? -1.0 : seconds(s.unboundMinNs),
        s.unboundMaxNs < 0 ? -1.0 : seconds(s.unboundMaxNs));
    add("\"sent\":%llu,\"replies_ok\":%llu,\"replies_fail\":%llu,\"replies_error\":%llu,"
        "\"unanswered\":%llu,\"unexpected_fails\":%llu,\"fails_after_end\":%llu,\"delivered\":%llu,"
        "\"lost\":%llu,"
        "\"lost_at_leave\":%llu,\"lost_on_drop\":%llu,\"excused\":%llu,\"misrouted\":%llu,"
        "\"duplicates\":%llu,\"malformed\":%llu,\"delivered_without_ok\":%llu,"
        "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,",
        ull(t.m_sent), ull(t.m_ok), ull(t.m_fail), ull(t.m_error), ull(t.m_unanswered),
        ull(s.unexpectedFails), ull(s.failsAfterEnd), ull(t.m_delivered), ull(t.outstanding()),
        ull(s.lostAtLeave), ull(s.lostOnDrop), ull(t.m_excused), ull(t.m_misrouted),
        ull(t.m_duplicates), ull(t.m_malformed), ull(t.deliveredWithoutOk()),
        double(s.latency.quantileNs(0.5)) / 1e6, double(s.latency.quantileNs(0.99)) / 1e6);
    add("\"rss_kb\":{\"before\":%lld,\"warm\":%lld,\"end\":%lld,\"peak\":%lld,\"after\":%lld},"
        "\"rss_growth_pct\":%.3f,\"fds\":{\"before\":%d,\"warm\":%d,\"end\":%d,\"peak\":%d,"
        "\"after\":%d},\"fds_back_s\":%.3f,",
        static_cast<long long>(m_before.rssKb), static_cast<long long>(m_warm.rssKb),
        static_cast<long long>(m_end.rssKb), static_cast<long long>(m_peakRss),
        static_cast<long long>(m_after.rssKb), rssGrowth(), m_before.fds, m_warm.fds, m_end.fds,
        m_peakFds, m_after.fds, m_fdsBackNs < 0 ? -1.0 : seconds(m_fdsBackNs));
    out += "\"problems\":[";
    for (size_t i = 0; i < problems.size(); ++i)
        out += (i ? "," : "") + jsonString(problems[i]);
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
}

} // namespace

int runSoak(const Options &options, const volatile std::sig_atomic_t *interrupted)
{
    Soak soak(options, interrupted);
    return soak.run();
}

} // namespace bench
