#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "EventLog.h"
#include "WsGateway.h"

#include <QSignalSpy>

using namespace TestSupport;

class tst_Gateway : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bindAndPush();
    void numericUid();
    void offlineUidFails();
    void bindMessageIsTrimmed();
    void pipelinedLines();
    void pipelinedMixedRepliesKeepOrder();
    void severalConnectionsPerUid();
    void closingOneKeepsTheOthers();
    void perUidCapClosesOldest();
    void arrayOfUids();
    void broadcast();
    void exactLineIsForwarded();
    void invalidUidClosesWith1008_data();
    void invalidUidClosesWith1008();
    void bindTimeoutClosesUnboundClient();
    void kickDisconnects();
    void consolePushGoesThroughRouter();
    void countersFollowTraffic();
    void laterMessagesAreLoggedNotRebound();
};

void tst_Gateway::bindAndPush()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));
    QVERIFY(server->registry()->isOnline("1001"));

    TextClient backend(server->textPort());
    const QByteArray line = pushLine("1001", "lock closed");
    QCOMPARE(backend.request(line), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.front(), QString::fromUtf8(line));
}

void tst_Gateway::numericUid()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(R"({"uid":1001,"order":7})"), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.front(), QStringLiteral(R"({"uid":1001,"order":7})"));
    // A float that is not a whole number is no uid.
    QCOMPARE(backend.request(R"({"uid":1001.5})"), QByteArray("error: invalid uid\n"));
}

void tst_Gateway::offlineUidFails()
{
    auto server = startServer();
    QVERIFY(server);
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("nobody", "x")), QByteArray("fail\n"));
    QCOMPARE(backend.request(R"({"uid":42})"), QByteArray("fail\n"));
}

void tst_Gateway::bindMessageIsTrimmed()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("  42\r\n", server.get()));
    QVERIFY(server->registry()->isOnline("42"));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(R"({"uid":"42"})"), QByteArray("ok\n"));
}

void tst_Gateway::pipelinedLines()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("u1", server.get()));
    TextClient backend(server->textPort());

    QByteArray batch;
    for (int i = 0; i < 200; ++i)
        batch += "{\"uid\":\"u1\",\"seq\":" + QByteArray::number(i) + "}\n";
    backend.send(batch); // one write
    const QList<QByteArray> replies = backend.readLines(200);
    QCOMPARE(replies.size(), 200);
    for (const QByteArray &r : replies)
        QCOMPARE(r, QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(200));
    QVERIFY(probe(server->textPort(), client, "u1"));
    QCOMPARE(client.messages.size(), 201); // each once, then the probe
    for (int i = 0; i < 200; ++i)
        QCOMPARE(client.messages.at(i), QStringLiteral("{\"uid\":\"u1\",\"seq\":%1}").arg(i));
}

void tst_Gateway::pipelinedMixedRepliesKeepOrder()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("on", server.get()));
    TextClient backend(server->textPort());
    QByteArray batch;
    QList<QByteArray> expected;
    for (int i = 0; i < 90; ++i) {
        switch (i % 3) {
        case 0:
            batch += "{\"uid\":\"on\",\"i\":" + QByteArray::number(i) + "}\r\n";
            expected << "ok\n";
            break;
        case 1:
            batch += "{\"uid\":\"off\"}\n";
            expected << "fail\n";
            break;
        default:
            batch += "{\"nouid\":1}\n";
            expected << "error: missing uid\n";
        }
    }
    // Cut the batch at odd places so lines arrive split across reads: each
    // piece is read before the next is sent.
    for (qsizetype pos = 0; pos < batch.size(); pos += 37) {
        backend.send(batch.mid(pos, 37));
        QVERIFY(waitUntilReadByPeer(backend.socket()));
    }
    QCOMPARE(backend.readLines(90), expected);
    QVERIFY(client.waitForMessages(30));
}

void tst_Gateway::severalConnectionsPerUid()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort()), b(server->wsPort()), c(server->wsPort());
    QVERIFY(a.bind("shared", server.get()));
    QVERIFY(b.bind("shared", server.get()));
    QVERIFY(c.bind("shared", server.get()));
    QCOMPARE(server->registry()->uidCount(), 1);
    QCOMPARE(server->registry()->connectionCount(), 3);

    const PushResult result =
        server->router()->push(pushLine("shared", "hi"), PushSource::TextPort);
    QCOMPARE(result.status, PushStatus::Ok);
    QCOMPARE(result.delivered, 3);
    QVERIFY(a.waitForMessages(1));
    QVERIFY(b.waitForMessages(1));
    QVERIFY(c.waitForMessages(1));
}

