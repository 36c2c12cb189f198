#include "RawWsClient.h"
#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "TextPushServer.h"
#include "WsFrame.h"

#include <QRandomGenerator>

using namespace TestSupport;

// Every kind of bad input gets its answer, and the server then still serves
// a normal push.
class tst_BadInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void textPortErrorsKeepConnection_data();
    void textPortErrorsKeepConnection();
    void overLongLineClosesConnection();
    void overLongPartialLineClosesConnection();
    void lineAtLimitIsAccepted();
    void peerVanishesMidLine();
    void httpWithoutUpgrade();
    void randomBytesOnWebSocketPort();
    void oversizeWebSocketMessage();
    void oversizeFragmentedMessage();
    void protocolViolations_data();
    void protocolViolations();
    void halfHandshakeTimesOut();
    void binaryBeforeBindIsIgnored();
    void slowReaderIsDropped();

private:
    void assertStillServes();
    std::unique_ptr<PushServer> m_server;
};

void tst_BadInput::init()
{
    Config config = loopbackConfig();
    config.maxLine = 4096;
    config.maxMessage = 64 * 1024;
    config.maxFrame = 32 * 1024;
    config.bindTimeoutMs = 1500;
    config.maxOutput = 256 * 1024;
    m_server = startServer(config);
    QVERIFY(m_server);
}

void tst_BadInput::cleanup()
{
    m_server.reset();
}

void tst_BadInput::assertStillServes()
{
    WsClient client(m_server->wsPort());
    QVERIFY(client.bind("survivor", m_server.get()));
    TextClient backend(m_server->textPort());
    QCOMPARE(backend.request(pushLine("survivor", "fine")), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(1));
}

void tst_BadInput::textPortErrorsKeepConnection_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QByteArray>("reply");
    QTest::newRow("invalid JSON") << QByteArray(
        "{\"uid\":") << QByteArray("error: invalid JSON at offset 7: unexpected end\n");
    QTest::newRow("no uid") << QByteArray("{\"msg\":1}") << QByteArray("error: missing uid\n");
    QTest::newRow("empty line") << QByteArray() << QByteArray("error: empty line\n");
    QTest::newRow("bare CR") << QByteArray("\r") << QByteArray("error: empty line\n");
    QTest::newRow("not UTF-8") << QByteArray("{\"uid\":\"a\",\"m\":\"\xfe\xff\"}")
                               << QByteArray("error: not UTF-8\n");
    QTest::newRow("NUL byte") << QByteArray("{\"uid\":\"a\"}\0",
        12) << QByteArray("error: invalid JSON at offset 11: garbage after the value\n");
    QTest::newRow("not an object")
        << QByteArray("[\"uid\"]") << QByteArray("error: not a JSON object\n");
    QTest::newRow("bad uid") << QByteArray("{\"uid\":\"a b\"}")
                             << QByteArray("error: invalid uid\n");
    QTest::newRow("telnet noise") << QByteArray("\xff\xfb\x01") << QByteArray("error: not UTF-8\n");
}

void tst_BadInput::textPortErrorsKeepConnection()
{
    QFETCH(QByteArray, line);
    QFETCH(QByteArray, reply);
    WsClient client(m_server->wsPort());
    QVERIFY(client.bind("a", m_server.get()));
    TextClient backend(m_server->textPort());
    QCOMPARE(backend.request(line), reply);
    // Same connection, next request: still served.
    QCOMPARE(backend.request("{\"uid\":\"a\"}"), QByteArray("ok\n"));
    // It arrived, and nothing came before it: the bad line pushed nothing.
    WAIT_VERIFY2(client.messages.contains(QStringLiteral("{\"uid\":\"a\"}")), client.messages);
    QCOMPARE(client.messages, QList<QString> {QStringLiteral("{\"uid\":\"a\"}")});
}

