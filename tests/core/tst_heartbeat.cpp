#include "RawWsClient.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "EventLog.h"
#include "Heartbeat.h"
#include "MonotonicClock.h"
#include "WsFrame.h"
#include "WsGateway.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpSocket>

using namespace TestSupport;

namespace {
// The heartbeat sweeps once a second (Heartbeat's timer).
constexpr qint64 HeartbeatSweepMs = 1000;
// MonotonicClock's coarse clock may read this much behind a precise one.
constexpr qint64 CoarseClockMs = 10;
} // namespace

class tst_Heartbeat : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deadClientIsEvictedLiveOneStays();
    void withoutPingsSilentClientIsEvicted();
    void anyFrameCountsAsActivity();
    void serverAnswersPings();
    void largeSweepIsSplitAndContinued();
};

void tst_Heartbeat::deadClientIsEvictedLiveOneStays()
{
    Config config = loopbackConfig();
    config.heartbeatMs = 2000;
    config.pingIntervalMs = 500;
    auto server = startServer(config);
    QVERIFY(server);

    // Binds, then never reads or answers the server's pings: a dead peer.
    RawWsClient dead(server->wsPort());
    QVERIFY(dead.handshake());
    dead.sendFrame(WsFrame::Text, "dead");
    // A real client: QWebSocket answers pings by itself and sends nothing else.
    WsClient live(server->wsPort());
    QVERIFY(live.bind("live", server.get()));
    QElapsedTimer sinceLiveSpoke;
    sinceLiveSpoke.start();
    WAIT_VERIFY(server->registry()->isOnline("dead"));

    QElapsedTimer timer;
    timer.start();
    QVERIFY(dead.waitForDisconnected(6000));
    const qint64 evictedAfter = timer.elapsed();
    QVERIFY2(evictedAfter >= 1000, qPrintable(QString::number(evictedAfter)));
    QVERIFY(!server->registry()->isOnline("dead"));
    QCOMPARE(server->metrics().evictedIdle, quint64(1));

    // Time itself is the point here: the live client's own last frame (its
    // bind) grows older than the heartbeat timeout plus a sweep and a
    // margin, and only its pongs keep it. It must still be there.
    const qint64 pastTimeout = config.heartbeatMs + HeartbeatSweepMs + 500;
    QTest::qWait(int(qMax<qint64>(0, pastTimeout - sinceLiveSpoke.elapsed())));
    QVERIFY(!live.disconnected);
    QVERIFY(server->registry()->isOnline("live"));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("live", "still")), QByteArray("ok\n"));
    QVERIFY(live.waitForMessages(1));
    QCOMPARE(server->metrics().evictedIdle, quint64(1));
}

void tst_Heartbeat::withoutPingsSilentClientIsEvicted()
{
    // --ping-interval 0 is the seed's behaviour: silence is death.
    Config config = loopbackConfig();
    config.heartbeatMs = 1000;
    config.pingIntervalMs = 0;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("quiet", server.get()));
    QVERIFY(client.waitForDisconnected(5000));
    bool sawReason = false;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        if (e.type == Event::Type::Closed && e.uid == "quiet")
            sawReason = e.englishDetail().startsWith(QLatin1String("heartbeat timeout"));
    }
    QVERIFY(sawReason);
}

void tst_Heartbeat::anyFrameCountsAsActivity()
{
    Config config = loopbackConfig();
    config.heartbeatMs = 1000;
    config.pingIntervalMs = 0;
    auto server = startServer(config);
    QVERIFY(server);
    RawWsClient chatty(server->wsPort());
    QVERIFY(chatty.handshake());
    chatty.sendFrame(WsFrame::Text, "chatty");
    // Binary frames, pongs and text after the bind all renew the deadline:
    // one every third of the timeout, for three timeouts. Time passing is
    // the point, so this waits for it.
    const quint8 opcodes[] = {WsFrame::Binary, WsFrame::Pong, WsFrame::Text};
    const int gapMs = int(config.heartbeatMs / 3);
    QElapsedTimer sinceLast;
    for (int i = 0; i < 9; ++i) {
        QTest::qWait(gapMs);
        chatty.sendFrame(opcodes[i % 3], "x");
        sinceLast.start();
    }
    QCOMPARE(chatty.socket().state(), QAbstractSocket::ConnectedState);
    QVERIFY(server->registry()->isOnline("chatty"));
    // Every frame was read (text and binary ones are counted; the pongs
    // came between them).
    WAIT_COMPARE(server->metrics().messagesIn, quint64(1 + 6));
    // Once it stops, it goes: a full timeout after its last frame, not before.
    QVERIFY(chatty.waitForDisconnected(int(config.heartbeatMs + HeartbeatSweepMs + 3000)));
    QVERIFY2(sinceLast.elapsed() >= config.heartbeatMs - CoarseClockMs,
        qPrintable(QString::number(sinceLast.elapsed())));
}

void tst_Heartbeat::serverAnswersPings()
{
    auto server = startServer();
    QVERIFY(server);
    RawWsClient raw(server->wsPort());
    QVERIFY(raw.handshake());
    raw.sendFrame(WsFrame::Ping, "abc");
    QByteArray got;
    WAIT_UNTIL(
        [&] {
            got += raw.socket().readAll();
            return got.size() >= 5;
        },
        got);
    QCOMPARE(got,
        QByteArray("\x8a\x03"
                   "abc"));
}

void tst_Heartbeat::largeSweepIsSplitAndContinued()
{
    // More connections fall due at once than one sweep handles: the rest
    // must follow right away, not a second later.
    Config config = loopbackConfig();
    config.bindTimeoutMs = 500;
    config.maxUnbound = 100000;
    auto server = startServer(config);
    QVERIFY(server);
    constexpr int Count = Heartbeat::MaxPerSweep + 700;
    // Swept by hand only, with the periodic timer stopped: one sweep handles
    // its budget and no more; only the continuation can finish the job.
    Heartbeat &heartbeat = server->gateway()->heartbeat();
    heartbeat.stop();
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < Count; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, server->wsPort());
    }
    WAIT_COMPARE(server->gateway()->connectionCount(), Count, 20000);
    // Every one was accepted before now, so all are due once the bind
    // timeout has passed from now on the heartbeat's own clock (the
    // continuation reads that clock too, so it cannot be faked).
    const qint64 allAccepted = MonotonicClock::nowMs();
    WAIT_VERIFY(MonotonicClock::nowMs() - allAccepted > config.bindTimeoutMs,
        int(config.bindTimeoutMs) + 2000);
    heartbeat.tick(MonotonicClock::nowMs());
    QCOMPARE(server->gateway()->connectionCount(), Count - Heartbeat::MaxPerSweep);
    WAIT_COMPARE(server->gateway()->connectionCount(), 0);
    QCOMPARE(server->metrics().bindTimeouts, quint64(Count));
}

PUSHCONSOLE_TEST_MAIN(tst_Heartbeat)
#include "tst_heartbeat.moc"
