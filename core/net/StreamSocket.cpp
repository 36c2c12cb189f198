#include "StreamSocket.h"

#include "SocketNotifier.h"

#include <cerrno>
#include <cstring>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

StreamSocket::StreamSocket(int fd, QObject *owner, Handler *handler)
    : m_fd(fd)
    , m_handler(handler)
    , m_owner(owner)
{
    m_readNotifier = new SocketNotifier(fd, QSocketNotifier::Read, this, owner);
}

StreamSocket::~StreamSocket()
{
    close();
}

void StreamSocket::resetAndClose(int fd)
{
    linger lin = {1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
    ::close(fd);
}

char *StreamSocket::scratch()
{
    static thread_local char buffer[ScratchSize];
    return buffer;
}

qint64 StreamSocket::read(char *buffer, qint64 size)
{
    if (m_fd < 0)
        return Failed;
    for (;;) {
        const ssize_t n = ::recv(m_fd, buffer, size_t(size), 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return WouldBlock;
        m_lastError = errno;
        return Failed;
    }
}

bool StreamSocket::write(QByteArrayView head, const QByteArray &payload)
{
    if (m_fd < 0)
        return false;
    qint64 sent = 0;
    if (m_pending == 0) {
        const qint64 total = head.size() + payload.size();
        iovec iov[2] = {{const_cast<char *>(head.data()), size_t(head.size())},
            {const_cast<char *>(payload.constData()), size_t(payload.size())}};
        msghdr msg = {};
        msg.msg_iov = iov;
        msg.msg_iovlen = payload.isEmpty() ? 1 : 2;
        ssize_t n;
        do {
            // MSG_NOSIGNAL: a peer that went away must not kill us with SIGPIPE.
            n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n == total)
            return true;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                m_lastError = errno;
                return false;
            }
            n = 0;
        }
        sent = n;
    }
    const qint64 copy = qMax<qint64>(0, head.size() - sent);
    if (queuedMemory() + growth(copy, payload, qMax<qint64>(0, sent - head.size())) > m_maxPending)
        return false;
    enqueue(head, payload, sent);
    if (!m_writeNotifier)
        m_writeNotifier = new SocketNotifier(m_fd, QSocketNotifier::Write, this, m_owner);
    m_writeNotifier->setEnabled(true);
    return true;
}

namespace {

// Capacity of a chunk that must hold `need` bytes and holds `current` now:
// doubling from a small start, never past ChunkSize unless one write is
// larger. Reserved exactly, so what it costs is known before it is taken.
qint64 chunkCapacity(qint64 need, qint64 current)
{
    if (need <= current)
        return current;
    constexpr qint64 MinChunk = 128;
    return qMax(need, qMin(StreamSocket::ChunkSize, qMax(2 * current, MinChunk)));
}

} // namespace

qint64 StreamSocket::growth(qint64 copy, const QByteArray &payload, qint64 skip) const
{
    const qint64 rest = payload.size() - skip;
    const bool share = rest > CoalesceLimit;
    if (rest > 0 && !share)
        copy += rest;
    qint64 bytes = 0;
    size_t entries = 0;
    if (copy > 0) {
        const QByteArray *tail = m_tailOpen ? &m_queue.back() : nullptr;
        if (tail && tail->size() + copy <= ChunkSize) {
            bytes += chunkCapacity(tail->size() + copy, tail->capacity()) - tail->capacity();
        } else {
            bytes += chunkCapacity(copy, 0) + BlockOverhead;
            ++entries;
        }
    }
    if (share) {
        bytes += blockCost(payload);
        ++entries;
    }
    // The queue's own array doubles when full (libstdc++'s growth).
    size_t capacity = m_queue.capacity();
    while (m_queue.size() + entries > capacity)
        capacity = capacity ? 2 * capacity : 1;
    return bytes + qint64((capacity - m_queue.capacity()) * sizeof(QByteArray));
}

void StreamSocket::enqueue(QByteArrayView head, const QByteArray &payload, qint64 skip)
{
    // skip > 0 only when the queue was empty and the kernel took a prefix.
    m_pending += head.size() + payload.size() - skip;
    const QByteArrayView headRest = head.sliced(qMin(skip, head.size()));
    skip = qMax<qint64>(0, skip - head.size());
    const QByteArrayView payloadRest = QByteArrayView(payload).sliced(skip);
    if (payloadRest.size() <= CoalesceLimit) {
        appendToTail(headRest, payloadRest);
        return;
    }
    appendToTail(headRest, {});
    if (m_head == m_queue.size())
        m_queueOffset = skip;
    m_blocks += blockCost(payload);
    m_queue.push_back(payload);
    m_tailOpen = false;
}

