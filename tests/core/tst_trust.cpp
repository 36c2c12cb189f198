#include "StalledWsClient.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "ConsoleLogger.h"
#include "EventLog.h"
#include "StreamSocket.h"
#include "WsConnection.h"
#include "WsFrame.h"
#include "WsGateway.h"

#include <QSignalSpy>
#include <QTcpSocket>

#include <cerrno>
#include <malloc.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace TestSupport;

// What the gateway promises under attack: every queue bounded in real
// memory, "ok" only for frames every target has queued, no silent loss.
class tst_Trust : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smallWritesCostWhatTheyHold();
    void pingFloodHoldsOnePong();
    void slowConsumerContract();
    void eventStringsAreBounded();
    void connectEventOfHugeHandshakeIsBounded();
};

namespace {

// A connected pair whose first end's kernel buffer is full, so that every
// StreamSocket write on it is queued.
struct FullPair
{
    int fds[2] = {-1, -1};
    FullPair()
    {
        ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
        const QByteArray chunk(65536, 'k');
        while (::send(fds[0], chunk.constData(), size_t(chunk.size()), MSG_NOSIGNAL) > 0) { }
    }
    ~FullPair()
    {
        if (fds[1] >= 0)
            ::close(fds[1]);
    }
};

struct NoHandler final : Transport::Handler
{
    void socketReadable() override { }
    void socketDrained() override { }
};

size_t heapInUse()
{
    // Small blocks in the heap, large ones mapped on their own.
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

WsConnection *onlyConnection(PushServer *server, const QByteArray &uid)
{
    const auto *list = server->registry()->connections(uid);
    return list && list->size() == 1 ? list->front() : nullptr;
}

} // namespace

void tst_Trust::smallWritesCostWhatTheyHold()
{
    // Tiny writes (a pong, a frame header, a reply line) queued one by one:
    // the cap must bound the heap they really take, not only their bytes.
    constexpr qint64 Cap = 1024 * 1024;
    QObject owner;
    NoHandler handler;
    FullPair pair;
    const size_t before = heapInUse();
    qint64 accepted = 0;
    {
        StreamSocket socket(pair.fds[0], &owner, &handler);
        socket.setMaxPending(Cap);
        const char pong[2] = {char(0x8A), 0};
        while (socket.write(QByteArrayView(pong, 2)) && accepted < 10 * Cap)
            ++accepted;
        const qint64 grown = qint64(heapInUse()) - qint64(before);
        QVERIFY2(grown < Cap + Cap / 8,
            qPrintable(QStringLiteral("%1 writes took %2 bytes of heap").arg(accepted).arg(grown)));
        // The refusal came at the cap, not long before it: tiny writes are
        // packed, so nearly all of the cap is their bytes.
        QVERIFY2(2 * accepted > Cap * 9 / 10, qPrintable(QString::number(accepted)));
        QVERIFY(socket.queuedMemory() <= Cap);
        QVERIFY(socket.queuedMemory() >= socket.pendingBytes());
    }

    // A large payload written to many sockets is shared, not copied per
    // socket, and each of them still counts it against its own cap.
    std::vector<std::unique_ptr<FullPair>> pairs;
    std::vector<std::unique_ptr<StreamSocket>> sockets;
    for (int i = 0; i < 20; ++i) {
        pairs.push_back(std::make_unique<FullPair>());
        sockets.push_back(std::make_unique<StreamSocket>(pairs.back()->fds[0], &owner, &handler));
    }
    const QByteArray payload(256 * 1024, 'p');
    const size_t shared = heapInUse();
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
    for (auto &s : sockets) {
        QVERIFY(s->write(head, payload));
        QVERIFY(s->queuedMemory() >= payload.size());
    }
    const qint64 grown = qint64(heapInUse()) - qint64(shared);
    QVERIFY2(grown < payload.size() / 4, qPrintable(QString::number(grown)));
}

void tst_Trust::pingFloodHoldsOnePong()
{
    auto server = startServer();
    QVERIFY(server);
    StalledWsClient flooder;
    QVERIFY(flooder.open(server->wsPort(), "flood"));
    WAIT_VERIFY(server->registry()->isOnline("flood"));
    WsConnection *c = onlyConnection(server.get(), "flood");
    QVERIFY(c);

    // Pushes it does not read fill the kernel's buffers, so that the
    // server has to queue what it answers from now on.
    const QByteArray line = pushLine("flood", QByteArray(200 * 1024, 'f'));
    // With --threads a push counts as pending until its socket thread has
    // written it: wait for that before reading what the kernel left queued.
    const auto settled = [c] {
        qint64 before = -1;
        for (int i = 0; i < 100 && c->pendingBytes() != before; ++i) {
            before = c->pendingBytes();
            QTest::qWait(10);
        }
        return c->pendingBytes();
    };
    int pushes = 0;
    while (pushes < 64) {
        QCOMPARE(server->router()->push(line, PushSource::Console).status, PushStatus::Ok);
        ++pushes;
        if (settled() > 0)
            break;
    }
    QVERIFY(c->pendingBytes() > 0);
    const qint64 pending = c->pendingBytes();
    const qint64 memory = c->queuedMemory();

    constexpr int Pings = 100000;
    const quint64 bytesIn = c->bytesIn();
    QByteArray flood;
    for (int i = 0; i < Pings; ++i)
        flood += StalledWsClient::frame(WsFrame::Ping, QByteArray::number(i % 10));
    QVERIFY(flooder.sendAll(flood));
    WAIT_COMPARE_GE(c->bytesIn(), bytesIn + quint64(flood.size()), 20000);

    // One pong waits (the latest ping's payload), not one per ping.
    QVERIFY(server->registry()->isOnline("flood"));
    QVERIFY2(c->pendingBytes() == pending,
        qPrintable(QStringLiteral("%1 -> %2").arg(pending).arg(c->pendingBytes())));
    QVERIFY(c->queuedMemory() <= memory);

    // Reading at last: every push, then the one pong, for the last ping.
    QList<StalledWsClient::Frame> frames;
    int texts = 0;
    WAIT_UNTIL(
        [&] {
            for (const auto &f : flooder.readFrames()) {
                frames.append(f);
                texts += f.opcode == WsFrame::Text ? 1 : 0;
            }
            return !frames.isEmpty() && frames.back().opcode == WsFrame::Pong;
        },
        QByteArray::number(texts) + " texts, " + QByteArray::number(frames.size()) + " frames",
        20000);
    QCOMPARE(texts, pushes);
    QCOMPARE(frames.back().payload, QByteArray::number((Pings - 1) % 10));
    int pongs = 0;
    for (const auto &f : frames)
        pongs += f.opcode == WsFrame::Pong ? 1 : 0;
    QCOMPARE(pongs, 1);
}

void tst_Trust::slowConsumerContract()
{
    Config config = loopbackConfig();
    config.maxOutput = 512 * 1024;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    // Two connections of one uid: one reads, one never does.
    WsClient reader(server->wsPort());
    QVERIFY(reader.bind("pair", server.get()));
    StalledWsClient stalled;
    QVERIFY(stalled.open(server->wsPort(), "pair"));
    WAIT_UNTIL(
        [&] {
            const auto *list = server->registry()->connections("pair");
            return list && list->size() == 2;
        },
        QByteArray::number(server->registry()->connections("pair")
                ? server->registry()->connections("pair")->size()
                : 0)
            + " connections");

    TextClient backend(server->textPort());
    const QByteArray line = pushLine("pair", QByteArray(60000, 's'));
    const qint64 frameBytes = 4 + line.size(); // a 16-bit length header
    qint64 okBytes = 0;
    QByteArray reply;
    for (int i = 0; i < 200; ++i) {
        reply = backend.request(line);
        if (reply != "ok\n")
            break;
        okBytes += frameBytes;
    }
    // The reader had every one of them queued, the stalled one not the
    // last: that is no "ok".
    QCOMPARE(reply, QByteArray("fail\n"));
    QVERIFY(okBytes > config.maxOutput / 2);
    WAIT_UNTIL(
        [&] {
            const auto *list = server->registry()->connections("pair");
            return list && list->size() == 1;
        },
        QByteArray::number(server->registry()->connections("pair")
                ? server->registry()->connections("pair")->size()
                : 0)
            + " connections");

    // The drop was logged with what the stalled client never got: every
    // byte answered ok, less the few its own kernel took.
    Event dropped;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        if (e.type == Event::Type::Closed
            && e.englishDetail().startsWith(QLatin1String("slow consumer")))
            dropped = e;
    }
    QCOMPARE(dropped.uid, QByteArray("pair"));
    QCOMPARE(dropped.level, Event::Level::Warning);
    QVERIFY2(dropped.discarded <= okBytes && dropped.discarded >= okBytes - 64 * 1024,
        qPrintable(QStringLiteral("ok %1, discarded %2").arg(okBytes).arg(dropped.discarded)));
    QVERIFY(ConsoleLogger::format(dropped).contains(
        " discarded=" + QByteArray::number(dropped.discarded)));
    QCOMPARE(
        server->metrics().droppedBytes[int(DropReason::SlowConsumer)], quint64(dropped.discarded));

