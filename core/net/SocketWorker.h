#pragma once

#include "HandOffQueue.h"
#include "IntrusiveList.h"
#include "SocketThreadOps.h"
#include "StreamSocket.h"
#include "TlsContext.h"
#include "TlsStream.h"
#include "Transport.h"

#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>
#include <vector>

class SocketWorker;

// One socket on a socket thread, in one allocation with the counters both
// threads share (its SocketShared base). The main thread makes it and fills
// in the first four fields, then hands it over with an Open item; from then
// on it is the socket thread's, which deletes it on Close or Abort (the last
// item the main thread sends for it) or when the thread stops. Items name
// it by its SocketShared address: no lookup on the path of a write.
struct ThreadSocket final : SocketShared, Transport::Handler
{
    SocketWorker *worker = nullptr;
    quint64 id = 0; // the main thread's name for it, in what is sent back
    int fd = -1;
    std::unique_ptr<TlsContext> tls; // a copy: a reload may replace the original

    std::optional<StreamSocket> plain;
    std::unique_ptr<TlsStream> secure;
    Transport *io = nullptr;
    QByteArray held; // read, not yet taken by the main thread's inbox
    ListHook<ThreadSocket> hook;
    quint8 owed = 0; // End or Failed, once held is through
    bool failedTold = false;

    void socketReadable() override;
    void socketDrained() override;

    static quint64 target(SocketShared *s) { return quint64(quintptr(s)); }
    static ThreadSocket *from(quint64 target)
    {
        return static_cast<ThreadSocket *>(reinterpret_cast<SocketShared *>(quintptr(target)));
    }
};

// One socket thread of SocketThreads: owns the sockets handed to it and
// does their system calls (reads, writes, TLS), told what to do through its
// inbox and telling the main thread what it read through the main thread's.
// Made, run and destroyed inside its thread; only inbox() is for others.
class SocketWorker final : public QObject
{
    Q_OBJECT
public:
    SocketWorker(HandOffQueue::Producer events, qint64 inboxBytes, CatchUpWatch *watch);
    ~SocketWorker() override;

    // In the worker's thread, once, before anything is handed to it.
    void start();
    // In the worker's thread: resets every socket it holds and closes the
    // inbox. The items before a Stop are handled first, so every socket
    // handed over is in the list by then.
    void stop();
    // Any thread, once start() has run.
    HandOffQueue::Producer inbox() const { return m_inboxProducer; }

private:
    friend struct ThreadSocket;

    void handle(HandOffItem &item);
    void checkCaughtUp();
    void open(ThreadSocket *s);
    void write(ThreadSocket *s, HandOffItem &item);
    void publish(ThreadSocket *s);
    void readFrom(ThreadSocket *s);
    void drainedOn(ThreadSocket *s);
    // What the main thread must hear of s and has not yet (its inbox was
    // full): sent now if it can be, else kept and retried.
    bool tell(ThreadSocket *s);
    void retryHeld();
    void remove(ThreadSocket *s, bool reset);

    HandOffQueue::Producer m_events;
    HandOffQueue::Producer m_inboxProducer;
    HandOffQueue *m_inbox = nullptr;
    const qint64 m_inboxBytes;
    CatchUpWatch *m_watch;
    IntrusiveList<ThreadSocket> m_sockets;
    std::vector<ThreadSocket *> m_held; // with something to tell and no room to
    QTimer *m_retry = nullptr;
};