void tst_Gateway::closingOneKeepsTheOthers()
{
    auto server = startServer();
    QVERIFY(server);
    auto older = std::make_unique<WsClient>(server->wsPort());
    WsClient newer(server->wsPort());
    QVERIFY(older->bind("7", server.get()));
    QVERIFY(newer.bind("7", server.get()));
    // The seed's bug: the older connection's close removed the newer's entry.
    older->socket.close();
    WAIT_COMPARE(server->registry()->connectionCount(), 1);
    QVERIFY(server->registry()->isOnline("7"));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("7", "still here")), QByteArray("ok\n"));
    QVERIFY(newer.waitForMessages(1));
    older.reset();
    newer.socket.close();
    WAIT_VERIFY(!server->registry()->isOnline("7"));
    QCOMPARE(backend.request(pushLine("7", "gone")), QByteArray("fail\n"));
}

void tst_Gateway::perUidCapClosesOldest()
{
    Config config = loopbackConfig();
    config.maxConnsPerUid = 2;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient first(server->wsPort()), second(server->wsPort()), third(server->wsPort());
    QVERIFY(first.bind("capped", server.get()));
    QVERIFY(second.bind("capped", server.get()));
    QVERIFY(third.waitConnected());
    third.socket.sendTextMessage(QStringLiteral("capped"));
    QVERIFY(first.waitForDisconnected());
    QCOMPARE(int(first.socket.closeCode()), 4001);
    QCOMPARE(server->registry()->connectionCount(), 2);
    const PushResult result = server->router()->push(pushLine("capped", "x"), PushSource::TextPort);
    QCOMPARE(result.delivered, 2);
    QVERIFY(second.waitForMessages(1));
    QVERIFY(third.waitForMessages(1));
}

void tst_Gateway::arrayOfUids()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort()), b(server->wsPort());
    QVERIFY(a.bind("a", server.get()));
    QVERIFY(b.bind("2", server.get()));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(R"({"uid":["a",2,"offline","a"],"m":1})"), QByteArray("ok\n"));
    QVERIFY(b.waitForMessages(1));
    QVERIFY(probe(server->textPort(), a, "a"));
    // Listed twice, delivered once.
    QCOMPARE(a.messages,
        QList<QString>(
            {QStringLiteral(R"({"uid":["a",2,"offline","a"],"m":1})"), probeMessage("a")}));
    QCOMPARE(backend.request(R"({"uid":["x","y"]})"), QByteArray("fail\n"));
    QCOMPARE(backend.request(R"({"uid":[]})"), QByteArray("error: empty uid list\n"));
    QCOMPARE(backend.request(R"({"uid":["a",null]})"), QByteArray("error: invalid uid\n"));
}

void tst_Gateway::broadcast()
{
    auto server = startServer();
    QVERIFY(server);
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(R"({"uid":"*"})"), QByteArray("fail\n"));
    WsClient a(server->wsPort()), b(server->wsPort()), unbound(server->wsPort());
    QVERIFY(a.bind("a", server.get()));
    QVERIFY(b.bind("b", server.get()));
    QVERIFY(unbound.waitConnected());
    QCOMPARE(backend.request(R"({"uid":"*","notice":"maintenance"})"), QByteArray("ok\n"));
    QVERIFY(a.waitForMessages(1));
    QVERIFY(b.waitForMessages(1));
    // Only bound connections get broadcasts: bound now, the probe is the
    // first frame the unbound one gets.
    QVERIFY(unbound.bind("late", server.get()));
    QVERIFY(probe(server->textPort(), unbound, "late"));
    QCOMPARE(unbound.messages, QList<QString> {probeMessage("late")});
}

void tst_Gateway::exactLineIsForwarded()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("u", server.get()));
    TextClient backend(server->textPort());
    // What PHP's json_encode writes (escaped slashes and \u escapes), odd
    // spacing and key order: all must reach the browser byte for byte.
    const QByteArray lines[] = {
        R"({"msg":"\u9501\u5df2\u5173\u95ed","url":"http:\/\/x\/y","uid":"u"})",
        R"(  { "uid" : "u" , "n" : [1, 2.50, {"x": null}], "t": "中文 é 🚲" }  )",
        R"({"uid":"u","big":")" + QByteArray(70000, '7') + "\"}",
    };
    for (const QByteArray &line : lines)
        QCOMPARE(backend.request(line), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(3));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(client.messages.at(i).toUtf8(), lines[i]);
}

