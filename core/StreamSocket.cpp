#include "StreamSocket.h"

#include "SocketNotifier.h"

#include <cerrno>
#include <cstring>
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
    const qint64 total = head.size() + payload.size();
    if (m_queue.empty()) {
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
        if (total - n > m_maxPending)
            return false;
        enqueue(head, payload, n);
    } else {
        if (m_pending + total > m_maxPending)
            return false;
        enqueue(head, payload, 0);
    }
    if (!m_writeNotifier)
        m_writeNotifier = new SocketNotifier(m_fd, QSocketNotifier::Write, this, m_owner);
    m_writeNotifier->setEnabled(true);
    return true;
}

void StreamSocket::enqueue(QByteArrayView head, const QByteArray &payload, qint64 skip)
{
    // skip > 0 only when the queue was empty and the kernel took a prefix.
    m_pending += head.size() + payload.size() - skip;
    if (skip < head.size()) {
        m_queue.emplace_back(head.sliced(skip).toByteArray());
        skip = 0;
    } else {
        skip -= head.size();
    }
    if (skip < payload.size()) {
        if (m_queue.empty())
            m_queueOffset = skip;
        m_queue.push_back(payload);
    }
}

bool StreamSocket::flush()
{
    while (!m_queue.empty()) {
        constexpr int MaxIov = 64;
        iovec iov[MaxIov];
        int count = 0;
        for (const QByteArray &chunk : m_queue) {
            if (count == MaxIov)
                break;
            const qint64 offset = count == 0 ? m_queueOffset : 0;
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
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            m_lastError = errno;
            return false;
        }
        qint64 left = n;
        m_pending -= n;
        auto it = m_queue.begin();
        while (it != m_queue.end() && left > 0) {
            const qint64 rest = it->size() - m_queueOffset;
            if (left >= rest) {
                left -= rest;
                m_queueOffset = 0;
                ++it;
            } else {
                m_queueOffset += left;
                left = 0;
            }
        }
        m_queue.erase(m_queue.begin(), it);
    }
    // Give back the queue's memory: most connections never queue again.
    std::vector<QByteArray>().swap(m_queue);
    m_queueOffset = 0;
    m_pending = 0;
    return true;
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
    if (m_queue.empty()) {
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
    if (m_queue.empty())
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
    std::vector<QByteArray>().swap(m_queue);
    m_pending = 0;
}

void StreamSocket::close()
{
    if (m_fd < 0)
        return;
    releaseNotifiers();
    ::close(m_fd);
    m_fd = -1;
    std::vector<QByteArray>().swap(m_queue);
    m_pending = 0;
}
