#pragma once

#include "Transport.h"

#include <QObject>

class QSslSocket;
class TlsContext;

// wss://: the transport over QSslSocket. Heavier than StreamSocket, which is
// fine: a TLS session costs far more than the socket object anyway.
class TlsStream final : public QObject, public Transport
{
    Q_OBJECT
public:
    // Takes ownership of fd and starts the server handshake.
    TlsStream(int fd, const TlsContext &context, QObject *parent, Handler *handler);
    ~TlsStream() override;

    bool isOpen() const override;
    qint64 read(char *buffer, qint64 size) override;
    bool write(QByteArrayView head, const QByteArray &payload = QByteArray()) override;
    qint64 pendingBytes() const override;
    qint64 queuedMemory() const override;
    qint64 unacknowledgedBytes() const override;
    void setMaxPending(qint64 bytes) override { m_maxPending = bytes; }

    // Qt's buffers around what is queued: the partly filled chunks of the
    // plaintext and the encrypted ring buffers (32 KiB each at most).
    static constexpr qint64 BufferSlack = 64 * 1024;
    // Each write may become a TLS record of its own: header, nonce, tag.
    static constexpr qint64 RecordOverhead = 64;
    void setReadEnabled(bool enabled) override;
    void shutdownWrite() override;
    void abort() override;
    void close() override { abort(); }
    bool failed() const override { return m_failed; }
    QString errorString() const override { return m_error; }

    // The handshake is done: what is read is the peer's plaintext.
    bool isEncrypted() const;
    // Decrypted bytes read from the kernel that the owner has not read yet
    // (at most the read buffer's 256 KiB).
    qint64 bufferedInput() const;
    // Hands the session, as it is, to another owner (an HTTP connection
    // upgraded to a stream): the session survives, queued output still
    // leaves, and from now on handler is told.
    void reattach(QObject *parent, Handler *handler);

private:
    void detach();
    // Tells the handler, from the event loop, of what was read while
    // reading was off or before it was the handler: QSslSocket signals new
    // data only once, it is not level-triggered like a socket notifier.
    void notifyPendingInput();

    QSslSocket *m_socket;
    Handler *m_handler;
    QString m_error;
    qint64 m_maxPending = 8 * 1024 * 1024;
    bool m_failed = false;
    bool m_readEnabled = true;
    bool m_detached = false; // aborted or going away: the handler is not told
};
