// pushbench: load generator for pushconsole. One thread, one epoll loop:
// WebSocket clients and push connections share it, so the bench needs one
// core and stays out of the server's way (pin them apart: --cpu, taskset).
#include "Options.h"
#include "Proc.h"
#include "PushSender.h"
#include "Soak.h"
#include "Tracker.h"
#include "Util.h"
#include "WsClientPool.h"
#include "WsProtocol.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <netinet/in.h>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <vector>

using namespace bench;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void onSignal(int)
{
    g_interrupted = 1;
}

class Bench
{
public:
    explicit Bench(const Options &o)
        : m_o(o)
        , m_tracker(o.pushes, o.uidPrefix)
        , m_pool(m_epoll, o, m_tracker)
        , m_sender(m_epoll, o, m_tracker)
    {
        m_pool.bindWritten = [this](uint32_t client) {
            if (m_o.verifyBind)
                m_sender.probe(client);
            else
                m_pool.markBound(client, nowNs());
        };
        m_sender.probeOk = [this](uint32_t client, int64_t now) { m_pool.markBound(client, now); };
        m_sender.probeWanted = [this](uint32_t client) { return m_pool.verifying(client); };
    }

    int run();

private:
    enum class Stop { No, Deadline, Interrupted, Fatal };
    // One turn of the loop; says why the run must stop, if it must.
    Stop turn(int64_t deadline);
    void progress(const char *format, ...) __attribute__((format(printf, 2, 3)));
    std::vector<std::string> problems() const;
    void report(const std::vector<std::string> &problems) const;
    void reportJson(const std::vector<std::string> &problems) const;
    // CPU time other processes used during the push phase; -1 if unknown.
    int64_t otherCpuUs() const;

    const Options &m_o;
    Epoll m_epoll;
    Tracker m_tracker;
    WsClientPool m_pool;
    PushSender m_sender;

    Stop m_stop = Stop::No;
    std::string m_stopPhase;
    int64_t m_start = 0, m_bindEnd = 0, m_pushStart = 0, m_repliesEnd = 0, m_pushEnd = 0;
    ServerSample m_before, m_bound, m_pushBegin, m_after;
    int64_t m_benchCpuStart = 0, m_benchCpuEnd = 0;
    MachineSample m_machineStart, m_machineEnd;
    bool m_serverAlive = true;
};

void Bench::progress(const char *format, ...)
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

Bench::Stop Bench::turn(int64_t deadline)
{
    int64_t now = nowNs();
    if (g_interrupted)
        return Stop::Interrupted;
    if (now >= deadline)
        return Stop::Deadline;
    // Pacing and retries run on the clock; otherwise sockets wake us.
    int timeoutMs = m_sender.ticking() || m_pool.backingOff() ? 1 : 50;
    const int64_t left = (deadline - now) / 1000000 + 1;
    if (left < timeoutMs)
        timeoutMs = int(left);
    epoll_event events[1024];
    const int n = epoll_wait(m_epoll.fd(), events, 1024, timeoutMs);
    if (n < 0 && errno != EINTR) {
        m_sender.m_fatal = "epoll_wait: " + errorText(errno);
        return Stop::Fatal;
    }
    now = nowNs();
    for (int i = 0; i < n; ++i) {
        const uint64_t token = events[i].data.u64;
        if (tokenKind(token) == Kind::WsClient)
            m_pool.handle(tokenIndex(token), events[i].events, now);
        else
            m_sender.handle(token, events[i].events, now);
    }
    m_pool.fill(now);
    m_sender.pump(now);
    return m_sender.m_fatal.empty() ? Stop::No : Stop::Fatal;
}

