#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// What a connection needs from its socket: plain TCP (StreamSocket) or TLS
// (TlsStream). Reads are pulled by the owner when told the socket is
// readable; writes never block and queue what the kernel does not take, up to
// a cap beyond which the peer counts as a slow consumer. The cap is on real
// memory: queued bytes plus what holding them costs (heap blocks, queue
// slots), so that many tiny writes cannot hide behind a small byte count.
class Transport
{
public:
    class Handler
    {
    public:
        virtual void socketReadable() = 0;
        // The output queue became empty after having been non-empty.
        virtual void socketDrained() = 0;

    protected:
        ~Handler() = default;
    };

    enum ReadResult : qint64 { WouldBlock = -1, Failed = -2 };

    virtual ~Transport() = default;

    virtual bool isOpen() const = 0;
    // >0 bytes read, 0 end of stream, WouldBlock or Failed.
    virtual qint64 read(char *buffer, qint64 size) = 0;
    // Writes head then payload. False when closed, failed (see failed()) or
    // when queueing would take queuedMemory() over the cap; nothing is queued
    // then and the caller drops the peer.
    virtual bool write(QByteArrayView head, const QByteArray &payload = QByteArray()) = 0;
    // Bytes written but not handed to the kernel yet.
    virtual qint64 pendingBytes() const = 0;
    // What the queue of pendingBytes() costs in memory, overhead included;
    // never more than the cap.
    virtual qint64 queuedMemory() const = 0;
    // Bytes the peer has not acknowledged yet, ours and the kernel's: what a
    // reset now would throw away.
    virtual qint64 unacknowledgedBytes() const = 0;
    // The cap on queuedMemory().
    virtual void setMaxPending(qint64 bytes) = 0;
    virtual void setReadEnabled(bool enabled) = 0;
    // No more writes; queued output still leaves, then the peer sees the end.
    virtual void shutdownWrite() = 0;
    // Close now with a reset, discarding queued output: never lingers on a
    // dead peer.
    virtual void abort() = 0;
    virtual void close() = 0;
    // True once the connection failed (as opposed to hitting the cap).
    virtual bool failed() const = 0;
    virtual QString errorString() const = 0;
};
