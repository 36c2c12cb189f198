#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "EventLog.h"
#include "HttpApi.h"

#include <QJsonArray>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTemporaryFile>

using namespace TestSupport;
using namespace HttpTestSupport;

static QStringList words(const char *text)
{
    return QString::fromLatin1(text).split(QLatin1Char(' '));
}

// Every endpoint of the HTTP API over real loopback sockets, with
// QNetworkAccessManager as the client and raw sockets where the exact bytes
// on the wire matter.
class tst_HttpApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pushDeliversToEveryConnection();
    void pushBodyIsForwardedByteForByte();
    void pushToOfflineUidIs404();
    void pushStoredForOfflineUidIs202();
    void pushArrayAndBroadcast();
    void badPushIs400_data();
    void badPushIs400();
    void oversizeWithContentLengthIs413BeforeTheBody();
    void oversizeStreamedBodyIs413();
    void oversizeChunkedBodyIs413();
    void bodyJustOverTheLimitIs413();
    void expectContinueIsAnswered();
    void headTooLargeIs431();
    void pushIsLoggedWithSourceAndPeer();
    void onlineIsPaginated();
    void onlineRejectsBadParameters_data();
    void onlineRejectsBadParameters();
    void uidShowsItsConnections();
    void uidOfflineIs404AndInvalidIs400_data();
    void uidOfflineIs404AndInvalidIs400();
    void deleteDisconnectsTheUid();
    void healthz();
    void unknownRouteIs404();
    void wrongMethodIs405_data();
    void wrongMethodIs405();
    void apiKeyIsRequired();
    void apiKeyFileProblemsStopTheStart_data();
    void apiKeyFileProblemsStopTheStart();
    void portMinusOneMeansNoHttp();
    void busyPortFailsAndClosesTheOthers();
    void idleConnectionsAreClosed();
    void keepAliveServesSeveralRequests();
    void pipelinedRequestsAreAnsweredInOrder();
    void connectionCloseIsHonoured_data();
    void connectionCloseIsHonoured();
    void stopAndStartAgain();
    void testPageIsServedWithTheWsPort();

private:
    static QString url(PushServer *server, const QString &path)
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(server->httpPort()).arg(path);
    }
    static Reply post(PushServer *server, const QByteArray &body,
        const QList<std::pair<QByteArray, QByteArray>> &headers = {})
    {
        return request("POST", url(server, QStringLiteral("/api/push")), body, headers);
    }
    static bool endsHttpResponse(const QByteArray &received)
    {
        const qsizetype head = received.indexOf("\r\n\r\n");
        if (head < 0)
            return false;
        const qsizetype lengthAt = received.toLower().indexOf("content-length: ");
        if (lengthAt < 0 || lengthAt > head)
            return true;
        const qsizetype lineEnd = received.indexOf("\r\n", lengthAt);
        const qint64 length = received.mid(lengthAt + 16, lineEnd - lengthAt - 16).toLongLong();
        return received.size() >= head + 4 + length;
    }
};

void tst_HttpApi::pushDeliversToEveryConnection()
{
    auto server = startServer();
    QVERIFY(server);
    QVERIFY(server->httpPort() > 0);
    WsClient phone(server->wsPort());
    WsClient laptop(server->wsPort());
    QVERIFY(phone.bind("1001", server.get()));
    QVERIFY(laptop.bind("1001", server.get()));

    const QByteArray body = pushLine("1001", "lock closed");
    const Reply r = post(server.get(), body);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, QByteArray(R"({"result":"ok","delivered":2})"));
    QCOMPARE(r.header("Content-Type"), QByteArray("application/json"));
    QVERIFY(phone.waitForMessages(1));
    QVERIFY(laptop.waitForMessages(1));
    QCOMPARE(phone.messages.front(), QString::fromUtf8(body));
    QCOMPARE(laptop.messages.front(), QString::fromUtf8(body));
}

void tst_HttpApi::pushBodyIsForwardedByteForByte()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("42", server.get()));
    // White space, PHP-style \u escapes, raw UTF-8, an integer uid and a
    // trailing newline: nothing is re-encoded, trimmed or re-ordered.
    const QByteArray body =
        "{ \"msg\" : \"\\u9501 closed\", \"uid\":42,\n  \"raw\":\"\xe9\x94\x81\" }\n";
    const Reply r = post(server.get(), body);
    QCOMPARE(r.status, 200);
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.front().toUtf8(), body);
}

