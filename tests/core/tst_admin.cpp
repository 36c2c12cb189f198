#include "AdminEventJson.h"
#include "AdminHub.h"
#include "StalledWsClient.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

using namespace TestSupport;
using namespace Qt::StringLiterals;

namespace {

constexpr char Protocol[] = "pushconsole.admin.v1";

// An attached console as the console's remote source opens it: a real
// QWebSocket naming the protocol, with the key when there is one.
class AdminClient final
{
public:
    AdminClient(quint16 port, const QByteArray &key = QByteArray(),
        const QStringList &protocols = {QString::fromLatin1(Protocol)})
    {
        QObject::connect(
            &socket, &QWebSocket::textMessageReceived, &socket, [this](const QString &text) {
                const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
                messages.append(o);
                if (o.value(u"t").toString() == u"ready")
                    ready = true;
            });
        QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] { closed = true; });
        QObject::connect(&socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error),
            &socket, [this](QAbstractSocket::SocketError) { failed = true; });
        QNetworkRequest request(QUrl(QStringLiteral("ws://127.0.0.1:%1/api/events").arg(port)));
        if (!key.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + key);
        QWebSocketHandshakeOptions options;
        options.setSubprotocols(protocols);
        socket.open(request, options);
    }

    // The types of the messages received, in order.
    QStringList types() const
    {
        QStringList out;
        for (const QJsonObject &o : messages)
            out.append(o.value(u"t").toString());
        return out;
    }
    QList<QJsonObject> ofType(const QString &t) const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &o : messages) {
            if (o.value(u"t").toString() == t)
                out.append(o);
        }
        return out;
    }
    // Every event received (snapshot and live), oldest first.
    QList<QJsonObject> events() const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &m : ofType(QStringLiteral("events"))) {
            for (const QJsonValue &e : m.value(u"events").toArray())
                out.append(e.toObject());
        }
        return out;
    }
    // The latest presence of uid, or an empty object.
    QJsonObject presenceOf(const QString &uid) const
    {
        QJsonObject last;
        for (const QJsonObject &m : ofType(QStringLiteral("presence"))) {
            for (const QJsonValue &v : m.value(u"uids").toArray()) {
                if (v.toObject().value(u"uid").toString() == uid)
                    last = v.toObject();
            }
        }
        return last;
    }

    QWebSocket socket;
    QList<QJsonObject> messages;
    bool ready = false;
    bool closed = false;
    bool failed = false; // refused, or the connection failed
};

// One request on a fresh connection; the whole answer (head and body).
QByteArray rawRequest(quint16 port, const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!waitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }))
        return {};
    socket.write(request);
    QByteArray in;
    waitFor([&] {
        in += socket.readAll();
        const qsizetype end = in.indexOf("\r\n\r\n");
        if (end < 0)
            return socket.state() != QAbstractSocket::ConnectedState;
        if (in.startsWith("HTTP/1.1 101"))
            return true;
        const qsizetype at = in.toLower().indexOf("content-length:");
        const qsizetype length =
            at < 0 ? 0 : in.mid(at + 15, in.indexOf("\r\n", at) - at - 15).trimmed().toLongLong();
        return in.size() >= end + 4 + length;
    });
    return in;
}

QByteArray upgradeRequest(const QByteArray &extra)
{
    return "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        + extra + "\r\n";
}

int statusOf(const QByteArray &answer)
{
    return answer.mid(9, 3).toInt();
}

QByteArray bodyOf(const QByteArray &answer)
{
    return answer.mid(answer.indexOf("\r\n\r\n") + 4);
}

} // namespace

// The admin stream (docs/admin-stream.md) against an in-process gateway on
// loopback, with real QWebSocket clients as consoles and as bound clients.
class tst_Admin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handshakeRules_data();
    void handshakeRules();
    void apiKey();
    void maxStreams();
    void snapshotInOrder();
    void liveEventsPresenceCounters();
    void floodIsSkippedAndBounded();
    void rateCap();
    void dataFrameCloses1003();
    void closedOnShutdown();
    void eventJson();
};

