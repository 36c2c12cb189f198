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
    bool json = false;
    bool verifyBind = true;
    int cpu = -1;
    uint32_t connectWindow = 500;
    uint32_t bindOffset = 0; // self-test: client i binds the uid of client i+offset
    bool quiet = false;
};

enum class Parse { Run, Help, SelfTest, FreePorts, Error };

// Fills opts from argv; on Error, *error says why.
Parse parseOptions(int argc, char **argv, Options *opts, std::string *error);
const char *usageText();

} // namespace bench
