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

private:
    void detach();

    QSslSocket *m_socket;
    Handler *m_handler;
    QString m_error;
    qint64 m_maxPending = 8 * 1024 * 1024;
    bool m_failed = false;
    bool m_readEnabled = true;
};
