#include "SocketQueues.h"

#include <QAbstractEventDispatcher>
#include <QFile>

#include <cerrno>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace TestSupport {

namespace {

// The rx_queue of the socket with these ports, in /proc/net/tcp or tcp6:
// "sl local_address rem_address st tx_queue:rx_queue ...", ports in hex.
qint64 receiveQueue(quint16 localPort, quint16 remotePort)
{
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile file(QString::fromLatin1(table));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        file.readLine(); // the header
        for (QByteArray line = file.readLine(); !line.isEmpty(); line = file.readLine()) {
            const QList<QByteArray> fields = line.simplified().split(' ');
            if (fields.size() < 5)
                continue;
            const auto port = [](const QByteArray &address) {
                return quint16(address.mid(address.lastIndexOf(':') + 1).toUInt(nullptr, 16));
            };
            if (port(fields[1]) != localPort || port(fields[2]) != remotePort)
                continue;
            const QByteArray &queues = fields[4];
            return queues.mid(queues.indexOf(':') + 1).toLongLong(nullptr, 16);
        }
    }
    return -1;
}

} // namespace

qint64 unreadByPeer(const QAbstractSocket &socket)
{
    return receiveQueue(socket.peerPort(), socket.localPort());
}

bool waitUntilReadByPeer(QAbstractSocket &socket, int timeoutMs)
{
    return waitFor(
        [&] {
            int notSent = 0;
            // Qt's buffer, then the bytes the kernel has not handed to
            // loopback yet, then the server's receive queue.
            return socket.bytesToWrite() == 0
                && ::ioctl(int(socket.socketDescriptor()), SIOCOUTQNSD, &notSent) == 0
                && notSent == 0 && unreadByPeer(socket) == 0;
        },
        timeoutMs);
}

bool nothingArrived(QAbstractSocket &socket)
{
    char c;
    errno = 0;
    return socket.bytesAvailable() == 0
        && ::recv(int(socket.socketDescriptor()), &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0
        && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool eventLoopIdle()
{
    return !QAbstractEventDispatcher::instance()->processEvents(QEventLoop::AllEvents);
}

} // namespace TestSupport
