// What /proc says about the server, the machine and the bench itself: RSS,
// CPU time and open descriptors. Linux only, like the rest of the bench.
#pragma once

#include <cstdint>

namespace bench {

// Server figures from /proc; -1 when unknown.
struct ServerSample
{
    int64_t rssKb = -1;
    int64_t cpuUs = -1;
};

ServerSample sampleServer(int pid);

// VmRSS of the process in KiB; -1 when unknown.
int64_t rssKb(int pid);

// Entries of /proc/PID/fd: the process's open descriptors; -1 when unknown.
int countFds(int pid);

// CPU time of the whole machine from /proc/stat, so that a report can say
// how much of it went to other processes (a shared machine skews results).
struct MachineSample
{
    int64_t busyUs = -1;
    int64_t stealUs = -1;
};

MachineSample sampleMachine();

int64_t selfCpuUs();

} // namespace bench
