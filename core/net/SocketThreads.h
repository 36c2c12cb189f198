#pragma once

#include "HandOffQueue.h"
#include "RemoteSocket.h"
#include "Transport.h"

#include <QHash>
#include <QObject>

#include <functional>
#include <memory>
#include <vector>

class QThread;
class SocketWorker;
class TlsContext;

// --threads: accepted sockets handed to worker threads, each with its own
// event loop, which do their system calls (reads, writes, TLS: most of a
// push's CPU). The main thread keeps everything else: the connections'
// protocol and state, the uid registry and the router, so every decision
// (ok or fail, each limit) is still taken in one place, in order.
//
// Each direction has one bounded queue per consumer (HandOffQueue): the
// main thread's writes to one socket reach its thread in order, and a burst
// of them costs one wake-up.
class SocketThreads final : public QObject, private RemoteSocket::Owner
{
    Q_OBJECT
public:
    // inboxBytes bounds each worker's queue of writes not yet taken, and the
    // main thread's of what the workers read.
    SocketThreads(int workers, qint64 inboxBytes, QObject *parent = nullptr);
    // Stops the workers, which reset the sockets they still hold; sockets
    // handed out fail from then on.
    ~SocketThreads() override;

    int workerCount() const { return int(m_workers.size()); }
    // fd becomes a socket on the next worker (round-robin); construct its
    // main-thread side, a RemoteSocket, from the link returned.
    RemoteSocket::Link adopt(int fd, const TlsContext *tls);
    int socketCount() const { return int(m_sockets.size()); }
    // Some worker has more than BehindBytes of writes not taken yet: about
    // a millisecond or two of its work. Push ports wait while it is.
    // While it is, the first socket thread back under half of it runs
    // onCaughtUp (on this thread).
    bool isBehind() const;
    static constexpr qint64 BehindBytes = 32 * 1024;
    void setCaughtUpHandler(std::function<void()> onCaughtUp)
    {
        m_onCaughtUp = std::move(onCaughtUp);
    }

    struct Stats
    {
        HandOffQueue::Stats events; // workers -> main
        std::vector<HandOffQueue::Stats> inboxes; // main -> each worker
    };
    Stats stats() const;
    // The socket threads' inboxes together: bytes held, pushes refused, ...
    HandOffQueue::Stats inboxTotals() const;

    static constexpr qint64 DefaultInboxBytes = 256 * 1024 * 1024;

private:
    void attach(quint64 id, RemoteSocket *s) override;
    void forget(quint64 id) override;
    void readAgainLater(quint64 id) override;
    void handleEvent(HandOffItem &item);

    std::vector<QThread *> m_threads;
    std::vector<SocketWorker *> m_workers; // each lives in its thread
    std::vector<HandOffQueue::Producer> m_inboxes;
    HandOffQueue *m_events;
    std::unique_ptr<CatchUpWatch> m_watch; // read by the workers until they stop
    std::function<void()> m_onCaughtUp;
    QHash<quint64, RemoteSocket *> m_sockets;
    quint64 m_nextId = 1;
    size_t m_next = 0;
};