int Bench::run()
{
    if (!m_epoll.valid()) {
        std::fprintf(stderr, "pushbench: epoll_create1: %s\n", std::strerror(errno));
        return 1;
    }
    m_start = nowNs();
    const int64_t deadline = m_start + int64_t(m_o.duration * 1e9);
    m_before = sampleServer(m_o.serverPid);

    // Phase 1: connect and bind every client, a window at a time.
    progress("connecting %u clients to 127.0.0.1:%d", m_o.clients, m_o.wsPort);
    if (m_o.verifyBind && !m_sender.openProbes())
        m_stop = Stop::Fatal;
    while (m_stop == Stop::No && !m_pool.settled())
        m_stop = turn(deadline);
    m_sender.closeProbes();
    m_bindEnd = nowNs();
    m_bound = sampleServer(m_o.serverPid);
    if (m_stop != Stop::No)
        m_stopPhase = "connect";
    else
        progress("%u/%u clients bound in %.3f s", m_pool.m_bound, m_o.clients,
            double(m_bindEnd - m_start) / 1e9);

    // Phase 2: push, then wait (at most the grace period) for late deliveries.
    // Pushing to nobody would only measure "fail" replies.
    if (m_stop == Stop::No && m_o.pushes > 0 && m_pool.m_bound > 0) {
        progress("pushing %llu messages (%s)", static_cast<unsigned long long>(m_o.pushes),
            m_o.mode == Mode::Pipeline ? "pipeline" : "connect");
        m_pushBegin = sampleServer(m_o.serverPid);
        m_benchCpuStart = selfCpuUs();
        m_machineStart = sampleMachine();
        m_pushStart = nowNs();
        m_sender.start(m_pushStart);
        while (m_stop == Stop::No && !m_sender.done())
            m_stop = turn(deadline);
        m_repliesEnd = nowNs();
        const int64_t graceEnd = m_repliesEnd + int64_t(m_o.grace * 1e9);
        while (m_stop == Stop::No && m_tracker.outstanding() > 0 && nowNs() < graceEnd)
            m_stop = turn(std::min(deadline, graceEnd));
        if (m_stop == Stop::Deadline && nowNs() >= graceEnd && nowNs() < deadline)
            m_stop = Stop::No; // the grace period ran out, not the run
        if (m_stop != Stop::No)
            m_stopPhase = "push";
        m_pushEnd = nowNs();
        m_benchCpuEnd = selfCpuUs();
        m_machineEnd = sampleMachine();
        m_after = sampleServer(m_o.serverPid);
    }
    // Receivers of someone else's broadcasts (bench/fanout.sh) stay a while.
    if (m_stop == Stop::No && m_o.hold > 0) {
        progress("holding %u clients for %.1f s", m_pool.m_bound, m_o.hold);
        const int64_t holdEnd = std::min(deadline, nowNs() + int64_t(m_o.hold * 1e9));
        while (m_stop == Stop::No && nowNs() < holdEnd)
            m_stop = turn(holdEnd);
        if (m_stop == Stop::Deadline)
            m_stop = Stop::No;
    }
    m_sender.abandon(nowNs());
    m_pool.closeAll();
    if (m_o.serverPid > 0)
        m_serverAlive = ::kill(m_o.serverPid, 0) == 0 || errno == EPERM;

    const std::vector<std::string> found = problems();
    if (m_o.json)
        reportJson(found);
    else
        report(found);
    return found.empty() ? 0 : 1;
}

int64_t Bench::otherCpuUs() const
{
    if (!m_pushStart || m_machineStart.busyUs < 0 || m_machineEnd.busyUs < 0)
        return -1;
    int64_t other = m_machineEnd.busyUs - m_machineStart.busyUs - (m_benchCpuEnd - m_benchCpuStart);
    if (m_o.serverPid > 0 && m_after.cpuUs >= 0 && m_pushBegin.cpuUs >= 0)
        other -= m_after.cpuUs - m_pushBegin.cpuUs;
    return other < 0 ? 0 : other; // tick rounding
}

std::vector<std::string> Bench::problems() const
{
    std::vector<std::string> p;
    const auto add = [&p](uint64_t n, const char *what) {
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
        p.push_back(m_sender.m_fatal);
        break;
    case Stop::No:
        break;
    }
    if (m_pool.m_bound < m_o.clients)
        p.push_back(std::to_string(m_o.clients - m_pool.m_bound) + " of "
            + std::to_string(m_o.clients) + " clients not bound (first: "
            + (m_pool.m_firstFailure.empty() ? std::string("none failed, still pending")
                                             : m_pool.m_firstFailure)
            + ")");
    if (m_pool.m_dropped)
        p.push_back(std::to_string(m_pool.m_dropped)
            + " bound clients dropped (first: " + m_pool.m_firstFailure + ")");
    add(m_pool.m_protocolErrors, "WebSocket protocol errors");
    if (m_stopPhase != "connect" && m_o.pushes > 0) {
        add(m_o.pushes - m_sender.issued(), "pushes never sent");
        add(m_tracker.m_fail, "pushes answered fail");
        if (m_tracker.m_error)
            p.push_back(std::to_string(m_tracker.m_error)
                + " pushes answered error (first: " + m_tracker.m_firstError + ")");
        if (m_tracker.m_unanswered)
            p.push_back(std::to_string(m_tracker.m_unanswered) + " pushes unanswered ("
                + m_sender.m_firstFailure + ")");
    }
    add(m_tracker.outstanding(), "pushes lost (ok but never delivered)");
    add(m_tracker.m_misrouted, "messages misrouted (delivered to the wrong uid)");
    add(m_tracker.m_duplicates, "duplicate deliveries");
    if (m_tracker.m_malformed)
        p.push_back(std::to_string(m_tracker.m_malformed)
            + " malformed messages (first: " + m_tracker.m_firstMalformed + ")");
    add(m_tracker.deliveredWithoutOk(), "pushes delivered without an ok reply");
    if (!m_serverAlive)
        p.push_back("the server process is gone");
    return p;
}

