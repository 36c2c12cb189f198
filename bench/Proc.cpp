#include "Proc.h"

#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <unistd.h>

namespace bench {

int64_t rssKb(int pid)
{
    if (pid <= 0)
        return -1;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.compare(0, 6, "VmRSS:") == 0)
            return std::atoll(line.c_str() + 6);
    }
    return -1;
}

int countFds(int pid)
{
    if (pid <= 0)
        return -1;
    DIR *dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!dir)
        return -1;
    int n = 0;
    while (const dirent *e = readdir(dir)) {
        if (e->d_name[0] != '.')
            ++n;
    }
    closedir(dir);
    return n;
}

ServerSample sampleServer(int pid)
{
    ServerSample s;
    if (pid <= 0)
        return s;
    const std::string base = "/proc/" + std::to_string(pid);
    s.rssKb = rssKb(pid);
    // Run time from the scheduler, summed over threads: exact, where the
    // tick-sampled utime/stime of /proc/PID/stat is badly biased for a
    // process woken in step with the timer tick (as paced pushes are).
    if (DIR *tasks = opendir((base + "/task").c_str())) {
        int64_t ns = 0;
        bool any = false;
        while (const dirent *e = readdir(tasks)) {
            if (e->d_name[0] == '.')
                continue;
            std::ifstream schedstat(base + "/task/" + e->d_name + "/schedstat");
            long long runNs = 0;
            if (schedstat >> runNs) {
                ns += runNs;
                any = true;
            }
        }
        closedir(tasks);
        if (any) {
            s.cpuUs = ns / 1000;
            return s;
        }
    }
    std::ifstream statFile(base + "/stat");
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    // The command name may hold spaces; fields count from after its ')'.
    const size_t close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::string f;
        long long utime = -1, stime = -1;
        for (int field = 3; fields >> f && field <= 15; ++field) {
            if (field == 14)
                utime = std::atoll(f.c_str());
            else if (field == 15)
                stime = std::atoll(f.c_str());
        }
        if (utime >= 0 && stime >= 0)
            s.cpuUs = (utime + stime) * 1000000 / sysconf(_SC_CLK_TCK);
    }
    return s;
}

MachineSample sampleMachine()
{
    MachineSample m;
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long user, nice, system, idle, iowait, irq, softirq, steal;
    if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal
        && cpu == "cpu") {
        const long long tick = sysconf(_SC_CLK_TCK);
        m.busyUs = (user + nice + system + irq + softirq) * 1000000 / tick;
        m.stealUs = steal * 1000000 / tick;
    }
    return m;
}

int64_t selfCpuUs()
{
    timespec ts {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

} // namespace bench
