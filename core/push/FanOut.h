#pragma once

#include "WsConnection.h"

#include <QBasicTimer>
#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSet>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>

struct Metrics;
class SessionRegistry;

// Sends one frame to many connections a slice at a time, one slice per
// turn of the event loop, so that a broadcast to tens of thousands never
// holds the loop for long: reads, heartbeats and other pushes go in between.
//
// Order: fan-outs run one after the other, in the order started. A
// connection not reached yet is owed every fan-out started since it was
// bound; settle() writes those before anything else is sent to it, so a
// push never overtakes a fan-out sent before it. Targets are found when
// their turn comes (uids are looked up then, a broadcast walks the
// registry), never kept as pointers: a connection that goes meanwhile is
// simply not met.
class FanOut final : public QObject
{
    Q_OBJECT
public:
    struct Slice
    {
        // At most this many frames per slice; a fan-out to no more targets
        // than this is not sliced at all (PushRouter).
        int connections = 256;
        // And at most this long (checked every few frames).
        std::chrono::microseconds budget {1000};
        // What waiting fan-outs may hold (frames, uid lists, bookkeeping).
        // Past it every pending fan-out is sent at once, as before slicing:
        // the loop stalls for a moment instead of memory growing, and a
        // backend or another node that broadcasts faster than frames go out
        // is read more slowly.
        qint64 maxPendingBytes = 64 * 1024 * 1024;
    };
    // delivered: frames queued; dropped: targets that could not take it.
    using Finished = std::function<void(int delivered, int dropped)>;

    FanOut(SessionRegistry *registry, Metrics *metrics, QObject *parent = nullptr);
    ~FanOut() override;

    const Slice &slice() const { return m_slice; }
    void setSlice(const Slice &slice) { m_slice = slice; }
    bool isBusy() const { return !m_jobs.empty(); }
    qint64 pendingBytes() const { return m_pendingBytes; }

    // Sends `header` + `payload` to every connection bound now to one of
    // `uids`, or to every connection bound now when `broadcast`. The first
    // slice goes at once when nothing else is pending; `finished` runs once
    // every target had its turn (maybe before this returns).
    void start(bool broadcast, QList<QByteArray> uids, QByteArrayView header,
        const QByteArray &payload, Finished finished);

    // Call before sending c anything: writes what the pending fan-outs owe it.
    void settle(WsConnection *c)
    {
        if (Q_UNLIKELY(!m_jobs.empty()) && c->fanOutMark() < m_jobs.back()->number)
            catchUp(c);
    }

    // Sends all that is pending now, however long it takes: for shutdown,
    // when every reply ought to leave before the connections close.
    void finishAll();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    struct Job
    {
        quint64 number = 0;
        bool broadcast = false;
        bool begun = false; // a broadcast's walk of the registry began
        QList<QByteArray> uids; // a uid list's targets, in order
        QSet<QByteArray> members; // the same, for settle()
        qsizetype next = 0; // the uid whose turn is next
        QByteArray header;
        QByteArray payload;
        int delivered = 0;
        int dropped = 0;
        qint64 cost = 0; // costOf() when it came: counted in m_pendingBytes
        Finished finished;
    };

    using Clock = std::chrono::steady_clock;

    // One slice; without limits when `all`.
    void run(bool all);
    void send(Job &job, WsConnection *c);
    void catchUp(WsConnection *c);
    void finishFront();
    static qint64 costOf(const Job &job);

    SessionRegistry *m_registry;
    Metrics *m_metrics;
    Slice m_slice;
    std::deque<std::unique_ptr<Job>> m_jobs; // the front one runs
    qint64 m_pendingBytes = 0; // the cost of every job in m_jobs
    bool m_running = false; // in run(): a fan-out started by a reply waits
    QBasicTimer m_timer; // zero timer: the next slice, next loop turn
};
