#pragma once

#include "Transport.h"

#include <QByteArray>
#include <QByteArrayView>

#include <vector>

class QObject;
class SocketNotifier;

// A non-blocking TCP socket on a raw descriptor, lighter than QTcpSocket
// (no 16 KiB read chunk, no engine object): the owner reads into a shared
// scratch buffer and only keeps what it cannot parse yet. Writes go straight
// to the kernel; what does not fit is queued (payloads stay implicitly
// shared, so a broadcast queues no copies) up to a cap.
class StreamSocket final : public Transport
{
public:
    // Takes ownership of fd; the notifiers become children of owner.
    StreamSocket(int fd, QObject *owner, Handler *handler);
    ~StreamSocket() override;
    StreamSocket(const StreamSocket &) = delete;
    StreamSocket &operator=(const StreamSocket &) = delete;

    bool isOpen() const override { return m_fd >= 0; }
    int descriptor() const { return m_fd; }
    qint64 read(char *buffer, qint64 size) override;
    bool write(QByteArrayView head, const QByteArray &payload = QByteArray()) override;
    qint64 pendingBytes() const override { return m_pending; }
    void setMaxPending(qint64 bytes) override { m_maxPending = bytes; }
    void setReadEnabled(bool enabled) override;
    void shutdownWrite() override;
    void abort() override;
    // Close with a FIN, queued output discarded.
    void close() override;
    bool failed() const override { return m_lastError != 0; }
    QString errorString() const override;

    // Closes fd with a reset, not a FIN: no lingering on a dead peer, and a
    // refused client sees at once that it was refused.
    static void resetAndClose(int fd);

    // Per-thread buffer every connection reads into.
    static char *scratch();
    static constexpr qint64 ScratchSize = 64 * 1024;

private:
    friend class SocketNotifier;
    void notifierActivated(bool writable);
    bool flush();
    void enqueue(QByteArrayView head, const QByteArray &payload, qint64 skip);
    void releaseNotifiers();

    int m_fd;
    Handler *m_handler;
    SocketNotifier *m_readNotifier = nullptr;
    SocketNotifier *m_writeNotifier = nullptr; // created on first short write
    QObject *m_owner;
    std::vector<QByteArray> m_queue;
    qint64 m_queueOffset = 0; // bytes of m_queue.front() already sent
    qint64 m_pending = 0;
    qint64 m_maxPending = 8 * 1024 * 1024;
    int m_lastError = 0;
    bool m_shutdownWhenDrained = false;
};