void StreamSocket::appendToTail(QByteArrayView a, QByteArrayView b)
{
    const qint64 size = a.size() + b.size();
    if (size == 0)
        return;
    if (m_tailOpen && m_queue.back().size() + size <= ChunkSize) {
        QByteArray &tail = m_queue.back();
        const qint64 before = tail.capacity();
        const qint64 wanted = chunkCapacity(tail.size() + size, before);
        if (wanted > before)
            tail.reserve(wanted);
        tail.append(a).append(b);
        m_blocks += tail.capacity() - before;
        return;
    }
    QByteArray chunk;
    chunk.reserve(chunkCapacity(size, 0));
    chunk.append(a).append(b);
    m_blocks += blockCost(chunk);
    m_queue.push_back(std::move(chunk));
    m_tailOpen = true;
}

bool StreamSocket::flush()
{
    while (m_head < m_queue.size()) {
        constexpr int MaxIov = 64;
        iovec iov[MaxIov];
        int count = 0;
        for (size_t i = m_head; i < m_queue.size() && count < MaxIov; ++i) {
            const QByteArray &chunk = m_queue[i];
            const qint64 offset = i == m_head ? m_queueOffset : 0;
            iov[count++] = {
                const_cast<char *>(chunk.constData() + offset), size_t(chunk.size() - offset)};
        }
        msghdr msg = {};
        msg.msg_iov = iov;
        msg.msg_iovlen = size_t(count);
        const ssize_t n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                compact();
                return true;
            }
            m_lastError = errno;
            return false;
        }
        qint64 left = n;
        m_pending -= n;
        while (m_head < m_queue.size() && left > 0) {
            QByteArray &chunk = m_queue[m_head];
            const qint64 rest = chunk.size() - m_queueOffset;
            if (left < rest) {
                m_queueOffset += left;
                break;
            }
            left -= rest;
            m_queueOffset = 0;
            m_blocks -= blockCost(chunk);
            chunk = QByteArray(); // its memory goes now, not with the next compaction
            ++m_head;
        }
    }
    // Give back the queue's memory: most connections never queue again.
    clearQueue();
    return true;
}

void StreamSocket::compact()
{
    // Dropping the sent entries in bulk keeps each send O(entries sent).
    if (m_head < 32 || m_head * 2 < m_queue.size())
        return;
    m_queue.erase(m_queue.begin(), m_queue.begin() + qsizetype(m_head));
    m_head = 0;
    if (m_queue.capacity() > 4 * m_queue.size() + 32)
        m_queue.shrink_to_fit();
}

void StreamSocket::clearQueue()
{
    std::vector<QByteArray>().swap(m_queue);
    m_head = 0;
    m_queueOffset = 0;
    m_pending = 0;
    m_blocks = 0;
    m_tailOpen = false;
}

qint64 StreamSocket::unacknowledgedBytes() const
{
    int inKernel = 0;
    if (m_fd < 0 || ::ioctl(m_fd, SIOCOUTQ, &inKernel) != 0)
        inKernel = 0;
    return m_pending + inKernel;
}

void StreamSocket::notifierActivated(bool writable)
{
    if (m_fd < 0)
        return;
    if (!writable) {
        m_handler->socketReadable();
        return;
    }
    if (!flush()) {
        // The reader side sees the failure on its next read; wake it now.
        m_writeNotifier->setEnabled(false);
        m_handler->socketReadable();
        return;
    }
    if (m_pending == 0) {
        m_writeNotifier->setEnabled(false);
        if (m_shutdownWhenDrained) {
            m_shutdownWhenDrained = false;
            ::shutdown(m_fd, SHUT_WR);
        }
        m_handler->socketDrained();
    }
}

void StreamSocket::setReadEnabled(bool enabled)
{
    if (m_readNotifier && m_fd >= 0)
        m_readNotifier->setEnabled(enabled);
}

void StreamSocket::shutdownWrite()
{
    if (m_fd < 0)
        return;
    if (m_pending == 0)
        ::shutdown(m_fd, SHUT_WR);
    else
        m_shutdownWhenDrained = true; // after the queue, not before it
}

QString StreamSocket::errorString() const
{
    return m_lastError ? QString::fromLocal8Bit(std::strerror(m_lastError)) : QString();
}

void StreamSocket::releaseNotifiers()
{
    // The notifiers may be the ones being activated right now, so they are
    // only disabled here; the owner (their parent) deletes them later.
    if (m_readNotifier)
        m_readNotifier->setEnabled(false);
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(false);
}

void StreamSocket::abort()
{
    if (m_fd < 0)
        return;
    releaseNotifiers();
    resetAndClose(m_fd);
    m_fd = -1;
    clearQueue();
}

void StreamSocket::close()
{
    if (m_fd < 0)
        return;
    releaseNotifiers();
    ::close(m_fd);
    m_fd = -1;
    clearQueue();
}

int StreamSocket::release()
{
    if (m_fd < 0 || m_pending > 0)
        return -1;
    releaseNotifiers();
    const int fd = m_fd;
    m_fd = -1;
    clearQueue();
    return fd;
}
