#pragma once

#include <QtGlobal>

#include <atomic>

// What the main thread and a socket thread (SocketThreads) say to each
// other about one socket, in HandOffItem::tag's low byte; the rest of the
// tag carries a write's cost.
namespace SocketOp {
enum : quint8 {
    // main -> socket thread
    Open = 1,
    Write,
    ShutdownWrite,
    Abort,
    Close,
    ReadOn,
    ReadOff,
    Stop, // the thread's loop ends
    // socket thread -> main
    Data = 16,
    End,
    Failed,
    Drained,
    CaughtUp, // a socket thread's queue is back under half of SocketThreads::BehindBytes
};

inline quint8 op(quint64 tag)
{
    return quint8(tag & 0xff);
}
inline qint64 cost(quint64 tag)
{
    return qint64(tag >> 8);
}
inline quint64 tag(quint8 op, qint64 cost = 0)
{
    return quint64(op) | (quint64(cost) << 8);
}
} // namespace SocketOp

// Set by the main thread while push ports wait for the socket threads to
// catch up; the first socket thread whose queue falls under the low-water
// mark clears it and says so (CaughtUp), so the ports resume at once rather
// than on a timer.
struct CatchUpWatch
{
    std::atomic<bool> wanted {false};
    qint64 lowWater = 0;
};

// The counters one socket's two sides share. Each is written by one side
// only; the other reads it. The main thread's view of what is queued is
// what it handed over minus what the socket thread took, plus what the
// socket thread's own queue holds: the socket thread stores its queue
// before it adds to what it took, so a read in between overstates, never
// understates.
struct SocketShared
{
    std::atomic<qint64> takenBytes {0}; // socket thread: handed writes taken
    std::atomic<qint64> takenCost {0};
    std::atomic<qint64> queuedBytes {0}; // socket thread: its socket's queue
    std::atomic<qint64> queuedMemory {0};
    // Socket thread: bytes of writes it took and could not make (the socket
    // had failed): never delivered, so still counted as unacknowledged,
    // and reported as discarded when the connection goes.
    std::atomic<qint64> lostBytes {0};
    // Main thread: it saw output queued and wants to hear when it is gone.
    // Set before it reads the counters and read by the socket thread after
    // it wrote them (sequentially consistent both), so one of the two
    // always sees the other.
    std::atomic<bool> drainWanted {false};
};