void tst_BadInput::overLongLineClosesConnection()
{
    TextClient backend(m_server->textPort());
    backend.send("{\"uid\":\"a\",\"x\":\"" + QByteArray(5000, 'x') + "\"}\n{\"uid\":\"a\"}\n");
    QCOMPARE(backend.readLines(1), QList<QByteArray> {"error: line too long\n"});
    QVERIFY(backend.waitForDisconnected());
    QCOMPARE(backend.socket().readAll(), QByteArray()); // the second line got no answer
    assertStillServes();
}

void tst_BadInput::overLongPartialLineClosesConnection()
{
    // No newline ever comes: the server must not buffer without end.
    TextClient backend(m_server->textPort());
    for (int i = 0; i < 10; ++i)
        backend.send(QByteArray(1000, 'y'));
    QCOMPARE(backend.readLines(1), QList<QByteArray> {"error: line too long\n"});
    QVERIFY(backend.waitForDisconnected());
    assertStillServes();
}

void tst_BadInput::lineAtLimitIsAccepted()
{
    QByteArray line = "{\"uid\":\"a\",\"x\":\"";
    line += QByteArray(4096 - line.size() - 2, 'z') + "\"}";
    QCOMPARE(line.size(), 4096);
    TextClient backend(m_server->textPort());
    QCOMPARE(backend.request(line), QByteArray("fail\n"));
}

void tst_BadInput::peerVanishesMidLine()
{
    {
        TextClient backend(m_server->textPort());
        backend.send("{\"uid\":\"a\",\"x\"");
        QVERIFY(waitUntilReadByPeer(backend.socket())); // half a line read
        backend.socket().abort();
    }
    // The server saw it go, and goes on.
    WAIT_COMPARE(m_server->textServer()->connectionCount(), 0);
    assertStillServes();
}

