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
// Polled after every byte by some tests while other tests hold thousands
// of sockets, so the table is read whole and searched, not split line by
// line: a slow poll once made a byte-by-byte header outlast its deadline.
qint64 receiveQueue(quint16 localPort, quint16 remotePort)
{
    const QByteArray local = QByteArray::number(localPort, 16).toUpper().rightJustified(4, '0');
    const QByteArray remote = QByteArray::number(remotePort, 16).toUpper().rightJustified(4, '0');
    const QByteArray needle = ':' + local + ' ';
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile file(QString::fromLatin1(table));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QByteArray all = file.readAll();
        for (qsizetype at = all.indexOf(needle); at >= 0; at = all.indexOf(needle, at + 1)) {
            // The local address ends here; the remote one follows.
            const qsizetype remoteStart = at + needle.size();
            const qsizetype remoteEnd = all.indexOf(' ', remoteStart);
            const qsizetype lineStart = all.lastIndexOf('\n', at) + 1;
            // Only a match in the local address column (the second field).
            const QList<QByteArray> head =
                all.mid(lineStart, at - lineStart).simplified().split(' ');
            if (head.size() != 2 || remoteEnd < 0
                || !all.mid(remoteStart, remoteEnd - remoteStart).endsWith(':' + remote))
                continue;
            // " st tx_queue:rx_queue"
            const qsizetype queues = all.indexOf(' ', remoteEnd + 1) + 1;
            const qsizetype colon = all.indexOf(':', queues);
            const qsizetype end = all.indexOf(' ', colon);
            if (queues <= 0 || colon < 0 || end < 0)
                return -1;
            return all.mid(colon + 1, end - colon - 1).toLongLong(nullptr, 16);
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