void tst_HttpApi::pushToOfflineUidIs404()
{
    auto server = startServer();
    QVERIFY(server);
    const Reply r = post(server.get(), pushLine("nobody", "x"));
    QCOMPARE(r.status, 404);
    QCOMPARE(r.body, QByteArray(R"({"result":"fail"})"));
}

void tst_HttpApi::pushStoredForOfflineUidIs202()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Config config = loopbackConfig();
    config.offlineTtlMs = 60000;
    config.offlineDb = dir.filePath(QStringLiteral("offline.sqlite"));
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray body = pushLine("later", "stored for you");
    const Reply r = post(server.get(), body);
    QCOMPARE(r.status, 202);
    QCOMPARE(r.body, QByteArray(R"({"result":"queued","stored":1})"));
    WsClient client(server->wsPort());
    QVERIFY(client.bind("later", server.get()));
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.front().toUtf8(), body);
}

void tst_HttpApi::pushArrayAndBroadcast()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort());
    WsClient b(server->wsPort());
    QVERIFY(a.bind("a", server.get()));
    QVERIFY(b.bind("b", server.get()));
    Reply r = post(server.get(), R"({"uid":["a","b","offline","a"],"m":1})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("delivered")).toInt(), 2);
    r = post(server.get(), R"({"uid":"*","m":2})");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("delivered")).toInt(), 2);
    QVERIFY(a.waitForMessages(2));
    QVERIFY(b.waitForMessages(2));
}

void tst_HttpApi::badPushIs400_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("error");
    QTest::newRow("invalid JSON") << QByteArray(R"({"uid":)")
                                  << QStringLiteral("invalid JSON at offset 7: unexpected end");
    QTest::newRow("not an object") << QByteArray("[1,2]") << QStringLiteral("not a JSON object");
    QTest::newRow("no uid") << QByteArray(R"({"msg":"x"})") << QStringLiteral("missing uid");
    QTest::newRow("invalid uid") << QByteArray(R"({"uid":"a b"})") << QStringLiteral("invalid uid");
    QTest::newRow("empty list") << QByteArray(R"({"uid":[]})") << QStringLiteral("empty uid list");
    QTest::newRow("not UTF-8") << QByteArray("{\"uid\":\"1\",\"m\":\"\xff\"}")
                               << QStringLiteral("not UTF-8");
}

void tst_HttpApi::badPushIs400()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, error);
    auto server = startServer();
    QVERIFY(server);
    const Reply r = post(server.get(), body);
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toString(), error);
    QCOMPARE(server->metrics().pushes[int(PushSource::Http)][int(PushStatus::Error)], 1u);
}

