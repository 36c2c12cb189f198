#pragma once

#include "HandOffQueue.h"
#include "SocketThreadOps.h"
#include "Transport.h"

#include <QByteArray>
#include <QString>

// A socket that lives on a socket thread (--threads), seen from the main
// thread as any other Transport: the connection on the main thread keeps
// its protocol and state, and this forwards its writes and closes to the
// socket thread and hands it what that thread read.
//
// What it promises is what StreamSocket promises, measured on both sides:
// write() refuses what would take the bytes handed over and not yet taken,
// plus the socket thread's queue, past the cap; pendingBytes() counts both,
// so "drained" still means "handed to the kernel".
//
// Small on purpose (a connection holds it inline, where a StreamSocket
// would be): everything it shares with the socket thread is in the socket
// thread's object, which it reads only while open.
class RemoteSocket final : public Transport
{
public:
    // What a write counts against the cap: at least what the socket
    // thread's StreamSocket can add to its queue for it (a chunk for the
    // head, the payload's block or its copy in a chunk that grows by
    // doubling, queue slots), so the cap holds once it is taken too.
    static qint64 costOf(QByteArrayView head, const QByteArray &payload);

    // The socket threads' main-thread side (SocketThreads).
    class Owner
    {
    public:
        // Events for id come to s from now on.
        virtual void attach(quint64 id, RemoteSocket *s) = 0;
        // Closed here: what the socket thread still says of id is not ours.
        virtual void forget(quint64 id) = 0;
        // Unread input is left: call readPending() of id's socket soon.
        virtual void readAgainLater(quint64 id) = 0;

    protected:
        ~Owner() = default;
    };

    // A socket handed to a socket thread (SocketThreads::adopt).
    struct Link
    {
        Owner *owner = nullptr;
        HandOffQueue::Producer *inbox = nullptr; // the socket thread's
        SocketShared *shared = nullptr; // valid until we send Close or Abort
        quint64 id = 0;
        int fd = -1;
    };

    RemoteSocket(const Link &link, Handler *handler);
    ~RemoteSocket() override;
    RemoteSocket(const RemoteSocket &) = delete;
    RemoteSocket &operator=(const RemoteSocket &) = delete;

    bool isOpen() const override { return m_open; }
    qint64 read(char *buffer, qint64 size) override;
    bool write(QByteArrayView head, const QByteArray &payload = QByteArray()) override;
    qint64 pendingBytes() const override;
    qint64 queuedMemory() const override;
    qint64 unacknowledgedBytes() const override;
    void setMaxPending(qint64 bytes) override { m_maxPending = bytes; }
    void setReadEnabled(bool enabled) override;
    void shutdownWrite() override;
    void abort() override;
    void close() override;
    bool failed() const override { return m_failed; }
    QString errorString() const override { return m_error; }

    // From the socket thread, on the main thread (SocketThreads).
    void deliver(HandOffItem &item);
    // Tells the handler of input it left unread last time.
    void readPending() { tellReadable(); }
    // The socket threads are gone: nothing can be sent any more.
    void orphan();

private:
    qint64 inFlightBytes() const;
    qint64 memoryNow() const;
    void send(quint8 op);
    void finishLocally(quint8 op);
    void tellReadable();

    Owner *m_threads;
    HandOffQueue::Producer *m_inbox;
    SocketShared *m_shared;
    Handler *m_handler;
    QByteArray m_input; // read by the socket thread, not by the handler yet
    QString m_error;
    const quint64 m_id;
    qint64 m_handedBytes = 0;
    qint64 m_handedCost = 0;
    // What the socket thread had released (cost taken less its queue's
    // memory) when last read: handed less this is an upper bound of what is
    // queued, so most writes check the cap without touching its cache line.
    mutable qint64 m_knownReleased = 0;
    qint64 m_maxPending = 8 * 1024 * 1024;
    const int m_fd; // for SIOCOUTQ only, while open: the socket thread closes it after us
    bool m_open = true;
    bool m_ended = false;
    bool m_failed = false;
    bool m_writeShut = false;
};
