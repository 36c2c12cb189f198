// pushbench --soak: thousands of clients leave and come back, stall and
// idle unbound while pushes flow; every "ok" push must arrive, and the
// server's RSS and descriptor count must come back to their levels.
#pragma once

#include <csignal>

namespace bench {

struct Options;

// Runs the soak and prints its report; returns the exit status (0: no
// problem found, 1: something was lost, leaked or went wrong).
int runSoak(const Options &options, const volatile std::sig_atomic_t *interrupted);

} // namespace bench