    // A condemned connection stays condemned: while it is still listed
    // (it goes once this call returns to the loop), later pushes to it are
    // no "ok" either.
    StalledWsClient solo;
    QVERIFY(solo.open(server->wsPort(), "solo"));
    WAIT_VERIFY(server->registry()->isOnline("solo"));
    const QByteArray soloLine = pushLine("solo", QByteArray(60000, 's'));
    PushResult r;
    int oks = 0;
    do {
        r = server->router()->push(soloLine, PushSource::Console);
        oks += r.status == PushStatus::Ok ? 1 : 0;
    } while (r.status == PushStatus::Ok && oks < 1000);
    QCOMPARE(r.status, PushStatus::Fail);
    QCOMPARE(r.dropped, 1);
    QVERIFY(server->registry()->isOnline("solo"));
    r = server->router()->push(soloLine, PushSource::Console);
    QCOMPARE(r.status, PushStatus::Fail);
    QCOMPARE(r.dropped, 1);
    QCOMPARE(r.delivered, 0);

    // And Prometheus has it.
    QTcpSocket http;
    http.connectToHost(QHostAddress::LocalHost, server->httpPort());
    QVERIFY(http.waitForConnected(5000));
    http.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray metrics;
    WAIT_UNTIL(
        [&] {
            metrics += http.readAll();
            return http.state() == QAbstractSocket::UnconnectedState
                || metrics.contains("pushconsole_dropped_bytes_total{reason=\"shutdown\"}");
        },
        metrics);
    QVERIFY2(metrics.contains("pushconsole_dropped_bytes_total{reason=\"slow_consumer\"} "
                 + QByteArray::number(server->metrics().droppedBytes[0]) + '\n'),
        metrics.constData());
}