void tst_Admin::handshakeRules_data()
{
    QTest::addColumn<QByteArray>("extra");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    const QByteArray key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const QByteArray protocol = "Sec-WebSocket-Protocol: pushconsole.admin.v1\r\n";
    QTest::newRow("no subprotocol")
        << key << 400
        << QByteArray(
               R"({"error":"unsupported admin protocol","supported":["pushconsole.admin.v1"]})");
    QTest::newRow("other subprotocol")
        << key + "Sec-WebSocket-Protocol: pushconsole.admin.v2, chat\r\n"
        << 400
        << QByteArray(
               R"({"error":"unsupported admin protocol","supported":["pushconsole.admin.v1"]})");
    QTest::newRow("bad websocket key") << "Sec-WebSocket-Key: short\r\n" + protocol << 400
                                       << QByteArray(R"({"error":"invalid Sec-WebSocket-Key"})");
    QTest::newRow("foreign origin")
        << key + protocol + "Origin: https://evil.example\r\n"
        << 403 << QByteArray(R"({"error":"cross-origin request refused"})");
    QTest::newRow("offered among others")
        << key + "Sec-WebSocket-Protocol: chat, pushconsole.admin.v1\r\n"
        << 101 << QByteArray();
}

void tst_Admin::handshakeRules()
{
    QFETCH(QByteArray, extra);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    auto server = startServer();
    QVERIFY(server);
    const QByteArray answer = rawRequest(server->httpPort(), upgradeRequest(extra));
    QCOMPARE(statusOf(answer), status);
    if (status == 101) {
        QVERIFY2(answer.contains("Sec-WebSocket-Protocol: pushconsole.admin.v1\r\n"), answer);
        QVERIFY2(answer.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), answer);
    } else {
        QCOMPARE(bodyOf(answer), body);
    }
    // A plain GET is told to upgrade.
    const QByteArray plain =
        rawRequest(server->httpPort(), "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(statusOf(plain), 426);
}

void tst_Admin::apiKey()
{
    QTemporaryFile keyFile;
    QVERIFY(keyFile.open());
    keyFile.write("s3cret-key\n");
    keyFile.flush();
    Config config = loopbackConfig();
    config.httpApiKeyFile = keyFile.fileName();
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray handshake = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Protocol: pushconsole.admin.v1\r\n";
    QCOMPARE(statusOf(rawRequest(server->httpPort(), upgradeRequest(handshake))), 401);
    QCOMPARE(statusOf(rawRequest(server->httpPort(),
                 upgradeRequest(handshake + "Authorization: Bearer wrong\r\n"))),
        401);
    AdminClient wrong(server->httpPort(), "wrong");
    WAIT_VERIFY(wrong.failed || wrong.closed);
    QVERIFY(!wrong.ready);
    AdminClient right(server->httpPort(), "s3cret-key");
    WAIT_VERIFY(right.ready);
}

void tst_Admin::maxStreams()
{
    Config config = loopbackConfig();
    config.maxAdminStreams = 1;
    auto server = startServer(config);
    QVERIFY(server);
    AdminClient first(server->httpPort());
    WAIT_VERIFY(first.ready);
    QCOMPARE(server->metrics().adminStreamsOpen, 1u);
    const QByteArray answer = rawRequest(server->httpPort(),
        upgradeRequest("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Protocol: pushconsole.admin.v1\r\n"));
    QCOMPARE(statusOf(answer), 503);
    QVERIFY2(bodyOf(answer).contains("too many admin streams"), answer);
    // The place is free again once the first goes.
    first.socket.close();
    WAIT_COMPARE(server->adminHub()->streamCount(), 0);
    AdminClient second(server->httpPort());
    WAIT_VERIFY(second.ready);
}