void tst_HttpApi::oversizeWithContentLengthIs413BeforeTheBody()
{
    Config config = loopbackConfig();
    config.maxLine = 1024;
    auto server = startServer(config);
    QVERIFY(server);
    // Only the head is sent: the answer must not wait for (or buffer) a
    // body that is announced as too large.
    bool closed = false;
    const QByteArray answer = rawExchange(server->httpPort(),
        "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000000\r\n\r\n",
        nullptr, 5000, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 413 "), answer.constData());
    QVERIFY(answer.contains("Connection: close"));
    QVERIFY(closed);
    // The server still serves.
    QCOMPARE(post(server.get(), pushLine("x", "y")).status, 404);
}

void tst_HttpApi::oversizeStreamedBodyIs413()
{
    Config config = loopbackConfig();
    config.maxLine = 64 * 1024;
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray body = "{\"uid\":\"1\",\"pad\":\"" + QByteArray(4 * 1024 * 1024, 'a') + "\"}";

    // A client that sends the whole body at once still reads the 413, not a
    // connection reset.
    bool closed = false;
    const QByteArray answer = rawExchange(server->httpPort(),
        "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body,
        nullptr, 10000, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 413 "), answer.left(200).constData());
    QVERIFY(answer.contains(R"x({"error":"body too large (limit 65536 bytes)"})x"));
    QVERIFY(closed);

    // So does curl, without "Expect: 100-continue" (it would wait otherwise).
    REQUIRE_PROGRAM("curl");
    const QString curl = programPath(QStringLiteral("curl"));
    QTemporaryFile file;
    QVERIFY(file.open());
    file.write(body);
    file.close();
    const Run r = run(curl,
        {QStringLiteral("-sS"), QStringLiteral("-H"), QStringLiteral("Expect:"),
            QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-w"),
            QStringLiteral("%{http_code}"), QStringLiteral("--data-binary"),
            QLatin1Char('@') + file.fileName(), url(server.get(), QStringLiteral("/api/push"))});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.constData());
    QCOMPARE(r.out, QByteArray("413"));
    QCOMPARE(post(server.get(), pushLine("x", "y")).status, 404);
}

void tst_HttpApi::oversizeChunkedBodyIs413()
{
    Config config = loopbackConfig();
    config.maxLine = 1024;
    auto server = startServer(config);
    QVERIFY(server);
    // No length up front: the guard counts what arrives and stops it.
    QByteArray chunked =
        "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 64; ++i)
        chunked += "400\r\n" + QByteArray(1024, 'a') + "\r\n";
    bool closed = false;
    const QByteArray answer = rawExchange(server->httpPort(), chunked, nullptr, 5000, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 413 "), answer.left(200).constData());
    QVERIFY(closed);
}

void tst_HttpApi::bodyJustOverTheLimitIs413()
{
    Config config = loopbackConfig();
    config.maxLine = 1024;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1", server.get()));
    QByteArray body = R"({"uid":"1","pad":")";
    body += QByteArray(1024 - body.size() - 2, 'a') + "\"}";
    QCOMPARE(body.size(), 1024);
    QCOMPARE(post(server.get(), body).status, 200); // exactly the limit
    body.insert(body.size() - 2, 'a');
    Reply r = post(server.get(), body); // refused from its Content-Length
    QCOMPARE(r.status, 413);
    QCOMPARE(r.json().value(QStringLiteral("error")).toString(),
        QStringLiteral("body too large (limit 1024 bytes)"));
    // Chunked, the length is known only once the body is in.
    const QByteArray answer = rawExchange(server->httpPort(),
        "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + QByteArray::number(body.size(), 16) + "\r\n" + body + "\r\n0\r\n\r\n",
        [](const QByteArray &received) { return received.endsWith("}"); });
    QVERIFY2(answer.startsWith("HTTP/1.1 413 "), answer.constData());
    QVERIFY(answer.endsWith(R"x({"error":"body too large (limit 1024 bytes)"})x"));
    // Only the push at the limit went out.
    QVERIFY(probe(server->textPort(), client, "1"));
    QCOMPARE(client.messages.size(), 2);
}

void tst_HttpApi::expectContinueIsAnswered()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("7", server.get()));
    const QByteArray body = pushLine("7", QByteArray(3000, 'x'));
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.write("POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Expect: 100-continue\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n");
    // curl waits a second for this before giving up and sending anyway.
    QByteArray received;
    WAIT_UNTIL(
        [&] {
            received += socket.readAll();
            return received.contains("\r\n\r\n");
        },
        received, 900);
    QCOMPARE(received, QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
    socket.write(body);
    WAIT_UNTIL(
        [&] {
            received += socket.readAll();
            return received.contains(R"({"result":"ok","delivered":1})");
        },
        received);
    QVERIFY(client.waitForMessages(1));
}

