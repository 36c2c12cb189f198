#pragma once

#include <QtGlobal>

#include <time.h>

namespace MonotonicClock {
// Milliseconds on a clock that never jumps. The coarse clock costs a few
// nanoseconds (vDSO, no syscall) and its ~4 ms resolution is plenty for
// timeouts counted in seconds; it is read once per received batch.
inline qint64 nowMs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return qint64(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
} // namespace MonotonicClock
