#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// What a connection needs from its socket: plain TCP (StreamSocket) or TLS
// (TlsStream). Reads are pulled by the owner when told the socket is
// readable; writes never block and queue what the kernel does not take, up to
// a cap beyond which the peer counts as a slow consumer.
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
    // over the pending cap; the caller drops the peer then.
    virtual bool write(QByteArrayView head, const QByteArray &payload = QByteArray()) = 0;
    virtual qint64 pendingBytes() const = 0;
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