void tst_Admin::snapshotInOrder()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a1(server->wsPort()), a2(server->wsPort()), b(server->wsPort());
    QVERIFY(a1.bind("1001", server.get()));
    QVERIFY(a2.bind("1001", server.get()));
    QVERIFY(b.bind("2002", server.get()));
    WAIT_COMPARE(server->registry()->connectionCount(), 3);

    AdminClient console(server->httpPort());
    WAIT_VERIFY(console.ready);
    QCOMPARE(console.socket.subprotocol(), QString::fromLatin1(Protocol));
    const QStringList types = console.types();
    QCOMPARE(types.mid(0, 5),
        QStringList({u"hello"_s, u"presence"_s, u"events"_s, u"counters"_s, u"ready"_s}));

    const QJsonObject hello = console.messages[0];
    QCOMPARE(hello.value(u"protocol").toInt(), 1);
    QCOMPARE(hello.value(u"version").toString(), QStringLiteral(PUSHCONSOLE_VERSION));
    QVERIFY(hello.value(u"listening").toBool());
    QCOMPARE(hello.value(u"listeners").toObject().value(u"ws").toString(), server->wsAddress());
    QCOMPARE(hello.value(u"listeners").toObject().value(u"http").toString(), server->httpAddress());
    QCOMPARE(hello.value(u"cluster").toObject(), QJsonObject({{u"enabled"_s, false}}));
    QCOMPARE(hello.value(u"offline").toObject(), QJsonObject({{u"enabled"_s, false}}));
    QCOMPARE(hello.value(u"eventCapacity").toInt(), server->eventLog()->capacity());
    QVERIFY(!hello.value(u"node").toString().isEmpty());

    const QJsonObject presence = console.messages[1];
    QVERIFY(presence.value(u"reset").toBool());
    const QJsonArray uids = presence.value(u"uids").toArray();
    QCOMPARE(uids.size(), 2);
    const QJsonObject u1001 = console.presenceOf(u"1001"_s);
    QCOMPARE(u1001.value(u"connections").toInt(), 2);
    QCOMPARE(u1001.value(u"peers").toArray().size(), 2);
    QVERIFY(u1001.value(u"peers").toArray()[0].toString().startsWith(u"127.0.0.1:"));
    QCOMPARE(u1001.value(u"messagesIn").toInt(), 2); // the two binding messages
    QVERIFY(u1001.value(u"connectedAt").toString().endsWith(u'Z'));
    QVERIFY(!u1001.contains(u"otherNodes"));
    QCOMPARE(console.presenceOf(u"2002"_s).value(u"connections").toInt(), 1);

    // The recent events hold the binds, oldest first.
    QStringList bound;
    for (const QJsonObject &e : console.events()) {
        if (e.value(u"type").toString() == u"bind")
            bound.append(e.value(u"uid").toString());
    }
    QCOMPARE(bound, QStringList({u"1001"_s, u"1001"_s, u"2002"_s}));

    const QJsonObject counters = console.messages[3];
    QCOMPARE(counters.value(u"uids").toInt(), 2);
    QCOMPARE(counters.value(u"connections").toInt(), 3);
    QVERIFY(counters.value(u"pushes").toObject().contains(u"ok"));
}

void tst_Admin::liveEventsPresenceCounters()
{
    auto server = startServer();
    QVERIFY(server);
    // A headless gateway keeps info and above only; an attached console
    // still sees every push.
    server->eventLog()->setCaptureLevel(Event::Level::Info);
    WsClient a(server->wsPort());
    QVERIFY(a.bind("1001", server.get()));
    AdminClient console(server->httpPort());
    WAIT_VERIFY(console.ready);
    const qsizetype snapshotEnd = console.messages.size();

    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("1001", "lock closed")), QByteArray("ok\n"));
    const auto pushEvent = [&]() -> QJsonObject {
        for (const QJsonObject &e : console.events()) {
            if (e.value(u"type").toString() == u"push")
                return e;
        }
        return {};
    };
    WAIT_VERIFY(!pushEvent().isEmpty());
    const QJsonObject push = pushEvent();
    QCOMPARE(push.value(u"uid").toString(), u"1001"_s);
    QCOMPARE(push.value(u"source").toString(), u"text"_s);
    QCOMPARE(push.value(u"status").toString(), u"ok"_s);
    QCOMPARE(push.value(u"delivered").toInt(), 1);
    QCOMPARE(push.value(u"level").toString(), u"debug"_s);
    QVERIFY(push.value(u"text").toString().contains(u"lock closed"));
    QVERIFY(!push.contains(u"conn")); // 0: left out

    // A uid comes and goes: live presence, without reset.
    {
        WsClient c(server->wsPort());
        QVERIFY(c.bind("3003", server.get()));
        WAIT_COMPARE(console.presenceOf(u"3003"_s).value(u"connections").toInt(), 1);
    }
    WAIT_VERIFY(console.presenceOf(u"3003"_s).value(u"connections").toInt() == 0
        && !console.presenceOf(u"3003"_s).contains(u"otherNodes"));
    for (qsizetype i = snapshotEnd; i < console.messages.size(); ++i)
        QVERIFY(!console.messages[i].value(u"reset").toBool());

    // Counters every second, with the push counted.
    WAIT_VERIFY(!console.ofType(u"counters"_s).isEmpty()
            && console.ofType(u"counters"_s).last().value(u"pushes").toObject().value(u"ok").toInt()
                == 1,
        3000);
    // Stopping the listeners is a state change.
    server->stopListening();
    WAIT_VERIFY(!console.ofType(u"state"_s).isEmpty());
    QCOMPARE(console.ofType(u"state"_s).last().value(u"listening").toBool(), false);
}