void tst_HttpApi::headTooLargeIs431()
{
    auto server = startServer();
    QVERIFY(server);
    bool closed = false;
    const QByteArray answer = rawExchange(server->httpPort(),
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + QByteArray(64 * 1024, 'f')
            + "\r\n\r\n",
        nullptr, 5000, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 431 "), answer.left(200).constData());
    QVERIFY(closed);
}

void tst_HttpApi::pushIsLoggedWithSourceAndPeer()
{
    auto server = startServer();
    QVERIFY(server);
    QCOMPARE(post(server.get(), pushLine("nobody", "x")).status, 404);
    const QList<Event> events = server->eventLog()->snapshot();
    const auto it = std::find_if(
        events.cbegin(), events.cend(), [](const Event &e) { return e.type == Event::Type::Push; });
    QVERIFY(it != events.cend());
    QCOMPARE(it->source, PushSource::Http);
    QCOMPARE(it->status, PushStatus::Fail);
    QCOMPARE(it->uid, QByteArray("nobody"));
    QVERIFY2(it->peer.startsWith(QLatin1String("127.0.0.1:")), qPrintable(it->peer));
    QCOMPARE(server->metrics().pushes[int(PushSource::Http)][int(PushStatus::Fail)], 1u);
}

void tst_HttpApi::onlineIsPaginated()
{
    auto server = startServer();
    QVERIFY(server);
    std::vector<std::unique_ptr<WsClient>> clients;
    for (const char *uid : {"e", "a", "c", "b", "d"}) {
        clients.push_back(std::make_unique<WsClient>(server->wsPort()));
        QVERIFY(clients.back()->bind(uid, server.get()));
    }
    clients.push_back(std::make_unique<WsClient>(server->wsPort()));
    QVERIFY(clients.back()->bind("c", server.get())); // a second connection of c

    const auto page = [&](const QString &query) {
        const Reply r = request("GET", url(server.get(), QStringLiteral("/api/online") + query));
        QJsonObject o = r.json();
        o.insert(QStringLiteral("status"), r.status);
        return o;
    };
    const auto uidsOf = [](const QJsonObject &o) {
        QStringList list;
        for (const QJsonValue &v : o.value(QStringLiteral("uids")).toArray())
            list << v.toObject().value(QStringLiteral("uid")).toString();
        return list;
    };
    QJsonObject o = page(QString());
    QCOMPARE(o.value(QStringLiteral("status")).toInt(), 200);
    QCOMPARE(o.value(QStringLiteral("total")).toInt(), 5);
    QCOMPARE(o.value(QStringLiteral("connections")).toInt(), 6);
    QCOMPARE(o.value(QStringLiteral("offset")).toInt(), 0);
    QCOMPARE(o.value(QStringLiteral("limit")).toInt(), 100);
    QCOMPARE(uidsOf(o), words("a b c d e"));
    QCOMPARE(o.value(QStringLiteral("uids"))
                 .toArray()
                 .at(2)
                 .toObject()
                 .value(QStringLiteral("connections"))
                 .toInt(),
        2);

    o = page(QStringLiteral("?offset=0&limit=2"));
    QCOMPARE(uidsOf(o), words("a b"));
    QCOMPARE(o.value(QStringLiteral("total")).toInt(), 5);
    o = page(QStringLiteral("?offset=2&limit=2"));
    QCOMPARE(uidsOf(o), words("c d"));
    o = page(QStringLiteral("?offset=4&limit=2"));
    QCOMPARE(uidsOf(o), words("e"));
    o = page(QStringLiteral("?offset=10"));
    QCOMPARE(o.value(QStringLiteral("status")).toInt(), 200);
    QCOMPARE(uidsOf(o), QStringList());
    QCOMPARE(o.value(QStringLiteral("total")).toInt(), 5);
}

void tst_HttpApi::onlineRejectsBadParameters_data()
{
    QTest::addColumn<QString>("query");
    QTest::newRow("limit 0") << QStringLiteral("?limit=0");
    QTest::newRow("limit too big") << QStringLiteral("?limit=1001");
    QTest::newRow("limit not a number") << QStringLiteral("?limit=ten");
    QTest::newRow("negative offset") << QStringLiteral("?offset=-1");
    QTest::newRow("offset not a number") << QStringLiteral("?offset=1.5");
}

void tst_HttpApi::onlineRejectsBadParameters()
{
    QFETCH(QString, query);
    auto server = startServer();
    QVERIFY(server);
    const Reply r = request("GET", url(server.get(), QStringLiteral("/api/online") + query));
    QCOMPARE(r.status, 400);
    QVERIFY(!r.json().value(QStringLiteral("error")).toString().isEmpty());
}

void tst_HttpApi::uidShowsItsConnections()
{
    auto server = startServer();
    QVERIFY(server);
    const qint64 before = QDateTime::currentMSecsSinceEpoch() - 1000;
    WsClient first(server->wsPort());
    WsClient second(server->wsPort());
    QVERIFY(first.bind("rider@example.com", server.get()));
    QVERIFY(second.bind("rider@example.com", server.get()));
    const Reply r =
        request("GET", url(server.get(), QStringLiteral("/api/uids/rider@example.com")));
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("uid")).toString(), QStringLiteral("rider@example.com"));
    const QJsonArray connections = o.value(QStringLiteral("connections")).toArray();
    QCOMPARE(connections.size(), 2);
    QSet<QString> peers;
    for (const QJsonValue &v : connections) {
        const QJsonObject c = v.toObject();
        const QString peer = c.value(QStringLiteral("peer")).toString();
        QVERIFY2(peer.startsWith(QLatin1String("127.0.0.1:")), qPrintable(peer));
        peers.insert(peer);
        const QDateTime since =
            QDateTime::fromString(c.value(QStringLiteral("since")).toString(), Qt::ISODateWithMs);
        const QDateTime last = QDateTime::fromString(
            c.value(QStringLiteral("lastActivity")).toString(), Qt::ISODateWithMs);
        QVERIFY(since.isValid());
        QVERIFY(last.isValid());
        QCOMPARE(since.timeSpec(), Qt::UTC);
        QVERIFY(since.toMSecsSinceEpoch() >= before);
        QVERIFY(last >= since);
        QVERIFY(last.toMSecsSinceEpoch() <= QDateTime::currentMSecsSinceEpoch() + 1000);
        QVERIFY(c.value(QStringLiteral("id")).toInt() > 0);
        QVERIFY(c.value(QStringLiteral("bytesIn")).toInt() > 0); // the bind message
    }
    QCOMPARE(peers.size(), 2);
}