double seconds(int64_t ns)
{
    return double(ns) / 1e9;
}

double perSecond(uint64_t n, int64_t ns)
{
    return ns > 0 ? double(n) * 1e9 / double(ns) : 0.0;
}

double us(uint64_t ns)
{
    return double(ns) / 1000.0;
}

std::string secondsText(int64_t ns)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", seconds(ns));
    return buf;
}

std::string mib(int64_t kb)
{
    if (kb < 0)
        return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(kb) / 1024);
    return buf;
}

// Bytes of server memory per bound idle connection; -1 if unknown.
double rssPerConnection(const ServerSample &before, const ServerSample &bound, uint32_t n)
{
    if (before.rssKb < 0 || bound.rssKb < 0 || n == 0)
        return -1;
    return double(bound.rssKb - before.rssKb) * 1024.0 / n;
}

void Bench::report(const std::vector<std::string> &problems) const
{
    const Tracker &t = m_tracker;
    const int64_t bindTime = (m_pool.m_lastBound ? m_pool.m_lastBound : m_bindEnd) - m_start;
    const int64_t pushTime = std::max(t.m_lastDelivery, t.m_lastReply) - m_pushStart;
    std::printf("pushbench: %u clients, %llu pushes, mode %s", m_o.clients,
        static_cast<unsigned long long>(m_o.pushes),
        m_o.mode == Mode::Pipeline ? "pipeline" : "connect");
    if (m_o.mode == Mode::Pipeline)
        std::printf(" (%u conns x depth %u)", m_o.conns, m_o.depth);
    else
        std::printf(" (concurrency %u)", m_o.concurrency);
    std::printf(", rate %s, payload %u\n", m_o.rate > 0 ? std::to_string(m_o.rate).c_str() : "max",
        m_o.payload);
    std::printf("clients     connected %u, bound %u/%u (%s), failed %u, dropped %u, pings "
                "answered %llu\n",
        m_pool.m_connected, m_pool.m_bound, m_o.clients,
        m_o.verifyBind ? "verified by probe" : "not verified", m_pool.m_failed, m_pool.m_dropped,
        static_cast<unsigned long long>(m_pool.m_pings));
    std::printf("connect     handshakes done in %s, all bound in %.3f s: %.0f clients/s",
        m_pool.m_lastConnected ? secondsText(m_pool.m_lastConnected - m_start).c_str() : "n/a",
        seconds(bindTime), perSecond(m_pool.m_bound, bindTime));
    if (m_o.verifyBind)
        std::printf(" (%llu probes, %llu retried)",
            static_cast<unsigned long long>(m_sender.m_probesSent),
            static_cast<unsigned long long>(m_sender.m_probeRetries));
    std::printf("\n");
    if (m_pushStart) {
        std::printf("pushes      sent %llu, ok %llu, fail %llu, error %llu, unanswered %llu; "
                    "%.0f replies/s; %llu TCP connections",
            static_cast<unsigned long long>(t.m_sent), static_cast<unsigned long long>(t.m_ok),
            static_cast<unsigned long long>(t.m_fail), static_cast<unsigned long long>(t.m_error),
            static_cast<unsigned long long>(t.m_unanswered),
            perSecond(t.resolved(), m_repliesEnd - m_pushStart),
            static_cast<unsigned long long>(m_sender.m_connections));
        if (m_sender.m_portRetries)
            std::printf(", %llu waits for a free port",
                static_cast<unsigned long long>(m_sender.m_portRetries));
        std::printf("\n");
        std::printf("delivered   %llu in %.3f s: %.0f msg/s; lost %llu, misrouted %llu, "
                    "duplicates %llu, malformed %llu\n",
            static_cast<unsigned long long>(t.m_delivered), seconds(pushTime),
            perSecond(t.m_delivered, pushTime), static_cast<unsigned long long>(t.outstanding()),
            static_cast<unsigned long long>(t.m_misrouted),
            static_cast<unsigned long long>(t.m_duplicates),
            static_cast<unsigned long long>(t.m_malformed));
        const Histogram &l = t.m_latency;
        std::printf("latency us  delivery p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f "
                    "(mean %.1f)\n",
            us(l.quantileNs(0.5)), us(l.quantileNs(0.9)), us(l.quantileNs(0.99)),
            us(l.quantileNs(0.999)), us(l.maxNs()), l.meanNs() / 1000.0);
        const Histogram &r = t.m_roundTrip;
        std::printf("latency us  reply    p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f "
                    "(mean %.1f)\n",
            us(r.quantileNs(0.5)), us(r.quantileNs(0.9)), us(r.quantileNs(0.99)),
            us(r.quantileNs(0.999)), us(r.maxNs()), r.meanNs() / 1000.0);
    }
    if (m_o.serverPid > 0) {
        const double perConnection = rssPerConnection(m_before, m_bound, m_pool.m_bound);
        std::printf("server RSS  before %s, bound %s (%s per idle connection), after pushes %s\n",
            mib(m_before.rssKb).c_str(), mib(m_bound.rssKb).c_str(),
            perConnection < 0 ? "n/a" : (std::to_string(int64_t(perConnection)) + " bytes").c_str(),
            mib(m_after.rssKb).c_str());
        if (m_pushStart && m_after.cpuUs >= 0 && m_pushBegin.cpuUs >= 0) {
            const int64_t cpu = m_after.cpuUs - m_pushBegin.cpuUs;
            std::printf("server CPU  %.3f s in the push phase: %.2f us per delivered push\n",
                double(cpu) / 1e6, t.m_delivered ? double(cpu) / double(t.m_delivered) : 0.0);
        }
    }
    if (t.m_broadcasts > 0) {
        const Histogram &b = t.m_broadcastLatency;
        std::printf("broadcasts  %llu frames; latency us p50 %.1f p99 %.1f max %.1f\n",
            static_cast<unsigned long long>(t.m_broadcasts), us(b.quantileNs(0.5)),
            us(b.quantileNs(0.99)), us(b.maxNs()));
    }
    if (m_pushStart) {
        const int64_t cpu = m_benchCpuEnd - m_benchCpuStart;
        std::printf("bench CPU   %.3f s in the push phase: %.2f us per delivered push\n",
            double(cpu) / 1e6, t.m_delivered ? double(cpu) / double(t.m_delivered) : 0.0);
    }
    if (const int64_t other = otherCpuUs(); other >= 0 && m_o.serverPid > 0) {
        const double share = double(other)
            / (double(m_pushEnd - m_pushStart) / 1000.0 * double(sysconf(_SC_NPROCESSORS_ONLN)));
        std::printf("machine     other processes used %.3f s CPU in the push phase (%.0f%% of "
                    "all cores), VM steal %.3f s%s\n",
            double(other) / 1e6, share * 100,
            double(m_machineEnd.stealUs - m_machineStart.stealUs) / 1e6,
            share > 0.05 ? ": the figures above are disturbed" : "");
    }
    if (problems.empty()) {
        std::printf("result      OK\n");
    } else {
        std::printf("result      FAILED\n");
        for (const std::string &p : problems)
            std::printf("  - %s\n", p.c_str());
    }
}

