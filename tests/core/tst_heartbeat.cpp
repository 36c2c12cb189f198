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
    QVERIFY(waitFor([&] { return server->registry()->isOnline("dead"); }));

    QElapsedTimer timer;
    timer.start();
    QVERIFY(dead.waitForDisconnected(6000));
    const qint64 evictedAfter = timer.elapsed();
    QVERIFY2(evictedAfter >= 1000, qPrintable(QString::number(evictedAfter)));
    QVERIFY(!server->registry()->isOnline("dead"));
    QCOMPARE(server->metrics().evictedIdle, quint64(1));

    // Well past two heartbeats, the live client is still there and reachable.
    QTest::qWait(2500);
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
            sawReason = e.detail.startsWith(QLatin1String("heartbeat timeout"));
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
    // Binary frames, pongs and text after the bind all renew the deadline.
    const quint8 opcodes[] = {WsFrame::Binary, WsFrame::Pong, WsFrame::Text};
    for (int i = 0; i < 9; ++i) {
        QTest::qWait(350);
        chatty.sendFrame(opcodes[i % 3], "x");
    }
    QCOMPARE(chatty.socket().state(), QAbstractSocket::ConnectedState);
    QVERIFY(server->registry()->isOnline("chatty"));
    QVERIFY(chatty.waitForDisconnected(4000)); // and once it stops, it goes
}

void tst_Heartbeat::serverAnswersPings()
{
    auto server = startServer();
    QVERIFY(server);
    RawWsClient raw(server->wsPort());
    QVERIFY(raw.handshake());
    raw.sendFrame(WsFrame::Ping, "abc");
    QByteArray got;
    QVERIFY(waitFor([&] {
        got += raw.socket().readAll();
        return got.size() >= 5;
    }));
    QCOMPARE(got,
        QByteArray("\x8a\x03"
                   "abc"));
}

void tst_Heartbeat::largeSweepIsSplitAndContinued()
{
    // More connections fall due at once than one sweep handles: the rest
    // must follow right away, not a second later.
    Config config = loopbackConfig();
    config.bindTimeoutMs = 3000;
    config.maxUnbound = 100000;
    auto server = startServer(config);
    QVERIFY(server);
    constexpr int Count = Heartbeat::MaxPerSweep + 700;
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < Count; ++i) {
        sockets.push_back(std::make_unique<QTcpSocket>());
        sockets.back()->connectToHost(QHostAddress::LocalHost, server->wsPort());
    }
    QVERIFY(waitFor([&] { return server->gateway()->connectionCount() == Count; }, 20000));
    // Sweep by hand, with the periodic timer stopped: one sweep handles its
    // budget and no more; only the continuation can finish the job.
    Heartbeat &heartbeat = server->gateway()->heartbeat();
    heartbeat.stop();
    QTest::qWait(3500); // all of them due now
    heartbeat.tick(MonotonicClock::nowMs());
    QCOMPARE(server->gateway()->connectionCount(), Count - Heartbeat::MaxPerSweep);
    QVERIFY(waitFor([&] { return server->gateway()->connectionCount() == 0; }, 5000));
    QCOMPARE(server->metrics().bindTimeouts, quint64(Count));
}

PUSHCONSOLE_TEST_MAIN(tst_Heartbeat)
#include "tst_heartbeat.moc"
