// Command line of pushbench.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

enum class Mode { Pipeline, Connect };
enum class Targets { Cycle, Random };

struct Options
{
    int wsPort = 0;
    int textPort = 0;
    uint32_t clients = 1000;
    uint64_t pushes = 100000;
    Mode mode = Mode::Pipeline;
    uint32_t conns = 4;
    uint32_t depth = 64;
    uint32_t concurrency = 32;
    double rate = 0; // pushes per second, 0: unpaced
    uint32_t payload = 0; // total push line length, 0: no padding
    std::string uidPrefix = "b";
    Targets targets = Targets::Cycle;
    uint64_t seed = 1;
    int serverPid = 0;
    double duration = 60;
    double grace = 2;
    double hold = 0; // keep the clients reading this long after the pushes
    bool json = false;
    bool verifyBind = true;
    int cpu = -1;
    uint32_t connectWindow = 500;
    uint32_t bindOffset = 0; // self-test: client i binds the uid of client i+offset
    bool quiet = false;
    bool durationSet = false;

    // Soak mode (--soak > 0): clients leave and come back while pushes flow;
    // see bench/README.md, "Soak".
    double soak = 0; // seconds of churn
    double churn = 50; // clients leaving (and coming back) per second
    double warmup = 20; // % of the soak before the RSS reference is taken
    double maxRssGrowth = 5; // % of RSS growth from warm-up to the end that fails the run
    double stallRate = 1; // slow consumers started per second
    double stall = 5; // seconds a slow consumer does not read
    uint64_t stallBytes = 8 * 1024 * 1024; // at most this much is pushed to a stalled client
    uint32_t unbound = 0; // connections kept open that never send a uid
    double bindTimeout = 0; // the server's --bind-timeout, to check the unbound ones
    double drainTimeout = 5; // how long a leaving client waits for its "ok" pushes
    double fdWait = 10; // how long to wait for the server's descriptors at the end
};

enum class Parse { Run, Help, SelfTest, FreePorts, Error };

// Fills opts from argv; on Error, *error says why.
Parse parseOptions(int argc, char **argv, Options *opts, std::string *error);
const char *usageText();

} // namespace bench
