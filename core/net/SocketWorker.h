#pragma once

#include "HandOffQueue.h"
#include "SocketThreadOps.h"
#include "StreamSocket.h"
#include "TlsContext.h"
#include "TlsStream.h"
#include "Transport.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

// One socket thread of SocketThreads: owns the sockets handed to it and
// does their system calls (reads, writes, TLS), told what to do through its
// inbox and telling the main thread what it read through the main thread's.
// Lives in its own thread; only adopt() and inbox() are for other threads.
class SocketWorker final : public QObject
{
    Q_OBJECT
public:
    SocketWorker(HandOffQueue::Producer events, qint64 inboxBytes);
    ~SocketWorker() override;

    // In the worker's thread, once, before anything is handed to it.
    void start();
    // In the worker's thread: closes every socket (a reset) and the inbox.
    void stop();
    // Any thread, once start() has run.
    HandOffQueue::Producer inbox() const { return m_inboxProducer; }
    // Main thread: fd becomes the worker's once the Open item for id
    // arrives; nothing is done to it before.
    void adopt(quint64 id, int fd, const TlsContext *tls, std::shared_ptr<SocketShared> shared);

private:
    struct Socket;
    struct Adoption
    {
        int fd = -1;
        std::optional<TlsContext> tls;
        std::shared_ptr<SocketShared> shared;
    };

    void handle(HandOffItem &item);
    void open(quint64 id);
    void write(Socket *s, HandOffItem &item);
    void publish(Socket *s);
    void readFrom(Socket *s);
    void drainedOn(Socket *s);
    // What the main thread must hear of s and has not yet (its inbox was
    // full): sent now if it can be, else kept and retried.
    bool tell(Socket *s);
    void retryHeld();
    void remove(quint64 id, bool reset);

    HandOffQueue::Producer m_events;
    HandOffQueue::Producer m_inboxProducer;
    HandOffQueue *m_inbox = nullptr;
    const qint64 m_inboxBytes;
    QHash<quint64, Socket *> m_sockets;
    std::vector<quint64> m_held; // sockets with something to tell and no room to
    QTimer *m_retry = nullptr;

    std::mutex m_adoptMutex;
    QHash<quint64, Adoption> m_adoptions;
};