void Bench::reportJson(const std::vector<std::string> &problems) const
{
    const Tracker &t = m_tracker;
    const int64_t bindTime = (m_pool.m_lastBound ? m_pool.m_lastBound : m_bindEnd) - m_start;
    const int64_t pushTime =
        m_pushStart ? std::max(t.m_lastDelivery, t.m_lastReply) - m_pushStart : 0;
    const auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    std::string out = "{";
    char buf[512];
    const auto add = [&](const char *format, auto... args) {
        std::snprintf(buf, sizeof buf, format, args...);
        out += buf;
    };
    add("\"ok\":%s,\"mode\":\"%s\",\"clients\":%u,\"pushes\":%llu,\"conns\":%u,\"depth\":%u,"
        "\"concurrency\":%u,\"rate\":%.3f,\"payload\":%u,",
        problems.empty() ? "true" : "false", m_o.mode == Mode::Pipeline ? "pipeline" : "connect",
        m_o.clients, u(m_o.pushes), m_o.conns, m_o.depth, m_o.concurrency, m_o.rate, m_o.payload);
    add("\"connected\":%u,\"bound\":%u,\"failed\":%u,\"dropped\":%u,\"verify_bind\":%s,"
        "\"pings\":%llu,\"probes\":%llu,\"probe_retries\":%llu,",
        m_pool.m_connected, m_pool.m_bound, m_pool.m_failed, m_pool.m_dropped,
        m_o.verifyBind ? "true" : "false", u(m_pool.m_pings), u(m_sender.m_probesSent),
        u(m_sender.m_probeRetries));
    add("\"connect_s\":%.6f,\"bind_s\":%.6f,\"connect_rate\":%.1f,",
        m_pool.m_lastConnected ? seconds(m_pool.m_lastConnected - m_start) : -1.0,
        seconds(bindTime), perSecond(m_pool.m_bound, bindTime));
    add("\"sent\":%llu,\"replies_ok\":%llu,\"replies_fail\":%llu,\"replies_error\":%llu,"
        "\"unanswered\":%llu,\"replies_per_s\":%.1f,\"tcp_connections\":%llu,\"port_waits\":%llu,",
        u(t.m_sent), u(t.m_ok), u(t.m_fail), u(t.m_error), u(t.m_unanswered),
        perSecond(t.resolved(), m_repliesEnd - m_pushStart), u(m_sender.m_connections),
        u(m_sender.m_portRetries));
    add("\"delivered\":%llu,\"push_s\":%.6f,\"delivered_per_s\":%.1f,\"lost\":%llu,"
        "\"misrouted\":%llu,\"duplicates\":%llu,\"malformed\":%llu,\"delivered_without_ok\":%llu,",
        u(t.m_delivered), seconds(pushTime), perSecond(t.m_delivered, pushTime), u(t.outstanding()),
        u(t.m_misrouted), u(t.m_duplicates), u(t.m_malformed), u(t.deliveredWithoutOk()));
    for (int h = 0; h < 2; ++h) {
        const Histogram &l = h == 0 ? t.m_latency : t.m_roundTrip;
        add("\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
            "\"mean\":%.1f},",
            h == 0 ? "latency_us" : "reply_us", us(l.quantileNs(0.5)), us(l.quantileNs(0.9)),
            us(l.quantileNs(0.99)), us(l.quantileNs(0.999)), us(l.maxNs()), l.meanNs() / 1000.0);
    }
    const int64_t serverCpu = m_after.cpuUs >= 0 && m_pushBegin.cpuUs >= 0 && m_pushStart
        ? m_after.cpuUs - m_pushBegin.cpuUs
        : -1;
    add("\"server_rss_kb\":{\"before\":%lld,\"bound\":%lld,\"after\":%lld},"
        "\"server_rss_per_conn_bytes\":%.1f,\"server_cpu_us\":%lld,"
        "\"server_cpu_us_per_push\":%.3f,",
        static_cast<long long>(m_before.rssKb), static_cast<long long>(m_bound.rssKb),
        static_cast<long long>(m_after.rssKb), rssPerConnection(m_before, m_bound, m_pool.m_bound),
        static_cast<long long>(serverCpu),
        serverCpu >= 0 && t.m_delivered ? double(serverCpu) / double(t.m_delivered) : -1.0);
    const int64_t benchCpu = m_pushStart ? m_benchCpuEnd - m_benchCpuStart : -1;
    add("\"bench_cpu_us\":%lld,\"bench_cpu_us_per_push\":%.3f,", static_cast<long long>(benchCpu),
        benchCpu >= 0 && t.m_delivered ? double(benchCpu) / double(t.m_delivered) : -1.0);
    const bool machine = m_pushStart && m_machineEnd.stealUs >= 0;
    add("\"other_cpu_us\":%lld,\"steal_us\":%lld,", static_cast<long long>(otherCpuUs()),
        static_cast<long long>(machine ? m_machineEnd.stealUs - m_machineStart.stealUs : -1));
    out += "\"problems\":[";
    for (size_t i = 0; i < problems.size(); ++i)
        out += (i ? "," : "") + jsonString(problems[i]);
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
}