void tst_HttpApi::uidOfflineIs404AndInvalidIs400_data()
{
    QTest::addColumn<QString>("uid"); // as it goes in the path
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");
    QTest::newRow("offline") << QStringLiteral("1001") << 404 << QStringLiteral("uid not online");
    QTest::newRow("space") << QStringLiteral("a%20b") << 400 << QStringLiteral("invalid uid");
    QTest::newRow("not ASCII") << QStringLiteral("%C3%A9") << 400 << QStringLiteral("invalid uid");
    QTest::newRow("65 characters")
        << QString(65, QLatin1Char('x')) << 400 << QStringLiteral("invalid uid");
    // An encoded slash is a slash: a path one segment too long, no route.
    QTest::newRow("encoded slash") << QStringLiteral("a%2Fb") << 404 << QStringLiteral("not found");
}

void tst_HttpApi::uidOfflineIs404AndInvalidIs400()
{
    QFETCH(QString, uid);
    QFETCH(int, status);
    QFETCH(QString, error);
    auto server = startServer();
    QVERIFY(server);
    for (const QByteArray &method : {QByteArray("GET"), QByteArray("DELETE")}) {
        const Reply r = request(method, url(server.get(), QStringLiteral("/api/uids/") + uid));
        QCOMPARE(r.status, status);
        QCOMPARE(r.json().value(QStringLiteral("error")).toString(), error);
    }
}

void tst_HttpApi::deleteDisconnectsTheUid()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort());
    WsClient b(server->wsPort());
    WsClient other(server->wsPort());
    QVERIFY(a.bind("1001", server.get()));
    QVERIFY(b.bind("1001", server.get()));
    QVERIFY(other.bind("1002", server.get()));
    Reply r = request("DELETE", url(server.get(), QStringLiteral("/api/uids/1001")));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json().value(QStringLiteral("closed")).toInt(), 2);
    QVERIFY(a.waitForDisconnected());
    QVERIFY(b.waitForDisconnected());
    QCOMPARE(int(a.socket.closeCode()), 1008);
    WAIT_VERIFY(!server->registry()->isOnline("1001"));
    QVERIFY(server->registry()->isOnline("1002"));
    QCOMPARE(server->metrics().kicked, 2u);
    r = request("DELETE", url(server.get(), QStringLiteral("/api/uids/1001")));
    QCOMPARE(r.status, 404);
}

void tst_HttpApi::healthz()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient a(server->wsPort());
    QVERIFY(a.bind("1", server.get()));
    const Reply r = request("GET", url(server.get(), QStringLiteral("/healthz")));
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    QCOMPARE(o.value(QStringLiteral("connections")).toInt(), 1);
    QCOMPARE(o.value(QStringLiteral("uids")).toInt(), 1);
    QVERIFY(o.contains(QStringLiteral("uptimeSeconds")));
}

