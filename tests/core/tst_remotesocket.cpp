// RemoteSocket and SocketThreads on their own: a socket pair, one end on a
// socket thread, the other read and written here by hand.
#include "RemoteSocket.h"
#include "SocketThreads.h"
#include "TestMain.h"
#include "Waiting.h"

#include <QTest>

#include <cerrno>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

class tst_RemoteSocket final : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void readsArriveInOrderThroughAFullQueue();
    void writesKeepOrderUnderTheCap();
    void fullThreadQueueFailsTheWrite();
    void closeReachesThePeer();
    void stoppedThreadsFailTheSocket();
};

namespace {

// Reads everything it is told about, as a connection would.
class Reader final : public Transport::Handler
{
public:
    RemoteSocket *socket = nullptr;
    QByteArray received;
    int drained = 0;
    bool ended = false;

    void socketReadable() override
    {
        char buffer[16 * 1024];
        // A budget, as a connection has: the rest comes on a later turn.
        for (int i = 0; i < 4; ++i) {
            const qint64 n = socket->read(buffer, sizeof buffer);
            if (n == Transport::WouldBlock)
                return;
            if (n <= 0) {
                ended = true;
                return;
            }
            received.append(buffer, n);
        }
    }
    void socketDrained() override { ++drained; }
};

struct Pair
{
    int near = -1; // handed to the socket thread
    int far = -1; // ours
    Pair()
    {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0) {
            near = fds[0];
            far = fds[1];
        }
    }
    ~Pair()
    {
        if (far >= 0)
            ::close(far);
    }
};

QByteArray pattern(qint64 size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qint64 i = 0; i < size; ++i)
        bytes[i] = char('a' + (i * 7 + i / 251) % 26);
    return bytes;
}

// Reads what is there now from fd.
QByteArray drain(int fd)
{
    QByteArray out;
    char buffer[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0)
            return out;
        out.append(buffer, n);
    }
}

} // namespace

void tst_RemoteSocket::readsArriveInOrderThroughAFullQueue()
{
    // The main thread's queue holds 16 KiB: what the socket thread reads
    // past it waits there, reading stopped, and is tried again.
    SocketThreads threads(1, 16 * 1024);
    Pair pair;
    QVERIFY(pair.near >= 0);
    Reader reader;
    RemoteSocket socket(threads.adopt(pair.near, nullptr), &reader);
    reader.socket = &socket;

    const QByteArray sent = pattern(2 * 1024 * 1024);
    qint64 written = 0;
    WAIT_UNTIL(
        [&] {
            while (written < sent.size()) {
                const ssize_t n =
                    ::write(pair.far, sent.constData() + written, size_t(sent.size() - written));
                if (n <= 0)
                    break;
                written += n;
            }
            return written == sent.size() && reader.received.size() == sent.size();
        },
        QByteArray::number(written) + " written, " + QByteArray::number(reader.received.size())
            + " received",
        20000);
    QVERIFY(reader.received == sent);
    const SocketThreads::Stats stats = threads.stats();
    QVERIFY2(stats.events.refused > 0, "the queue never filled: the test proves nothing");
    QVERIFY(stats.events.peakBytes <= 16 * 1024);
}