int selfTest()
{
    int failures = 0;
    const auto check = [&failures](bool ok, const char *what) {
        if (!ok) {
            std::fprintf(stderr, "self-test FAILED: %s\n", what);
            ++failures;
        }
    };
    unsigned char d[20];
    sha1("abc", 3, d);
    check(base64(d, 20) == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", "sha1(abc)");
    const std::string million(1000000, 'a');
    sha1(million.data(), million.size(), d);
    check(base64(d, 20) == "NKqXPNTE2qT2Husr260nMWU0AW8=", "sha1(a x 1e6)");
    const std::string longer(56, 'q'); // padding spills into a second block
    sha1(longer.data(), longer.size(), d);
    check(base64(d, 20) == "zDDVvAK9JvPabFgBiAB42tmmMDI=", "sha1(56 bytes)");
    check(websocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "RFC 6455 accept example");
    check(base64(reinterpret_cast<const unsigned char *>("fo"), 2) == "Zm8=", "base64(fo)");
    check(base64(reinterpret_cast<const unsigned char *>("f"), 1) == "Zg==", "base64(f)");
    Histogram h;
    for (int i = 1; i <= 100000; ++i)
        h.record(int64_t(i) * 1000);
    const double p50 = double(h.quantileNs(0.5)), p99 = double(h.quantileNs(0.99));
    check(p50 > 50e6 * 0.98 && p50 < 50e6 * 1.02, "histogram p50");
    check(p99 > 99e6 * 0.98 && p99 < 99e6 * 1.02, "histogram p99");
    check(h.maxNs() == 100000000 && h.count() == 100000, "histogram max/count");
    for (uint64_t v : {0ull, 1ull, 63ull, 64ull, 65ull, 1000ull, 123456789ull, 1ull << 40}) {
        const int i = Histogram::index(v);
        check(Histogram::lowerBound(i) <= v && v < Histogram::lowerBound(i + 1),
            "histogram bucket bounds");
    }
    Tracker t(10, "b");
    t.reply(3, Reply::Ok, 1000, 1);
    t.message(7, "{\"uid\":\"b7\",\"seq\":3,\"t\":0}", 26, 5);
    t.message(7, "{\"uid\":\"b7\",\"seq\":3,\"t\":0}", 26, 5);
    t.message(6, "{\"uid\":\"b7\",\"seq\":4,\"t\":0}", 26, 5);
    t.message(7, "{\"uid\":\"b07\",\"seq\":4,\"t\":0}", 27, 5);
    t.message(7, "hello", 5, 5);
    check(t.m_delivered == 1 && t.m_duplicates == 1 && t.m_misrouted == 2 && t.m_malformed == 1
            && t.outstanding() == 0,
        "tracker");
    // The soak's bookkeeping: outstanding "ok" pushes, arrivals, excuses.
    Tracker g(0, "b");
    g.sent(0);
    g.sent(1);
    check(g.reply(0, Reply::Ok, 1, 1) && g.outstanding() == 1, "tracker: ok is outstanding");
    const Arrival a = g.message(0, "{\"uid\":\"b0\",\"seq\":0,\"t\":0}", 26, 5);
    check(a.kind == Arrival::Kind::Push && a.settledOk && g.outstanding() == 0,
        "tracker: arrival settles an ok push");
    const Arrival b = g.message(2, "{\"uid\":\"b2\",\"seq\":1,\"t\":0}", 26, 5);
    check(b.kind == Arrival::Kind::Push && !b.settledOk && !g.reply(1, Reply::Ok, 1, 6),
        "tracker: arrival before the reply");
    check(g.message(3, "{\"uid\":\"b3\",\"probe\":3}", 24, 7).kind == Arrival::Kind::Probe,
        "tracker: probe");
    g.sent(2);
    g.reply(2, Reply::Ok, 1, 8);
    g.excuse(1);
    check(g.outstanding() == 0 && g.m_excused == 1, "tracker: excuse");

    // The client side of RFC 6455 shared by both pools.
    char frame[ws::MaxClientFrame];
    const size_t n = ws::encodeClientFrame(frame, ws::Text, "b17", 3, 0x11223344);
    check(n == 9 && uint8_t(frame[0]) == 0x81 && uint8_t(frame[1]) == 0x83
            && (frame[6] ^ frame[2]) == 'b' && (frame[8] ^ frame[4]) == '7',
        "client frame: masked");
    check(ws::encodeClientFrame(frame, ws::Text, million.data(), 300, 0) == 0,
        "client frame: too long");
    ws::Frame f;
    size_t used = 0;
    const char *error = "";
    const char server[] = "\x81\x02ok\x89";
    check(ws::parseFrame(server, 5, &f, &used, &error) == ws::FrameResult::Frame && used == 4
            && f.opcode == ws::Text && f.fin && f.size == 2 && f.payload == server + 2,
        "server frame");
    check(ws::parseFrame(server + 4, 1, &f, &used, &error) == ws::FrameResult::NeedMore,
        "server frame: partial header");
    const char medium[] = "\x81\x7e\x01\x00";
    check(ws::parseFrame(medium, 4, &f, &used, &error) == ws::FrameResult::NeedMore,
        "server frame: 16-bit length, payload missing");
    check(ws::parseFrame("\x81\x82", 2, &f, &used, &error) == ws::FrameResult::Bad,
        "server frame: masked");
    check(
        ws::closeCode("\x03\xf0"
                      "bind timeout",
            14) == 1008
            && ws::closeCode("", 0) == 1005,
        "close code");
    const std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81";
    std::string why;
    check(
        ws::checkResponse(response.data(), response.size(), "dGhlIHNhbXBsZSBub25jZQ==", &used, &why)
                == ws::Handshake::Ok
            && used == response.size() - 1,
        "handshake response");
    check(ws::checkResponse(response.data(), 20, "dGhlIHNhbXBsZSBub25jZQ==", &used, &why)
            == ws::Handshake::Incomplete,
        "handshake response: incomplete");
    check(
        ws::checkResponse(response.data(), response.size(), "AAAAAAAAAAAAAAAAAAAAAA==", &used, &why)
            == ws::Handshake::Bad,
        "handshake response: wrong accept");
    std::fprintf(stderr, "self-test: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

// Two ports the kernel considers free right now, for scripts that must
// pass explicit ports.
int freePorts()
{
    Fd a(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    Fd b(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int ports[2] = {0, 0};
    const Fd *fds[2] = {&a, &b};
    for (int i = 0; i < 2; ++i) {
        sockaddr_in addr {};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (!fds[i]->valid() || ::bind(fds[i]->get(), reinterpret_cast<sockaddr *>(&addr), len) < 0
            || ::getsockname(fds[i]->get(), reinterpret_cast<sockaddr *>(&addr), &len) < 0) {
            std::fprintf(stderr, "pushbench: %s\n", std::strerror(errno));
            return 1;
        }
        ports[i] = ntohs(addr.sin_port);
    }
    std::printf("%d %d\n", ports[0], ports[1]);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Options options;
    std::string error;
    switch (parseOptions(argc, argv, &options, &error)) {
    case Parse::Help:
        std::fputs(usageText(), stdout);
        return 0;
    case Parse::SelfTest:
        return selfTest();
    case Parse::FreePorts:
        return freePorts();
    case Parse::Error:
        std::fprintf(stderr, "pushbench: %s\nTry \"pushbench --help\".\n", error.c_str());
        return 2;
    case Parse::Run:
        break;
    }

    // Every client is a descriptor: take the whole hard limit.
    rlimit files {};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    getrlimit(RLIMIT_NOFILE, &files);
    const uint64_t needed = uint64_t(options.clients) + options.unbound
        + (options.mode == Mode::Pipeline ? options.conns : options.concurrency) + 16;
    if (files.rlim_cur != RLIM_INFINITY && needed > files.rlim_cur) {
        std::fprintf(stderr,
            "pushbench: %u clients need about %llu file descriptors; the limit is %llu\n",
            options.clients, static_cast<unsigned long long>(needed),
            static_cast<unsigned long long>(files.rlim_cur));
        return 2;
    }
    if (options.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(options.cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            std::fprintf(
                stderr, "pushbench: cannot pin to CPU %d: %s\n", options.cpu, std::strerror(errno));
            return 2;
        }
    }
    if (options.serverPid > 0 && ::kill(options.serverPid, 0) != 0 && errno == ESRCH) {
        std::fprintf(stderr, "pushbench: no process %d (--server-pid)\n", options.serverPid);
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    struct sigaction sa
    { };
    sa.sa_handler = onSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    if (options.soak > 0)
        return runSoak(options, &g_interrupted);
    Bench bench(options);
    return bench.run();
}