void tst_BadInput::httpWithoutUpgrade()
{
    RawWsClient raw(m_server->wsPort());
    raw.sendRaw("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QByteArray response;
    WAIT_UNTIL(
        [&] {
            response += raw.socket().readAll();
            return raw.socket().state() == QAbstractSocket::UnconnectedState
                || response.contains("\r\n\r\n");
        },
        response);
    QVERIFY2(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response.constData());
    QVERIFY(raw.waitForDisconnected());
    assertStillServes();
}

void tst_BadInput::randomBytesOnWebSocketPort()
{
    RawWsClient raw(m_server->wsPort());
    QByteArray junk(2048, '\0');
    QRandomGenerator rng(42);
    for (char &c : junk)
        c = char(rng.bounded(256));
    junk[0] = '\x16'; // starts like a TLS hello, a common mistake (wss:// to ws://)
    raw.sendRaw(junk);
    QByteArray response;
    WAIT_UNTIL(
        [&] {
            response += raw.socket().readAll();
            return raw.socket().state() == QAbstractSocket::UnconnectedState;
        },
        response);
    response += raw.socket().readAll();
    QVERIFY2(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response.constData());
    assertStillServes();
}

void tst_BadInput::oversizeWebSocketMessage()
{
    WsClient client(m_server->wsPort());
    QVERIFY(client.bind("big", m_server.get()));
    client.socket.sendTextMessage(QString(40 * 1024, QLatin1Char('b'))); // one frame over max-frame
    QVERIFY(client.waitForDisconnected());
    QCOMPARE(int(client.socket.closeCode()), 1009);
    assertStillServes();
}

void tst_BadInput::oversizeFragmentedMessage()
{
    RawWsClient raw(m_server->wsPort());
    QVERIFY(raw.handshake());
    raw.sendFrame(WsFrame::Text, "frag");
    // Frames under max-frame whose sum passes max-message.
    const QByteArray piece(30 * 1024, 'f');
    raw.sendFrame(WsFrame::Text, piece, false);
    raw.sendFrame(WsFrame::Continuation, piece, false);
    raw.sendFrame(WsFrame::Continuation, piece, false);
    QByteArray got;
    WAIT_UNTIL(
        [&] {
            got += raw.socket().readAll();
            return got.size() >= 4;
        },
        got);
    QCOMPARE(got.left(4), QByteArray("\x88\x13\x03\xf1")); // close, 1009
    assertStillServes();
}

void tst_BadInput::protocolViolations_data()
{
    QTest::addColumn<QByteArray>("frames");
    QTest::addColumn<int>("closeCode");
    QTest::newRow("unmasked frame") << RawWsClient::frame(WsFrame::Text, "x", true, false) << 1002;
    QTest::newRow("unknown opcode") << RawWsClient::frame(0x3, "x") << 1002;
    QTest::newRow("invalid UTF-8") << RawWsClient::frame(WsFrame::Text, "\xc3\x28") << 1007;
    QTest::newRow("stray continuation") << RawWsClient::frame(WsFrame::Continuation, "x") << 1002;
    QTest::newRow("fragmented ping") << RawWsClient::frame(WsFrame::Ping, "x", false) << 1002;
    QTest::newRow("interleaved message")
        << (RawWsClient::frame(WsFrame::Text, "a", false) + RawWsClient::frame(WsFrame::Text, "b"))
        << 1002;
    QTest::newRow("bad close code")
        << RawWsClient::frame(WsFrame::Close, QByteArray("\x03\xed", 2)) << 1002;
}

void tst_BadInput::protocolViolations()
{
    QFETCH(QByteArray, frames);
    QFETCH(int, closeCode);
    RawWsClient raw(m_server->wsPort());
    QVERIFY(raw.handshake());
    raw.sendRaw(frames);
    QByteArray got;
    WAIT_UNTIL(
        [&] {
            got += raw.socket().readAll();
            return got.size() >= 4;
        },
        got);
    QCOMPARE(quint8(got[0]), quint8(0x88));
    QCOMPARE((quint8(got[2]) << 8) | quint8(got[3]), closeCode);
    QVERIFY(raw.waitForDisconnected());
    assertStillServes();
}

void tst_BadInput::halfHandshakeTimesOut()
{
    RawWsClient raw(m_server->wsPort());
    raw.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n"); // and nothing more
    QVERIFY(raw.waitForDisconnected(5000));
    QCOMPARE(m_server->metrics().bindTimeouts, quint64(1));
    assertStillServes();
}

void tst_BadInput::binaryBeforeBindIsIgnored()
{
    RawWsClient raw(m_server->wsPort());
    QVERIFY(raw.handshake());
    raw.sendFrame(WsFrame::Binary, "\x01\x02\x03");
    raw.sendFrame(WsFrame::Text, "bin");
    WAIT_VERIFY(m_server->registry()->isOnline("bin"));
}

void tst_BadInput::slowReaderIsDropped()
{
    // Binds and never reads: its unsent output grows until the cap drops it,
    // and a push after that answers "fail".
    RawWsClient slow(m_server->wsPort());
    QVERIFY(slow.handshake());
    slow.sendFrame(WsFrame::Text, "slow");
    WAIT_VERIFY(m_server->registry()->isOnline("slow"));
    slow.socket().setReadBufferSize(1); // stop QTcpSocket from draining the kernel buffer
    const QByteArray line = "{\"uid\":\"slow\",\"x\":\"" + QByteArray(60000, 'p') + "\"}";
    int ok = 0;
    PushResult last;
    for (int i = 0; i < 400; ++i) {
        last = m_server->router()->push(line, PushSource::TextPort);
        if (last.status != PushStatus::Ok)
            break;
        ++ok;
    }
    QCOMPARE(last.status, PushStatus::Fail);
    QVERIFY2(ok > 2, qPrintable(QString::number(ok)));
    WAIT_VERIFY(!m_server->registry()->isOnline("slow"));
    assertStillServes();
}

PUSHCONSOLE_TEST_MAIN(tst_BadInput)
#include "tst_badinput.moc"