void tst_Gateway::invalidUidClosesWith1008_data()
{
    QTest::addColumn<QString>("message");
    QTest::newRow("space inside") << QStringLiteral("12 abc");
    QTest::newRow("empty") << QString();
    QTest::newRow("blank") << QStringLiteral("   ");
    QTest::newRow("too long") << QString(65, QLatin1Char('1'));
    QTest::newRow("json") << QStringLiteral("{\"uid\":1}");
    QTest::newRow("non-ascii") << QStringLiteral("用户");
}

void tst_Gateway::invalidUidClosesWith1008()
{
    QFETCH(QString, message);
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.waitConnected());
    client.socket.sendTextMessage(message);
    QVERIFY(client.waitForDisconnected());
    QCOMPARE(int(client.socket.closeCode()), 1008);
    QCOMPARE(client.socket.closeReason(), QStringLiteral("invalid uid"));
    QCOMPARE(server->registry()->uidCount(), 0);
    QCOMPARE(server->metrics().rejected, quint64(1));
}

void tst_Gateway::bindTimeoutClosesUnboundClient()
{
    Config config = loopbackConfig();
    config.bindTimeoutMs = 1000;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient idle(server->wsPort()), bound(server->wsPort());
    QVERIFY(idle.waitConnected());
    QVERIFY(bound.bind("b", server.get()));
    QVERIFY(idle.waitForDisconnected(4000));
    QCOMPARE(int(idle.socket.closeCode()), 1008);
    QCOMPARE(idle.socket.closeReason(), QStringLiteral("bind timeout"));
    // The bound one, connected at the same moment, is still served.
    QVERIFY(probe(server->textPort(), bound, "b"));
    QVERIFY(!bound.disconnected);
    QCOMPARE(server->metrics().bindTimeouts, quint64(1));
}

void tst_Gateway::kickDisconnects()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort()), b(server->wsPort());
    QVERIFY(a.bind("k", server.get()));
    QVERIFY(b.bind("k", server.get()));
    QCOMPARE(server->kick("k"), 2);
    QVERIFY(a.waitForDisconnected());
    QVERIFY(b.waitForDisconnected());
    QCOMPARE(a.socket.closeReason(), QStringLiteral("disconnected by operator"));
    QVERIFY(!server->registry()->isOnline("k"));
    QCOMPARE(server->kick("k"), 0);
}

void tst_Gateway::consolePushGoesThroughRouter()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("op", server.get()));
    QSignalSpy spy(server->eventLog(), &EventLog::eventAdded);
    const PushResult r = server->router()->push(
        R"({"uid":"op","by":"hand"})", PushSource::Console, QStringLiteral("console"));
    QCOMPARE(r.status, PushStatus::Ok);
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(spy.size(), 1);
    const Event e = spy.front().front().value<Event>();
    QCOMPARE(e.type, Event::Type::Push);
    QCOMPARE(e.source, PushSource::Console);
    QCOMPARE(e.status, PushStatus::Ok);
    QCOMPARE(e.uid, QByteArray("op"));
    QCOMPARE(server->metrics().pushes[int(PushSource::Console)][int(PushStatus::Ok)], quint64(1));
}

void tst_Gateway::countersFollowTraffic()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("m", server.get()));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("m", "1")), QByteArray("ok\n"));
    QCOMPARE(backend.request(pushLine("nobody", "1")), QByteArray("fail\n"));
    QCOMPARE(backend.request("{"), QByteArray("error: invalid JSON at offset 1: unexpected end\n"));
    const Metrics &m = server->metrics();
    QCOMPARE(m.pushesWith(PushStatus::Ok), quint64(1));
    QCOMPARE(m.pushesWith(PushStatus::Fail), quint64(1));
    QCOMPARE(m.pushesWith(PushStatus::Error), quint64(1));
    QCOMPARE(m.messagesOut, quint64(1));
    QCOMPARE(m.messagesIn, quint64(1)); // the bind message
    QCOMPARE(m.connectionsOpen, quint64(1));
    QCOMPARE(m.bytesOut, quint64(pushLine("m", "1").size() + 2));
}

void tst_Gateway::laterMessagesAreLoggedNotRebound()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("first", server.get()));
    QSignalSpy spy(server->eventLog(), &EventLog::eventAdded);
    client.socket.sendTextMessage(QStringLiteral("second"));
    QVERIFY(spy.wait());
    const Event e = spy.front().front().value<Event>();
    QCOMPARE(e.type, Event::Type::MessageIn);
    QCOMPARE(e.uid, QByteArray("first"));
    QCOMPARE(e.text, QByteArray("second"));
    QVERIFY(server->registry()->isOnline("first"));
    QVERIFY(!server->registry()->isOnline("second"));
}

PUSHCONSOLE_TEST_MAIN(tst_Gateway)
#include "tst_gateway.moc"