void tst_RemoteSocket::writesKeepOrderUnderTheCap()
{
    SocketThreads threads(1, SocketThreads::DefaultInboxBytes);
    Pair pair;
    QVERIFY(pair.near >= 0);
    // A small kernel buffer, so that the socket thread has to queue.
    const int small = 4096;
    ::setsockopt(pair.far, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    Reader reader;
    RemoteSocket socket(threads.adopt(pair.near, nullptr), &reader);
    reader.socket = &socket;
    constexpr qint64 Cap = 256 * 1024;
    socket.setMaxPending(Cap);

    // Nobody reads: writes are accepted until what is handed over plus
    // what the socket thread queued would pass the cap.
    const QByteArray chunk = pattern(1000);
    QByteArray accepted;
    int writes = 0;
    while (writes < 10000 && socket.write(QByteArrayView("H:"), chunk)) {
        accepted += "H:" + chunk;
        ++writes;
        if (writes % 64 == 0)
            QTest::qWait(1); // let the socket thread take some
    }
    QVERIFY2(writes < 10000, "the cap never refused");
    QVERIFY(!socket.failed()); // refused for the cap, not a failure
    QVERIFY(socket.queuedMemory() <= Cap);
    QVERIFY(socket.pendingBytes() > 0);

    // Read at last: everything accepted, in order, and then "drained".
    QByteArray got;
    WAIT_UNTIL(
        [&] {
            got += drain(pair.far);
            return got.size() >= accepted.size();
        },
        QByteArray::number(got.size()) + " of " + QByteArray::number(accepted.size()), 20000);
    QVERIFY(got == accepted);
    WAIT_VERIFY(reader.drained > 0);
    QCOMPARE(socket.pendingBytes(), 0);
    QVERIFY(socket.write(QByteArrayView("after"), QByteArray()));
    WAIT_UNTIL([&] { return drain(pair.far) == "after"; }, "after");
}

void tst_RemoteSocket::fullThreadQueueFailsTheWrite()
{
    // A socket thread's queue of 4 KiB: a write that does not fit is
    // refused, counted, and the socket fails (its connection is dropped)
    // rather than the queue growing.
    SocketThreads threads(1, 4096);
    Pair pair;
    QVERIFY(pair.near >= 0);
    Reader reader;
    RemoteSocket socket(threads.adopt(pair.near, nullptr), &reader);
    reader.socket = &socket;
    QVERIFY(socket.write(QByteArrayView("small"), QByteArray()));
    QVERIFY(!socket.write(QByteArrayView("H:"), pattern(8 * 1024)));
    QVERIFY(socket.failed());
    QVERIFY(!socket.errorString().isEmpty());
    QVERIFY(!socket.write(QByteArrayView("later"), QByteArray()));
    QCOMPARE(threads.inboxTotals().refused, 1);
    QVERIFY(threads.inboxTotals().peakBytes <= 4096);
    WAIT_UNTIL([&] { return drain(pair.far) == "small"; }, "small");
}

void tst_RemoteSocket::closeReachesThePeer()
{
    SocketThreads threads(2, SocketThreads::DefaultInboxBytes);
    Pair pair;
    QVERIFY(pair.near >= 0);
    Reader reader;
    RemoteSocket socket(threads.adopt(pair.near, nullptr), &reader);
    reader.socket = &socket;
    QVERIFY(socket.write(QByteArrayView("last words"), QByteArray()));
    socket.close();
    QVERIFY(!socket.isOpen());
    QVERIFY(!socket.write(QByteArrayView("too late"), QByteArray()));
    QByteArray got;
    bool eof = false;
    WAIT_UNTIL(
        [&] {
            char buffer[256];
            const ssize_t n = ::read(pair.far, buffer, sizeof buffer);
            if (n > 0)
                got.append(buffer, n);
            eof = n == 0;
            return eof;
        },
        got);
    QCOMPARE(got, QByteArray("last words"));
    WAIT_COMPARE(threads.socketCount(), 0);
}

void tst_RemoteSocket::stoppedThreadsFailTheSocket()
{
    Pair pair;
    QVERIFY(pair.near >= 0);
    Reader reader;
    auto threads = std::make_unique<SocketThreads>(1, SocketThreads::DefaultInboxBytes);
    RemoteSocket socket(threads->adopt(pair.near, nullptr), &reader);
    reader.socket = &socket;
    QVERIFY(socket.write(QByteArrayView("x"), QByteArray()));
    threads.reset(); // the socket thread resets what it holds
    QVERIFY(!socket.isOpen());
    QVERIFY(!socket.write(QByteArrayView("y"), QByteArray()));
    QVERIFY(socket.failed());
    QVERIFY(!socket.errorString().isEmpty());
    char buffer[16];
    QByteArray got;
    ssize_t n = 0;
    while ((n = ::read(pair.far, buffer, sizeof buffer)) > 0)
        got.append(buffer, n);
    // Closed with a reset or a FIN: either way the peer is told, never left hanging.
    QVERIFY2(n == 0 || (n < 0 && errno == ECONNRESET), qPrintable(QString::number(errno)));
}

PUSHCONSOLE_TEST_MAIN(tst_RemoteSocket)
#include "tst_remotesocket.moc"