void tst_Admin::floodIsSkippedAndBounded()
{
    Config config = loopbackConfig();
    config.adminMaxOutput = 64 * 1024;
    config.adminMaxEventRate = 1000000;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient a(server->wsPort());
    QVERIFY(a.bind("1001", server.get()));
    // A console that never reads, with a receive window of a few KiB.
    StalledWsClient console;
    QVERIFY(console.open(server->httpPort(), QByteArray(), "/api/events",
        "Sec-WebSocket-Protocol: pushconsole.admin.v1\r\n"));
    WAIT_COMPARE(server->adminHub()->streamCount(), 1);

    TextClient backend(server->textPort());
    constexpr int Pushes = 5000;
    QByteArray lines;
    for (int i = 0; i < Pushes; ++i)
        lines += pushLine("1001", "flood " + QByteArray::number(i) + QByteArray(200, 'x')) + '\n';
    qint64 peak = 0;
    backend.send(lines);
    int replies = 0;
    WAIT_VERIFY(
        [&] {
            replies += int(backend.socket().readAll().count('\n'));
            peak = qMax(peak, server->adminHub()->bufferedBytes());
            return replies == Pushes;
        }(),
        20000);
    QVERIFY(a.waitForMessages(Pushes, 20000));
    // The cap is on real bytes; the socket's backstop lets control frames
    // past it, by at most 64 KiB.
    QVERIFY2(peak <= config.adminMaxOutput + 64 * 1024, QByteArray::number(peak));
    QVERIFY(server->metrics().adminEventsSkipped > 0);
    QCOMPARE(server->adminHub()->streamCount(), 1);

    // Once it reads, it hears how many it missed, by type.
    QByteArray text;
    WAIT_VERIFY(
        [&] {
            for (const StalledWsClient::Frame &f : console.readFrames())
                text += f.payload + '\n';
            return text.contains(R"("t":"skipped")");
        }(),
        20000);
    const qsizetype at = text.indexOf(R"({"t":"skipped")");
    const QJsonObject skipped =
        QJsonDocument::fromJson(text.mid(at, text.indexOf('\n', at) - at)).object();
    QVERIFY(skipped.value(u"count").toInt() > 0);
    QCOMPARE(skipped.value(u"byType").toObject().value(u"push").toInt(),
        skipped.value(u"count").toInt());
}

