#include "Options.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace bench {

const char *usageText()
{
    return R"(Usage: pushbench --ws-port PORT --text-port PORT [options]

Load generator for pushconsole: opens N WebSocket clients that bind uids,
pushes M messages through the text push port and checks that every "ok"
push arrives exactly once, at the right client. Talks to 127.0.0.1 only.

Connections:
  --ws-port PORT         WebSocket port of the server (required)
  --text-port PORT       text push port of the server (required)
  --host 127.0.0.1       only 127.0.0.1 / localhost is accepted
  --clients N            WebSocket clients, uids PREFIX0..PREFIX<N-1> (1000)
  --uid-prefix S         uid prefix (b); uids are 1-64 of [A-Za-z0-9_.:@-]
  --connect-window W     clients connecting/binding at once (500)
  --verify-bind          after each bind, push a probe to that uid until the
                         server answers "ok" (default); the bind time is the
                         time until every probe said ok
  --no-verify-bind       count a client bound once its uid frame is written

Pushes:
  --pushes M             number of pushes (100000)
  --mode pipeline|connect
                         pipeline: K persistent connections, pipelined lines;
                         connect: one TCP connection per push, as the seed's
                         PHP backend does (pipeline)
  --conns K              pipeline connections (4)
  --depth D              requests in flight per pipeline connection (64)
  --concurrency C        connect mode: pushes in flight (32)
  --rate R               pace at R pushes/s (token bucket), 0 = flat out (0)
  --payload BYTES        pad every push line to BYTES bytes (0 = no padding)
  --targets cycle|random which uid each push goes to (cycle)
  --seed S               seed for --targets random and the soak's choices (1)

Soak (churn) mode, see bench/README.md:
  --soak SECONDS         run a soak: the clients leave and come back, some
                         stall, some never bind, while pushes flow at --rate;
                         checks every "ok" push, RSS growth and descriptors
                         (needs --server-pid for the leak checks)
  --churn R              clients leaving and rebinding per second (50)
  --warmup PCT           RSS/fd reference after this % of the soak (20)
  --max-rss-growth PCT   fail when RSS grew more than this from the
                         warm-up reference to the end (5)
  --stall-rate R         clients that stop reading, per second (1)
  --stall SECONDS        how long a stalled client does not read (5)
  --stall-bytes B        push up to B bytes (random, 16 KiB lines) to each
                         stalled client so the server may drop it (8388608)
  --unbound N            keep N connections that never send a uid (0)
  --bind-timeout SECONDS the server's --bind-timeout (needed with --unbound)
  --drain-timeout SECONDS
                         a leaving client waits this long for its "ok"
                         pushes before they count as lost (5)
  --fd-wait SECONDS      at the end, wait this long for the server's
                         descriptor count to return to its baseline (10)

Measurement and limits:
  --server-pid PID       sample the server's RSS and CPU time from /proc
  --duration SECONDS     cap on the whole run (60; with --soak: soak + 120)
  --grace SECONDS        wait this long after the last reply for missing
                         deliveries before counting them lost (2)
  --cpu CORE             pin pushbench to this CPU core
  --json                 print one JSON object instead of text
  --quiet                no progress lines on stderr

Testing the bench itself:
  --bind-offset K        client i binds uid i+K (mod N) but expects its own:
                         every push is then misrouted (and lost)
  --self-test            check SHA-1/base64/histogram code and exit
  --free-ports           print two free 127.0.0.1 TCP ports and exit
  -h, --help             this text

Exit status: 0 when every client bound and every push was answered "ok"
and delivered exactly once to the right client; 1 when anything was lost,
misrouted, duplicated, failed, refused or timed out; 2 for bad usage.
)";
}

namespace {

bool parseUnsigned(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return false;
    errno = 0;
    char *end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parseSeconds(const char *text, double min, double *out)
{
    if (!text || !*text)
        return false;
    errno = 0;
    char *end = nullptr;
    const double v = std::strtod(text, &end);
    if (errno || *end || !std::isfinite(v) || v < min || v > 1e7)
        return false;
    *out = v;
    return true;
}

bool validUidChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || std::strchr("_.:@-", c) != nullptr;
}

} // namespace