void tst_Trust::eventStringsAreBounded()
{
    EventLog log(100);
    Event e;
    e.type = Event::Type::Rejected;
    e.detail = QString(5000, QChar(0xE9)); // é: two bytes each in UTF-8
    e.peer = QString(3000, QLatin1Char('p'));
    e.uid = QByteArray(3000, 'u');
    e.text = QByteArray(1023, 'x') + "\xE2\x82\xAC" + QByteArray(10000, 'y'); // a € across the cut
    log.append(e);
    const Event kept = log.snapshot().back();
    const QByteArray detail = kept.englishDetail().toUtf8();
    QVERIFY2(detail.size() <= Event::MaxString, qPrintable(QString::number(detail.size())));
    QVERIFY(detail.size() > Event::MaxString - 8);
    QVERIFY(kept.englishDetail().endsWith(QChar(0x2026)));
    QVERIFY(!kept.englishDetail().contains(QChar::ReplacementCharacter));
    QVERIFY(kept.peer.toUtf8().size() <= Event::MaxString);
    QVERIFY(kept.uid.size() <= Event::MaxString);
    QVERIFY(kept.uid.endsWith("\xE2\x80\xA6"));
    QCOMPARE(kept.text, QByteArray(1023, 'x')); // not half a €
    const QByteArray line = ConsoleLogger::format(kept);
    QVERIFY2(line.size() < 2000, qPrintable(QString::number(line.size())));
    QVERIFY(QString::fromUtf8(line).toUtf8() == line); // valid UTF-8 throughout

    // The documented bound, in heap bytes: a full log of the largest events
    // (nothing shared between them) takes at most 2.6 KiB an event.
    constexpr int Events = 2000;
    EventLog full(Events);
    const size_t before = heapInUse();
    for (int i = 0; i < Events; ++i) {
        Event big;
        big.type = Event::Type::Push;
        // ASCII is the worst case: the most UTF-16 units in 256 bytes.
        big.detail = QString(5000, QLatin1Char(char('a' + i % 26)));
        big.peer = QString(3000, QLatin1Char(char('a' + i % 26)));
        big.uid = QByteArray(3000, char('a' + i % 26));
        big.text = QByteArray(10000, char('a' + i % 26));
        full.append(std::move(big));
    }
    const qint64 perEvent = (qint64(heapInUse()) - qint64(before)) / Events;
    qInfo("%lld bytes of heap per event", perEvent);
    QVERIFY2(perEvent <= 2662, qPrintable(QString::number(perEvent)));
}

void tst_Trust::connectEventOfHugeHandshakeIsBounded()
{
    auto server = startServer();
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server->wsPort());
    QVERIFY(client.waitForConnected(5000));
    // Nearly 8 KiB of path and of X-Forwarded-For: the most a handshake takes.
    client.write("GET /" + QByteArray(3900, 'a')
        + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "X-Forwarded-For: "
        + QByteArray(3800, '1') + "\r\n\r\n");
    Event connected;
    WAIT_UNTIL(
        [&] {
            for (const auto &args : events) {
                const Event e = args.front().value<Event>();
                if (e.type == Event::Type::Connected)
                    connected = e;
            }
            return connected.connection != 0;
        },
        QByteArray::number(events.size()) + " events");
    const QByteArray detail = connected.englishDetail().toUtf8();
    // The path, cut to Event::MaxString with an ellipsis; an untrusted
    // source's X-Forwarded-For is not shown at all (see tst_proxy).
    QVERIFY2(detail.size() <= Event::MaxString + 3, qPrintable(QString::number(detail.size())));
    QVERIFY(detail.startsWith("/aaaa"));
    QVERIFY(detail.endsWith("…"));
    QVERIFY(!detail.contains("forwarded-for"));
    QCOMPARE(server->eventLog()->snapshot().back().englishDetail(), connected.englishDetail());
}

PUSHCONSOLE_TEST_MAIN(tst_Trust)
#include "tst_trust.moc"
