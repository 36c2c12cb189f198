#include "RemoteSocket.h"

#include "StreamSocket.h"

#include <QCoreApplication>

#include <cstring>
#include <linux/sockios.h>
#include <sys/ioctl.h>

namespace {

// A bound that is this close to the cap is checked against the socket
// thread's own figures: what it queued may have grown a little more than
// the cost of what it took (a chunk's unused tail, its queue's slots, TLS's buffers).
constexpr qint64 RecheckMargin = 256 * 1024;

quint64 targetOf(SocketShared *shared)
{
    return quint64(quintptr(shared));
}

} // namespace

qint64 RemoteSocket::costOf(QByteArrayView head, const QByteArray &payload)
{
    // A queue slot, and room for the slot array's doubling.
    constexpr qint64 Slot = 2 * qint64(sizeof(QByteArray));
    // The smallest chunk a head starts (StreamSocket's chunkCapacity).
    constexpr qint64 MinChunk = 128;
    if (payload.size() > StreamSocket::CoalesceLimit) {
        return qMax<qint64>(head.size(), MinChunk) + StreamSocket::BlockOverhead
            + qMax(payload.size(), payload.capacity()) + StreamSocket::BlockOverhead + 2 * Slot;
    }
    return 2 * (head.size() + payload.size()) + StreamSocket::BlockOverhead + Slot;
}

RemoteSocket::RemoteSocket(const Link &link, Handler *handler)
    : m_threads(link.owner)
    , m_inbox(link.inbox)
    , m_shared(link.shared)
    , m_handler(handler)
    , m_id(link.id)
    , m_fd(link.fd)
{
    if (!m_shared) {
        orphan(); // the socket threads were stopping: it never opened
        return;
    }
    m_threads->attach(m_id, this);
}

RemoteSocket::~RemoteSocket()
{
    close();
}

qint64 RemoteSocket::read(char *buffer, qint64 size)
{
    if (!m_input.isEmpty()) {
        const qint64 n = qMin(size, m_input.size());
        std::memcpy(buffer, m_input.constData(), size_t(n));
        if (n == m_input.size())
            m_input = QByteArray();
        else
            m_input.remove(0, n); // Qt 6 moves its start, not the bytes
        return n;
    }
    if (m_failed)
        return Failed;
    if (m_ended)
        return 0;
    return WouldBlock;
}

bool RemoteSocket::write(QByteArrayView head, const QByteArray &payload)
{
    if (!m_open || m_failed || m_writeShut)
        return false;
    const qint64 bytes = head.size() + payload.size();
    const qint64 cost = costOf(head, payload);
    if (m_handedCost - m_knownReleased + cost > m_maxPending - RecheckMargin
        && memoryNow() + cost > m_maxPending) {
        return false; // the caller drops a slow consumer, as for a full StreamSocket
    }
    HandOffItem item;
    item.target = targetOf(m_shared);
    item.tag = SocketOp::tag(SocketOp::Write, cost);
    if (head.size() <= HandOffItem::MaxHead) {
        item.headSize = quint8(head.size());
        std::memcpy(item.head, head.data(), size_t(head.size()));
        item.payload = payload;
    } else {
        // Only frames that are not pushes have a long head (a handshake
        // reply, a pong): copied, as StreamSocket would have.
        item.payload.reserve(bytes);
        item.payload.append(head.data(), head.size()).append(payload);
    }
    if (!m_inbox->tryPush(std::move(item), cost + HandOffQueue::EntryOverhead)) {
        // The socket thread is that far behind: this client is dropped
        // rather than the thread's memory growing without bound.
        m_failed = true;
        m_error = QCoreApplication::translate("RemoteSocket", "socket thread queue full");
        return false;
    }
    m_handedBytes += bytes;
    m_handedCost += cost;
    return true;
}

qint64 RemoteSocket::memoryNow() const
{
    if (!m_open)
        return 0;
    // Taken before queued: the socket thread writes them the other way round.
    const qint64 taken = m_shared->takenCost.load();
    const qint64 released = taken - m_shared->queuedMemory.load();
    m_knownReleased = released;
    return m_handedCost - released;
}

qint64 RemoteSocket::inFlightBytes() const
{
    if (!m_open)
        return 0;
    // Taken before queued: the socket thread writes them the other way round.
    const qint64 taken = m_shared->takenBytes.load();
    return m_handedBytes - taken + m_shared->queuedBytes.load() + m_shared->lostBytes.load();
}

qint64 RemoteSocket::pendingBytes() const
{
    if (!m_open)
        return 0;
    m_shared->drainWanted.store(true);
    const qint64 pending = inFlightBytes();
    if (pending == 0)
        m_shared->drainWanted.store(false);
    return pending;
}

qint64 RemoteSocket::queuedMemory() const
{
    return memoryNow();
}

qint64 RemoteSocket::unacknowledgedBytes() const
{
    int inKernel = 0;
    if (!m_open || ::ioctl(m_fd, SIOCOUTQ, &inKernel) != 0)
        inKernel = 0;
    return inFlightBytes() + inKernel;
}

void RemoteSocket::send(quint8 op)
{
    HandOffItem item;
    item.target = targetOf(m_shared);
    item.tag = SocketOp::tag(op);
    // Never refused but by a closed queue (the threads stopping, which
    // closes every socket anyway): a descriptor is never left open.
    m_inbox->forcePush(std::move(item));
}

void RemoteSocket::setReadEnabled(bool enabled)
{
    if (m_open)
        send(enabled ? SocketOp::ReadOn : SocketOp::ReadOff);
}

void RemoteSocket::shutdownWrite()
{
    if (!m_open || m_writeShut)
        return;
    m_writeShut = true;
    send(SocketOp::ShutdownWrite);
}

void RemoteSocket::abort()
{
    finishLocally(SocketOp::Abort);
}

void RemoteSocket::close()
{
    finishLocally(SocketOp::Close);
}

void RemoteSocket::finishLocally(quint8 op)
{
    if (!m_open)
        return;
    m_open = false;
    m_input = QByteArray();
    // The last item for it: the socket thread deletes the shared part then.
    send(op);
    m_shared = nullptr;
    if (m_threads)
        m_threads->forget(m_id);
}

void RemoteSocket::orphan()
{
    m_threads = nullptr;
    m_open = false;
    m_shared = nullptr;
    m_failed = true;
    m_error = QCoreApplication::translate("RemoteSocket", "socket threads stopped");
}

void RemoteSocket::deliver(HandOffItem &item)
{
    switch (SocketOp::op(item.tag)) {
    case SocketOp::Data:
        if (m_input.isEmpty())
            m_input = std::move(item.payload);
        else
            m_input.append(item.payload);
        tellReadable();
        return;
    case SocketOp::End:
        m_ended = true;
        tellReadable();
        return;
    case SocketOp::Failed:
        m_failed = true;
        m_error = QString::fromUtf8(item.payload);
        tellReadable();
        return;
    case SocketOp::Drained:
        if (inFlightBytes() == 0)
            m_handler->socketDrained();
        return;
    default:
        return;
    }
}

void RemoteSocket::tellReadable()
{
    m_handler->socketReadable();
    // A handler reads a bounded amount per call, as from a level-triggered
    // socket: what it left brings it back on a later turn of the loop.
    if (m_open && !m_input.isEmpty() && m_threads)
        m_threads->readAgainLater(m_id);
}