Parse parseOptions(int argc, char **argv, Options *o, std::string *error)
{
    bool haveWs = false, haveText = false;
    for (int i = 1; i < argc; ++i) {
        std::string name = argv[i];
        const char *value = nullptr;
        // Both "--flag value" and "--flag=value".
        const size_t eq = name.find('=');
        if (name.compare(0, 2, "--") == 0 && eq != std::string::npos) {
            value = argv[i] + eq + 1;
            name.resize(eq);
        }
        const auto take = [&]() -> const char * {
            if (value)
                return value;
            if (i + 1 >= argc)
                return nullptr;
            return argv[++i];
        };
        const auto bad = [&](const char *what) {
            *error = "invalid value for " + name + ": " + what;
            return Parse::Error;
        };
        uint64_t u = 0;
        if (name == "-h" || name == "--help")
            return Parse::Help;
        if (name == "--self-test")
            return Parse::SelfTest;
        if (name == "--free-ports")
            return Parse::FreePorts;
        if (name == "--json" || name == "--quiet" || name == "--verify-bind"
            || name == "--no-verify-bind") {
            if (value) {
                *error = name + " takes no value";
                return Parse::Error;
            }
            if (name == "--json")
                o->json = true;
            else if (name == "--quiet")
                o->quiet = true;
            else
                o->verifyBind = name == "--verify-bind";
            continue;
        }
        static const char *const valued[] = {"--ws-port", "--text-port", "--host", "--clients",
            "--pushes", "--mode", "--conns", "--depth", "--concurrency", "--rate", "--payload",
            "--uid-prefix", "--targets", "--seed", "--server-pid", "--duration", "--grace",
            "--hold", "--cpu", "--connect-window", "--bind-offset", "--soak", "--churn", "--warmup",
            "--max-rss-growth", "--stall-rate", "--stall", "--stall-bytes", "--unbound",
            "--bind-timeout", "--drain-timeout", "--fd-wait"};
        if (std::none_of(std::begin(valued), std::end(valued),
                [&name](const char *known) { return name == known; })) {
            *error = (name.compare(0, 1, "-") == 0 ? "unknown option: " : "unexpected argument: ")
                + name;
            return Parse::Error;
        }
        const char *v = take();
        if (!v) {
            *error = name + " needs a value";
            return Parse::Error;
        }
        if (name == "--ws-port" || name == "--text-port") {
            if (!parseUnsigned(v, 1, 65535, &u))
                return bad("expected a port 1-65535");
            (name == "--ws-port" ? o->wsPort : o->textPort) = int(u);
            (name == "--ws-port" ? haveWs : haveText) = true;
        } else if (name == "--host") {
            if (std::strcmp(v, "127.0.0.1") != 0 && std::strcmp(v, "localhost") != 0)
                return bad("pushbench only talks to 127.0.0.1");
        } else if (name == "--clients") {
            if (!parseUnsigned(v, 1, 1000000, &u))
                return bad("expected 1-1000000");
            o->clients = uint32_t(u);
        } else if (name == "--pushes") {
            if (!parseUnsigned(v, 0, 1000000000, &u))
                return bad("expected 0-1000000000");
            o->pushes = u;
        } else if (name == "--mode") {
            if (std::strcmp(v, "pipeline") == 0)
                o->mode = Mode::Pipeline;
            else if (std::strcmp(v, "connect") == 0)
                o->mode = Mode::Connect;
            else
                return bad("expected pipeline or connect");
        } else if (name == "--conns") {
            if (!parseUnsigned(v, 1, 1000, &u))
                return bad("expected 1-1000");
            o->conns = uint32_t(u);
        } else if (name == "--depth") {
            if (!parseUnsigned(v, 1, 100000, &u))
                return bad("expected 1-100000");
            o->depth = uint32_t(u);
        } else if (name == "--concurrency") {
            if (!parseUnsigned(v, 1, 10000, &u))
                return bad("expected 1-10000");
            o->concurrency = uint32_t(u);
        } else if (name == "--rate") {
            if (!parseSeconds(v, 0, &o->rate))
                return bad("expected a number of pushes per second >= 0");
        } else if (name == "--payload") {
            if (!parseUnsigned(v, 0, 16 * 1024 * 1024, &u))
                return bad("expected 0-16777216 bytes");
            o->payload = uint32_t(u);
        } else if (name == "--uid-prefix") {
            o->uidPrefix = v;
            for (char c : o->uidPrefix) {
                if (!validUidChar(c))
                    return bad("uids are made of [A-Za-z0-9_.:@-]");
            }
        } else if (name == "--targets") {
            if (std::strcmp(v, "cycle") == 0)
                o->targets = Targets::Cycle;
            else if (std::strcmp(v, "random") == 0)
                o->targets = Targets::Random;
            else
                return bad("expected cycle or random");
        } else if (name == "--seed") {
            if (!parseUnsigned(v, 0, UINT64_MAX, &u))
                return bad("expected an unsigned integer");
            o->seed = u;
        } else if (name == "--server-pid") {
            if (!parseUnsigned(v, 1, 0x7fffffff, &u))
                return bad("expected a process id");
            o->serverPid = int(u);
        } else if (name == "--duration") {
            if (!parseSeconds(v, 0.001, &o->duration))
                return bad("expected seconds > 0");
            o->durationSet = true;
        } else if (name == "--grace") {
            if (!parseSeconds(v, 0, &o->grace))
                return bad("expected seconds >= 0");
        } else if (name == "--hold") {
            if (!parseSeconds(v, 0, &o->hold))
                return bad("expected seconds >= 0");
        } else if (name == "--cpu") {
            if (!parseUnsigned(v, 0, 1023, &u))
                return bad("expected a core number");
            o->cpu = int(u);
        } else if (name == "--connect-window") {
            if (!parseUnsigned(v, 1, 100000, &u))
                return bad("expected 1-100000");
            o->connectWindow = uint32_t(u);
        } else if (name == "--soak") {
            if (!parseSeconds(v, 1, &o->soak))
                return bad("expected seconds >= 1");
        } else if (name == "--churn" || name == "--stall-rate") {
            if (!parseSeconds(v, 0, name == "--churn" ? &o->churn : &o->stallRate))
                return bad("expected a rate per second >= 0");
        } else if (name == "--warmup") {
            if (!parseSeconds(v, 0, &o->warmup) || o->warmup > 90)
                return bad("expected a percentage 0-90");
        } else if (name == "--max-rss-growth") {
            if (!parseSeconds(v, 0, &o->maxRssGrowth))
                return bad("expected a percentage >= 0");
        } else if (name == "--stall" || name == "--bind-timeout" || name == "--drain-timeout"
            || name == "--fd-wait") {
            double *target = name == "--stall" ? &o->stall
                : name == "--bind-timeout"     ? &o->bindTimeout
                : name == "--drain-timeout"    ? &o->drainTimeout
                                               : &o->fdWait;
            if (!parseSeconds(v, 0, target))
                return bad("expected seconds >= 0");
        } else if (name == "--stall-bytes") {
            if (!parseUnsigned(v, 0, 1024ull * 1024 * 1024, &u))
                return bad("expected 0-1073741824 bytes");
            o->stallBytes = u;
        } else if (name == "--unbound") {
            if (!parseUnsigned(v, 0, 100000, &u))
                return bad("expected 0-100000");
            o->unbound = uint32_t(u);
        } else if (name == "--bind-offset") {
            if (!parseUnsigned(v, 0, 1000000, &u))
                return bad("expected 0-1000000");
            o->bindOffset = uint32_t(u);
        }
    }
    if (!haveWs || !haveText) {
        *error = "--ws-port and --text-port are required";
        return Parse::Error;
    }
    const auto refuse = [error](const char *why) {
        *error = why;
        return Parse::Error;
    };
    if (o->soak > 0) {
        // The soak's own rules decide targets and binding; these would only
        // make its accounting wrong.
        if (o->mode != Mode::Pipeline)
            return refuse("--soak pushes in pipeline mode only");
        if (!o->verifyBind)
            return refuse("--soak always verifies binds (--no-verify-bind)");
        if (o->bindOffset)
            return refuse("--soak and --bind-offset do not go together");
        if (o->unbound > 0 && o->bindTimeout <= 0)
            return refuse("--unbound needs the server's --bind-timeout");
        if (!o->durationSet)
            o->duration = o->soak + 120;
        if (o->duration < o->soak)
            return refuse("--duration must be at least --soak");
    }
    // The longest uid must still be a valid one.
    std::string longest = o->uidPrefix + std::to_string(o->clients - 1);
    if (longest.size() > 64) {
        *error = "--uid-prefix too long: uids are at most 64 characters";
        return Parse::Error;
    }
    return Parse::Run;
}

} // namespace bench