void tst_HttpApi::unknownRouteIs404()
{
    auto server = startServer();
    QVERIFY(server);
    for (const QString &path :
        {QStringLiteral("/nope"), QStringLiteral("/api"), QStringLiteral("/api/pushes"),
            QStringLiteral("/api/uids/a/b"), QStringLiteral("/index.html")}) {
        const Reply r = request("GET", url(server.get(), path));
        QVERIFY2(r.status == 404, qPrintable(path));
        QCOMPARE(r.json().value(QStringLiteral("error")).toString(), QStringLiteral("not found"));
    }
}

void tst_HttpApi::wrongMethodIs405_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("allow");
    QTest::newRow("GET push") << QByteArray("GET") << QStringLiteral("/api/push")
                              << QByteArray("POST");
    QTest::newRow("PUT push") << QByteArray("PUT") << QStringLiteral("/api/push")
                              << QByteArray("POST");
    QTest::newRow("POST online") << QByteArray("POST") << QStringLiteral("/api/online")
                                 << QByteArray("GET");
    QTest::newRow("PATCH uid") << QByteArray("PATCH") << QStringLiteral("/api/uids/7")
                               << QByteArray("GET, DELETE");
    QTest::newRow("POST metrics") << QByteArray("POST") << QStringLiteral("/metrics")
                                  << QByteArray("GET");
    QTest::newRow("DELETE healthz")
        << QByteArray("DELETE") << QStringLiteral("/healthz") << QByteArray("GET");
    QTest::newRow("HEAD healthz") << QByteArray("HEAD") << QStringLiteral("/healthz")
                                  << QByteArray("GET");
}

void tst_HttpApi::wrongMethodIs405()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, allow);
    auto server = startServer();
    QVERIFY(server);
    const Reply r = request(method, url(server.get(), path), "{}");
    QCOMPARE(r.status, 405);
    QCOMPARE(r.header("Allow"), allow);
}

void tst_HttpApi::apiKeyIsRequired()
{
    QTemporaryFile keyFile;
    QVERIFY(keyFile.open());
    keyFile.write("s3cret-Key_1\n"); // the trailing newline is not part of the key
    keyFile.close();
    Config config = loopbackConfig();
    config.httpApiKeyFile = keyFile.fileName();
    auto server = startServer(config);
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1", server.get()));
    const QByteArray body = pushLine("1", "x");

    using Headers = QList<std::pair<QByteArray, QByteArray>>;
    const QList<Headers> refused = {
        {},
        {{"Authorization", "Bearer wrong"}},
        {{"Authorization", "Bearer s3cret-Key_"}},
        {{"Authorization", "Bearer s3cret-Key_12"}},
        {{"Authorization", "Basic czNjcmV0LUtleV8x"}},
        {{"Authorization", "s3cret-Key_1"}},
        {{"Authorization", "Bearer"}},
    };
    for (const Headers &h : refused) {
        const Reply r = post(server.get(), body, h);
        QCOMPARE(r.status, 401);
        QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer realm=\"pushconsole\""));
        QCOMPARE(
            request("GET", url(server.get(), QStringLiteral("/api/online")), {}, h).status, 401);
        QCOMPARE(
            request("GET", url(server.get(), QStringLiteral("/api/uids/1")), {}, h).status, 401);
        QCOMPARE(
            request("DELETE", url(server.get(), QStringLiteral("/api/uids/1")), {}, h).status, 401);
        // Unknown API paths do not tell they are unknown without the key.
        QCOMPARE(request("GET", url(server.get(), QStringLiteral("/api/x")), {}, h).status, 401);
    }
    // None of them pushed (nor kicked the uid).
    QVERIFY(probe(server->textPort(), client, "1"));
    QCOMPARE(client.messages, QList<QString> {probeMessage("1")});
    client.messages.clear();

    for (const QByteArray &auth : {QByteArray("Bearer s3cret-Key_1"),
             QByteArray("bearer s3cret-Key_1"), QByteArray("Bearer   s3cret-Key_1  ")}) {
        const Reply r = post(server.get(), body, {{"Authorization", auth}});
        QCOMPARE(r.status, 200);
    }
    QVERIFY(client.waitForMessages(3));
    const Headers good = {{"Authorization", "Bearer s3cret-Key_1"}};
    QCOMPARE(
        request("GET", url(server.get(), QStringLiteral("/api/online")), {}, good).status, 200);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/api/x")), {}, good).status, 404);

    // The probe stays open but tells only that the gateway is up; the
    // metrics need the key too, and the test page is off unless asked for.
    const Reply health = request("GET", url(server.get(), QStringLiteral("/healthz")));
    QCOMPARE(health.status, 200);
    QCOMPARE(health.body, QByteArray(R"({"status":"ok"})"));
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/healthz")), {}, good)
                 .json()
                 .value(QStringLiteral("connections"))
                 .toInt(),
        1);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/metrics"))).status, 401);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/metrics")), {}, good).status, 200);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/"))).status, 404);

    // Refusals are in the operator's log.
    const QList<Event> events = server->eventLog()->snapshot();
    QVERIFY(std::any_of(events.cbegin(), events.cend(), [](const Event &e) {
        return e.type == Event::Type::Rejected
            && e.englishDetail().contains(QLatin1String("API key"));
    }));
}