void tst_Admin::rateCap()
{
    Config config = loopbackConfig();
    config.adminMaxEventRate = 10;
    auto server = startServer(config);
    QVERIFY(server);
    // As headless: pushes are debug events nobody keeps but the console.
    server->eventLog()->setCaptureLevel(Event::Level::Info);
    WsClient a(server->wsPort());
    QVERIFY(a.bind("1001", server.get()));
    AdminClient console(server->httpPort());
    WAIT_VERIFY(console.ready);
    TextClient backend(server->textPort());
    constexpr int Pushes = 200;
    QByteArray lines;
    for (int i = 0; i < Pushes; ++i)
        lines += pushLine("1001", "n" + QByteArray::number(i)) + '\n';
    const quint64 builtBefore = server->eventLog()->totalAppended();
    backend.send(lines);
    QCOMPARE(backend.readLines(Pushes, 10000).size(), Pushes);
    const auto counted = [&] {
        int sent = 0;
        int skipped = 0;
        for (const QJsonObject &e : console.events())
            sent += e.value(u"type").toString() == u"push";
        for (const QJsonObject &s : console.ofType(u"skipped"_s))
            skipped += s.value(u"byType").toObject().value(u"push").toInt();
        return std::make_pair(sent, skipped);
    };
    WAIT_VERIFY(counted().first + counted().second == Pushes);
    // At most the rate in each second the flood spanned (one or two).
    QVERIFY2(counted().first <= 2 * config.adminMaxEventRate, QByteArray::number(counted().first));
    QVERIFY(counted().second >= Pushes - 2 * config.adminMaxEventRate);
    // Past the rate of every stream, the pushes' events were not even built
    // (counted instead), so a flood costs what it costs with nobody watching.
    const quint64 built = server->eventLog()->totalAppended() - builtBefore;
    QVERIFY2(built <= quint64(2 * config.adminMaxEventRate + 10), QByteArray::number(built));
    // The next second, events flow again.
    WAIT_VERIFY(!server->eventLog()->watchersSaturated());
    backend.send(pushLine("1001", "late") + '\n');
    QCOMPARE(backend.readLines(1, 10000).size(), 1);
    WAIT_VERIFY([&] {
        const QList<QJsonObject> events = console.events();
        return std::any_of(events.cbegin(), events.cend(),
            [](const QJsonObject &e) { return e.value(u"text").toString().contains(u"late"_s); });
    }());
}

void tst_Admin::dataFrameCloses1003()
{
    auto server = startServer();
    QVERIFY(server);
    AdminClient console(server->httpPort());
    WAIT_VERIFY(console.ready);
    console.socket.sendTextMessage(u"hello?"_s);
    WAIT_VERIFY(console.closed);
    QCOMPARE(int(console.socket.closeCode()), 1003);
    WAIT_COMPARE(server->adminHub()->streamCount(), 0);
    QCOMPARE(server->metrics().adminStreamsOpen, 0u);
}

void tst_Admin::closedOnShutdown()
{
    auto server = startServer();
    QVERIFY(server);
    AdminClient console(server->httpPort());
    WAIT_VERIFY(console.ready);
    bool finished = false;
    connect(server.get(), &PushServer::shutdownFinished, this, [&] { finished = true; });
    server->shutdown();
    WAIT_VERIFY(console.closed);
    QCOMPARE(int(console.socket.closeCode()), 1001);
    WAIT_VERIFY(finished);
}

void tst_Admin::eventJson()
{
    Event e;
    e.time = 1764662401004; // 2025-12-02T08:00:01.004Z
    e.type = Event::Type::Closed;
    e.level = Event::Level::Info;
    e.connection = 7;
    e.uid = "1001";
    e.peer = u"10.0.0.1:5000"_s;
    // A reason from a newer gateway travels as its English detail.
    e.reason = Event::Reason::Unknown;
    e.detail = u"said \"bye\"\n"_s;
    e.closeCode = 1000;
    e.discarded = 12;
    e.text = QByteArray("bad \xff utf8");
    const QByteArray json = AdminEventJson::write(e);
    QJsonParseError error;
    const QJsonObject o = QJsonDocument::fromJson(json, &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(o.value(u"time").toString(), u"2025-12-02T08:00:01.004Z"_s);
    QCOMPARE(o.value(u"type").toString(), u"close"_s);
    QCOMPARE(o.value(u"conn").toInt(), 7);
    QCOMPARE(o.value(u"detail").toString(), u"said \"bye\"\n"_s);
    QCOMPARE(o.value(u"closeCode").toInt(), 1000);
    QCOMPARE(o.value(u"discarded").toInt(), 12);
    QCOMPARE(o.value(u"text").toString(), u"bad \ufffd utf8"_s);
    QVERIFY(!o.contains(u"size"));
    QVERIFY(!o.contains(u"source"));
}

PUSHCONSOLE_TEST_MAIN(tst_Admin)
#include "tst_admin.moc"
