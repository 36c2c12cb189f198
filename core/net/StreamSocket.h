#pragma once

#include "SocketNotifier.h"
#include "Transport.h"

#include <QByteArray>
#include <QByteArrayView>

#include <vector>

class QObject;

// A non-blocking TCP socket on a raw descriptor, lighter than QTcpSocket
// (no 16 KiB read chunk, no engine object): the owner reads into a shared
// scratch buffer and only keeps what it cannot parse yet. Writes go straight
// to the kernel; what does not fit is queued up to a cap on real memory.
// Small writes (frame headers, control frames, reply lines) are copied into
// one growing tail chunk rather than each taking a heap block and a queue
// slot of its own; large payloads stay implicitly shared, so a broadcast
// queues no copies.
class StreamSocket final : public Transport, private SocketNotifier::Target
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
    qint64 queuedMemory() const override
    {
        return m_blocks + qint64(m_queue.capacity() * sizeof(QByteArray));
    }
    qint64 unacknowledgedBytes() const override;
    void setMaxPending(qint64 bytes) override { m_maxPending = bytes; }
    void setReadEnabled(bool enabled) override;
    void shutdownWrite() override;
    void abort() override;
    // Close with a FIN, queued output discarded.
    void close() override;
    // Gives the descriptor up, open, to another owner (an HTTP connection
    // upgraded to a stream): the notifiers stop, nothing is closed. Only
    // with nothing queued; -1 otherwise, and nothing changes.
    int release();
    bool failed() const override { return m_lastError != 0; }
    QString errorString() const override;

    // Closes fd with a reset, not a FIN: no lingering on a dead peer, and a
    // refused client sees at once that it was refused.
    static void resetAndClose(int fd);

    // Per-thread buffer every connection reads into.
    static char *scratch();
    static constexpr qint64 ScratchSize = 64 * 1024;

    // A payload up to this size is copied into the tail chunk: cheaper than
    // a queue slot and a reference of its own.
    static constexpr qint64 CoalesceLimit = 256;
    // The tail chunk takes appends up to this size; then a new one starts,
    // so a chunk being sent keeps at most this much already sent.
    static constexpr qint64 ChunkSize = 16 * 1024;
    // A heap block costs this besides its bytes: Qt's array header and the
    // allocator's own, rounded up.
    static constexpr qint64 BlockOverhead = 32;

private:
    void notifierActivated(bool writable) override;
    bool flush();
    // Memory enqueue() would add for `copy` bytes of head and payload from
    // `skip` on.
    qint64 growth(qint64 copy, const QByteArray &payload, qint64 skip) const;
    void enqueue(QByteArrayView head, const QByteArray &payload, qint64 skip);
    void appendToTail(QByteArrayView a, QByteArrayView b);
    void compact();
    void clearQueue();
    void releaseNotifiers();
    static qint64 blockCost(const QByteArray &block)
    {
        return qMax(block.size(), block.capacity()) + BlockOverhead;
    }

    int m_fd;
    Handler *m_handler;
    SocketNotifier *m_readNotifier = nullptr;
    SocketNotifier *m_writeNotifier = nullptr; // created on first short write
    QObject *m_owner;
    // Entries before m_head are sent (and empty); they are dropped in bulk.
    std::vector<QByteArray> m_queue;
    size_t m_head = 0;
    qint64 m_queueOffset = 0; // bytes of m_queue[m_head] already sent
    qint64 m_pending = 0;
    qint64 m_blocks = 0; // heap memory of the queued entries
    qint64 m_maxPending = 8 * 1024 * 1024;
    int m_lastError = 0;
    bool m_tailOpen = false; // m_queue.back() is our own chunk and takes appends
    bool m_shutdownWhenDrained = false;
};