void tst_HttpApi::apiKeyFileProblemsStopTheStart_data()
{
    QTest::addColumn<QByteArray>("content"); // "-" for no file at all
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing") << QByteArray("-")
                             << QStringLiteral("cannot read the HTTP API key file");
    QTest::newRow("empty") << QByteArray("") << QStringLiteral("is empty");
    QTest::newRow("only white space") << QByteArray(" \n\n") << QStringLiteral("is empty");
    QTest::newRow("two words") << QByteArray("two words\n") << QStringLiteral("one key");
    QTest::newRow("two lines") << QByteArray("one\ntwo\n") << QStringLiteral("one key");
    QTest::newRow("huge") << QByteArray(5000, 'k') << QStringLiteral("larger than 4 KiB");
}

void tst_HttpApi::apiKeyFileProblemsStopTheStart()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("key"));
    if (content != "-") {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    Config config = loopbackConfig();
    config.httpApiKeyFile = path;
    PushServer server(config);
    QString error;
    QVERIFY(!server.start(&error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY(!server.isListening());
}

void tst_HttpApi::portMinusOneMeansNoHttp()
{
    Config config = loopbackConfig();
    config.httpPort = -1;
    auto server = startServer(config);
    QVERIFY(server);
    QCOMPARE(server->httpPort(), quint16(0));
    QCOMPARE(server->httpAddress(), QStringLiteral("off"));
    QVERIFY(server->isListening());
    const QList<Event> events = server->eventLog()->snapshot();
    QVERIFY(!events.isEmpty());
    QVERIFY2(events.front().englishDetail().contains(QLatin1String(" http=off ")),
        qPrintable(events.front().englishDetail()));
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1", server.get()));
}

void tst_HttpApi::busyPortFailsAndClosesTheOthers()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    Config config = loopbackConfig();
    config.httpPort = squatter.serverPort();
    PushServer server(config);
    QString error;
    QVERIFY(!server.start(&error));
    QVERIFY2(error.startsWith(QStringLiteral("cannot listen for HTTP requests on 127.0.0.1:%1: ")
                                  .arg(squatter.serverPort())),
        qPrintable(error));
    QVERIFY(!server.isListening());
}

void tst_HttpApi::idleConnectionsAreClosed()
{
    Config config = loopbackConfig();
    config.httpIdleTimeoutMs = 300;
    auto server = startServer(config);
    QVERIFY(server);
    QTcpSocket silent;
    silent.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(silent.state(), QAbstractSocket::ConnectedState);
    QElapsedTimer timer;
    timer.start();
    WAIT_COMPARE(silent.state(), QAbstractSocket::UnconnectedState, 5000);
    QVERIFY(timer.elapsed() >= 250);
}

void tst_HttpApi::keepAliveServesSeveralRequests()
{
    auto server = startServer();
    QVERIFY(server);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const QByteArray body = pushLine("nobody", "x");
    for (int i = 0; i < 20; ++i) {
        socket.write("POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QByteArray received;
        WAIT_UNTIL(
            [&] {
                received += socket.readAll();
                return endsHttpResponse(received);
            },
            received);
        QVERIFY2(received.startsWith("HTTP/1.1 404 "), received.constData());
    }
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(server->metrics().pushes[int(PushSource::Http)][int(PushStatus::Fail)], 20u);
}

void tst_HttpApi::pipelinedRequestsAreAnsweredInOrder()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("p", server.get()));
    QByteArray requests;
    for (int i = 0; i < 5; ++i) {
        const QByteArray body = pushLine("p", QByteArray::number(i));
        requests += "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    }
    requests += "GET /api/uids/nobody HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const QByteArray answers = rawExchange(server->httpPort(), requests,
        [](const QByteArray &received) { return received.count("HTTP/1.1 ") == 6; });
    QCOMPARE(answers.count("HTTP/1.1 200 "), 5);
    QVERIFY(answers.endsWith(R"({"error":"uid not online"})"));
    QVERIFY(client.waitForMessages(5));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(client.messages[i], QString::fromUtf8(pushLine("p", QByteArray::number(i))));
}

void tst_HttpApi::connectionCloseIsHonoured_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("closes");
    QTest::newRow("HTTP/1.0") << QByteArray("GET /healthz HTTP/1.0\r\n\r\n") << 200 << true;
    QTest::newRow("HTTP/1.0 keep-alive")
        << QByteArray("GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << 200 << false;
    QTest::newRow("HTTP/1.1 close")
        << QByteArray("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        << 200 << true;
    QTest::newRow("HTTP/1.1") << QByteArray("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                              << 200 << false;
    QTest::newRow("error, HTTP/1.0") << QByteArray("GET /nope HTTP/1.0\r\n\r\n") << 404 << true;
}

void tst_HttpApi::connectionCloseIsHonoured()
{
    QFETCH(QByteArray, head);
    QFETCH(int, status);
    QFETCH(bool, closes);
    auto server = startServer();
    QVERIFY(server);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    const QByteArray statusLine = "HTTP/1.1 " + QByteArray::number(status) + ' ';
    QByteArray received;
    socket.write(head);
    WAIT_UNTIL(
        [&] {
            received += socket.readAll();
            return endsHttpResponse(received);
        },
        received);
    QVERIFY2(received.startsWith(statusLine), received.constData());
    QCOMPARE(received.contains("\r\nConnection: close\r\n"), closes);
    if (closes) {
        WAIT_COMPARE(socket.state(), QAbstractSocket::UnconnectedState);
        return;
    }
    // Kept open: a second request on it is answered too.
    received.clear();
    socket.write(head);
    WAIT_UNTIL(
        [&] {
            received += socket.readAll();
            return endsHttpResponse(received);
        },
        received);
    QVERIFY2(received.startsWith(statusLine), received.constData());
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
}

void tst_HttpApi::stopAndStartAgain()
{
    auto server = startServer();
    QVERIFY(server);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/healthz"))).status, 200);
    const quint16 port = server->httpPort();
    server->stopListening();
    QVERIFY(!server->isListening());
    const Reply refused =
        request("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(port), {}, {}, 3000);
    QCOMPARE(refused.status, 0);
    QString error;
    QVERIFY2(server->start(&error), qPrintable(error));
    QVERIFY(server->httpPort() > 0);
    QCOMPARE(request("GET", url(server.get(), QStringLiteral("/healthz"))).status, 200);
}

void tst_HttpApi::testPageIsServedWithTheWsPort()
{
    Config config = loopbackConfig();
    config.httpTestPage = true;
    auto server = startServer(config);
    QVERIFY(server);
    const Reply r = request("GET", url(server.get(), QStringLiteral("/")));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArray("text/html; charset=utf-8"));
    QVERIFY(r.body.contains("<meta name=\"pushconsole-ws-port\" content=\""
        + QByteArray::number(server->wsPort()) + "\">"));
    QVERIFY(r.body.contains("<ul id=\"messages\""));
    // Self-contained: no script, style or font from anywhere else.
    QVERIFY(!r.body.contains("src=\"http"));
    QVERIFY(!r.body.contains("href=\"http"));
    QVERIFY(!r.body.contains("@import"));
}

PUSHCONSOLE_TEST_MAIN(tst_HttpApi)
#include "tst_httpapi.moc"
