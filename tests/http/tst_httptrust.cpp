#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "EventLog.h"
#include "HttpApi.h"
#include "HttpServer.h"

#include <QTemporaryFile>

using namespace TestSupport;
using namespace HttpTestSupport;

// Bytes of a literal that may hold NULs.
template<size_t N>
static QByteArray bytes(const char (&literal)[N])
{
    return QByteArray(literal, qsizetype(N - 1));
}

// Who may use the HTTP API: no web page (Origin, Content-Type), no foreign
// name (Host: DNS rebinding), nothing without the key where one is set, and
// nothing the parser would have to guess about.
class tst_HttpTrust : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void webPagesCannotPush_data();
    void webPagesCannotPush();
    void allowedOriginGetsCors();
    void pushNeedsJson_data();
    void pushNeedsJson();
    void foreignHostIsRefused_data();
    void foreignHostIsRefused();
    void listedHostIsServed();
    void endpointsAndTheKey_data();
    void endpointsAndTheKey();
    void malformedRequestsAreRefused_data();
    void malformedRequestsAreRefused();
    void http10WithoutHostIsServed();

private:
    static QString url(PushServer *server, const QString &path)
    {
        return QStringLiteral("http://127.0.0.1:%1%2").arg(server->httpPort()).arg(path);
    }
    // Raw, so that nothing adds or changes a header.
    static QByteArray exchange(PushServer *server, const QByteArray &bytes, bool *closed = nullptr)
    {
        return rawExchange(
            server->httpPort(), bytes,
            [](const QByteArray &received) { return countResponses(received) > 0; }, 5000, closed);
    }
    static bool logged(PushServer *server, const QString &text)
    {
        const QList<Event> events = server->eventLog()->snapshot();
        return std::any_of(events.cbegin(), events.cend(), [&](const Event &e) {
            return e.type == Event::Type::Rejected && e.englishDetail().contains(text);
        });
    }
};

void tst_HttpTrust::webPagesCannotPush_data()
{
    // What a page of another site can make a browser send, without any
    // preflight: a "simple" request (text/plain, a form), or any request
    // at all, which carries the page's origin.
    QTest::addColumn<QByteArray>("request");
    const QByteArray body = pushLine("1001", "from a web page");
    const QByteArray length = "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    QTest::newRow("text/plain") << "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1:2121\r\n"
                                   "Origin: https://evil.example\r\nContent-Type: text/plain\r\n"
            + length + "\r\n" + body;
    QTest::newRow("form") << "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Origin: https://evil.example\r\n"
                             "Content-Type: application/x-www-form-urlencoded\r\n"
            + length + "\r\n" + body;
    QTest::newRow("json") << "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Origin: http://localhost:8080\r\nContent-Type: application/json\r\n"
            + length + "\r\n" + body;
    QTest::newRow("null origin") << "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    "Origin: null\r\nContent-Type: text/plain\r\n"
            + length + "\r\n" + body;
    QTest::newRow("disconnect") << QByteArray(
        "DELETE /api/uids/1001 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Origin: https://evil.example\r\n\r\n");
}

void tst_HttpTrust::webPagesCannotPush()
{
    QFETCH(QByteArray, request);
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));

    bool closed = false;
    const QByteArray answer = exchange(server.get(), request, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 403 Forbidden\r\n"), answer.constData());
    QVERIFY(answer.endsWith(R"({"error":"cross-origin request refused"})"));
    QVERIFY(!closed); // an ordinary refusal: the connection may go on

    // A probe through the push port: the first thing the client gets.
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("1001", "probe")), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages, QList<QString> {QString::fromUtf8(pushLine("1001", "probe"))});
    QVERIFY(server->registry()->isOnline("1001"));
    QVERIFY(logged(server.get(), QStringLiteral("HTTP API: request from origin")));
}

void tst_HttpTrust::allowedOriginGetsCors()
{
    Config config = loopbackConfig();
    config.httpAllowOrigins = {QStringLiteral("https://admin.example.com")};
    auto server = startServer(config);
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));

    // The browser's preflight, then the push it allows.
    QByteArray answer = exchange(server.get(),
        "OPTIONS /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://admin.example.com\r\n"
        "Access-Control-Request-Method: POST\r\n"
        "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 204 No Content\r\n"), answer.constData());
    QVERIFY(answer.contains("\r\nAccess-Control-Allow-Methods: POST\r\n"));
    QVERIFY(answer.contains("\r\nAccess-Control-Allow-Headers: Authorization, Content-Type\r\n"));
    QVERIFY(answer.contains("\r\nAccess-Control-Allow-Origin: https://admin.example.com\r\n"));

    answer = exchange(server.get(),
        rawRequest(
            "POST", "/api/push", pushLine("1001", "x"), "Origin: https://Admin.Example.com\r\n"));
    QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
    QVERIFY(answer.contains("\r\nAccess-Control-Allow-Origin: https://Admin.Example.com\r\n"));
    QVERIFY(answer.contains("\r\nVary: Origin\r\n"));
    QVERIFY(client.waitForMessages(1));

    // Allowed or not, a page still cannot push with a "simple" request.
    answer = exchange(server.get(),
        "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://admin.example.com\r\n"
        "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}");
    QVERIFY2(answer.startsWith("HTTP/1.1 415 "), answer.constData());
    // Another origin gets nothing, not even a preflight.
    answer = exchange(server.get(),
        "OPTIONS /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://other.example\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 403 "), answer.constData());
    QVERIFY(!answer.contains("Access-Control"));
}

void tst_HttpTrust::pushNeedsJson_data()
{
    QTest::addColumn<QByteArray>("contentType"); // empty: no Content-Type at all
    QTest::addColumn<int>("status");
    QTest::newRow("none") << QByteArray() << 415;
    QTest::newRow("text/plain") << QByteArray("text/plain") << 415;
    QTest::newRow("form") << QByteArray("application/x-www-form-urlencoded") << 415;
    QTest::newRow("multipart") << QByteArray("multipart/form-data; boundary=x") << 415;
    QTest::newRow("json-patch") << QByteArray("application/json-patch+json") << 415;
    QTest::newRow("json") << QByteArray("application/json") << 200;
    QTest::newRow("json, charset") << QByteArray("application/json; charset=utf-8") << 200;
    QTest::newRow("JSON") << QByteArray("Application/JSON") << 200;
}

void tst_HttpTrust::pushNeedsJson()
{
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));
    const QByteArray body = pushLine("1001", "x");
    QByteArray bytes = "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!contentType.isEmpty())
        bytes += "Content-Type: " + contentType + "\r\n";
    bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    const QByteArray answer = exchange(server.get(), bytes);
    QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), answer.constData());
    if (status == 415) {
        QVERIFY(answer.endsWith(R"({"error":"Content-Type must be application/json"})"));
        QVERIFY(answer.contains("\r\nAccept: application/json\r\n"));
        TextClient backend(server->textPort());
        QCOMPARE(backend.request(pushLine("1001", "probe")), QByteArray("ok\n"));
        QVERIFY(client.waitForMessages(1));
        QCOMPARE(client.messages.front(), QString::fromUtf8(pushLine("1001", "probe")));
    } else {
        QVERIFY(client.waitForMessages(1));
        QCOMPARE(client.messages.front(), QString::fromUtf8(body));
    }
}

void tst_HttpTrust::foreignHostIsRefused_data()
{
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("status");
    QTest::newRow("rebinding") << QByteArray("evil.example") << 421;
    QTest::newRow("rebinding, port") << QByteArray("evil.example:2121") << 421;
    QTest::newRow("a name not listed") << QByteArray("api.example.com") << 421;
    QTest::newRow("localhost.evil") << QByteArray("localhost.evil.example") << 421;
    QTest::newRow("not a host") << QByteArray("a b") << 400;
    QTest::newRow("empty") << QByteArray() << 400;
    QTest::newRow("bad port") << QByteArray("127.0.0.1:http") << 400;
    QTest::newRow("userinfo") << QByteArray("user@127.0.0.1") << 400;
    QTest::newRow("localhost") << QByteArray("localhost") << 200;
    QTest::newRow("LOCALHOST:port") << QByteArray("LOCALHOST:2121") << 200;
    QTest::newRow("localhost.") << QByteArray("localhost.") << 200;
    QTest::newRow("loopback") << QByteArray("127.0.0.1") << 200;
    QTest::newRow("another address") << QByteArray("10.1.2.3:80") << 200;
    QTest::newRow("IPv6") << QByteArray("[::1]:2121") << 200;
}

void tst_HttpTrust::foreignHostIsRefused()
{
    QFETCH(QByteArray, host);
    QFETCH(int, status);
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));
    const QByteArray body = pushLine("1001", "rebound");
    const QByteArray answer = exchange(server.get(),
        "POST /api/push HTTP/1.1\r\nHost: " + host
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), answer.constData());
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("1001", "probe")), QByteArray("ok\n"));
    QVERIFY(client.waitForMessages(status == 200 ? 2 : 1));
    QCOMPARE(client.messages.front(),
        QString::fromUtf8(status == 200 ? body : pushLine("1001", "probe")));
    if (status == 421) {
        QVERIFY(
            answer.contains("only IP addresses, localhost and the names given with --http-host"));
        QVERIFY(logged(server.get(), QStringLiteral("not allowed (see --http-host)")));
    }
}

void tst_HttpTrust::listedHostIsServed()
{
    Config config = loopbackConfig();
    config.httpHosts = {QStringLiteral("api.example.com")};
    auto server = startServer(config);
    QVERIFY(server);
    QByteArray answer =
        exchange(server.get(), "GET /healthz HTTP/1.1\r\nHost: API.example.com:443\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.constData());
    answer = exchange(server.get(), "GET /healthz HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 421 "), answer.constData());
    // A proxy's absolute form names the host in the target.
    answer = exchange(server.get(),
        "GET http://api.example.com/healthz HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.constData());
    answer = exchange(
        server.get(), "GET http://evil.example/healthz HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 421 "), answer.constData());
}

void tst_HttpTrust::endpointsAndTheKey_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("flag"); // a Config switch, or empty
    QTest::addColumn<int>("withoutKey");
    QTest::addColumn<int>("withKey");
    // The table in docs/protocol.md, "HTTP API".
    QTest::newRow("healthz") << QByteArray("GET") << QStringLiteral("/healthz") << QString() << 200
                             << 200;
    QTest::newRow("metrics") << QByteArray("GET") << QStringLiteral("/metrics") << QString() << 401
                             << 200;
    QTest::newRow("public metrics") << QByteArray("GET") << QStringLiteral("/metrics")
                                    << QStringLiteral("public-metrics") << 200 << 200;
    QTest::newRow("page, off") << QByteArray("GET") << QStringLiteral("/") << QString() << 404
                               << 404;
    QTest::newRow("page, on") << QByteArray("GET") << QStringLiteral("/")
                              << QStringLiteral("test-page") << 200 << 200;
    QTest::newRow("push") << QByteArray("POST") << QStringLiteral("/api/push") << QString() << 401
                          << 404;
    QTest::newRow("online") << QByteArray("GET") << QStringLiteral("/api/online") << QString()
                            << 401 << 200;
    QTest::newRow("uid") << QByteArray("GET") << QStringLiteral("/api/uids/x") << QString() << 401
                         << 404;
    QTest::newRow("disconnect") << QByteArray("DELETE") << QStringLiteral("/api/uids/x")
                                << QString() << 401 << 404;
    QTest::newRow("unknown API path")
        << QByteArray("GET") << QStringLiteral("/api/nope") << QString() << 401 << 404;
    QTest::newRow("unknown path") << QByteArray("GET") << QStringLiteral("/nope") << QString()
                                  << 404 << 404;
}

void tst_HttpTrust::endpointsAndTheKey()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QString, flag);
    QFETCH(int, withoutKey);
    QFETCH(int, withKey);
    QTemporaryFile keyFile;
    QVERIFY(keyFile.open());
    keyFile.write("k3y\n");
    keyFile.close();
    Config config = loopbackConfig();
    config.httpApiKeyFile = keyFile.fileName();
    config.httpPublicMetrics = flag == QLatin1String("public-metrics");
    config.httpTestPage = flag == QLatin1String("test-page");
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray body = method == "POST" ? pushLine("nobody", "x") : QByteArray();
    Reply r = request(method, url(server.get(), path), body);
    QCOMPARE(r.status, withoutKey);
    if (withoutKey == 401)
        QCOMPARE(r.header("WWW-Authenticate"), QByteArray("Bearer realm=\"pushconsole\""));
    if (path == QLatin1String("/healthz"))
        QCOMPARE(r.body, QByteArray(R"({"status":"ok"})")); // nothing more without the key
    r = request(method, url(server.get(), path), body, {{"Authorization", "Bearer k3y"}});
    QCOMPARE(r.status, withKey);
    if (path == QLatin1String("/healthz"))
        QVERIFY(r.json().contains(QStringLiteral("connections")));
}

void tst_HttpTrust::malformedRequestsAreRefused_data()
{
    QTest::addColumn<QByteArray>("bad");
    QTest::addColumn<int>("status");
    const QByteArray get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    const QByteArray post = "POST /api/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Type: application/json\r\n";
    QTest::newRow("obs-fold") << get + "X-A: a\r\n b\r\n\r\n" << 400;
    QTest::newRow("obs-fold, tab") << get + "X-A: a\r\n\tb\r\n\r\n" << 400;
    QTest::newRow("NUL in a value") << get + bytes("X-A: a\0b\r\n\r\n") << 400;
    QTest::newRow("NUL in the target") << bytes("GET /a\0 HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("bare CR") << get + "X-A: a\rb\r\n\r\n" << 400;
    QTest::newRow("bare LF") << QByteArray("GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n") << 400;
    QTest::newRow("DEL in a value") << get + "X-A: a\x7f\r\n\r\n" << 400;
    QTest::newRow("space before colon") << get + "X-A : a\r\n\r\n" << 400;
    QTest::newRow("no colon") << get + "X-A\r\n\r\n" << 400;
    QTest::newRow("empty name") << get + ": a\r\n\r\n" << 400;
    QTest::newRow("two Content-Length")
        << post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}" << 400;
    QTest::newRow("Content-Length list") << post + "Content-Length: 2, 2\r\n\r\n{}" << 400;
    QTest::newRow("negative length") << post + "Content-Length: -1\r\n\r\n" << 400;
    QTest::newRow("length with sign") << post + "Content-Length: +2\r\n\r\n{}" << 400;
    QTest::newRow("length not a number") << post + "Content-Length: 1e3\r\n\r\n" << 400;
    QTest::newRow("length overflow") << post + "Content-Length: 99999999999999999999999\r\n\r\n"
                                     << 400;
    QTest::newRow("length and chunked")
        << post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        << 400;
    QTest::newRow("chunked in HTTP/1.0")
        << QByteArray("POST /api/push HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        << 400;
    QTest::newRow("gzip, chunked") << post + "Transfer-Encoding: gzip, chunked\r\n\r\n" << 501;
    QTest::newRow("chunked, gzip") << post + "Transfer-Encoding: chunked, gzip\r\n\r\n" << 400;
    QTest::newRow("bad chunk size") << post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" << 400;
    QTest::newRow("chunk longer than said")
        << post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n"
        << 400;
    QTest::newRow("chunk extension junk")
        << post + "Transfer-Encoding: chunked\r\n\r\n2 x\r\n{}\r\n0\r\n\r\n"
        << 400;
    QTest::newRow("bad method") << QByteArray("G@T /healthz HTTP/1.1\r\nHost: 1.2.3.4\r\n\r\n")
                                << 400;
    QTest::newRow("two spaces") << QByteArray("GET  /healthz HTTP/1.1\r\nHost: 1.2.3.4\r\n\r\n")
                                << 400;
    QTest::newRow("lower-case version")
        << QByteArray("GET /healthz http/1.1\r\nHost: 1.2.3.4\r\n\r\n") << 400;
    QTest::newRow("no version") << QByteArray("GET /healthz\r\nHost: 1.2.3.4\r\n\r\n") << 400;
    QTest::newRow("HTTP/2.0") << QByteArray("GET /healthz HTTP/2.0\r\nHost: 1.2.3.4\r\n\r\n")
                              << 505;
    QTest::newRow("relative target")
        << QByteArray("GET healthz HTTP/1.1\r\nHost: 1.2.3.4\r\n\r\n") << 400;
    QTest::newRow("raw UTF-8 target")
        << QByteArray("GET /\xc3\xa9 HTTP/1.1\r\nHost: 1.2.3.4\r\n\r\n") << 400;
    QTest::newRow("two Host") << get + "Host: 127.0.0.1\r\n\r\n" << 400;
    QTest::newRow("no Host") << QByteArray("GET /healthz HTTP/1.1\r\n\r\n") << 400;
    // A TLS ClientHello sent to the plain port: refused at its first byte,
    // though no end of a head ever comes.
    QTest::newRow("TLS") << bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") << 400;
    QTest::newRow("too many fields") << get + QByteArray("X: y\r\n").repeated(101) + "\r\n" << 431;
}

void tst_HttpTrust::malformedRequestsAreRefused()
{
    QFETCH(QByteArray, bad);
    QFETCH(int, status);
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1001", server.get()));
    bool closed = false;
    const QByteArray answer = rawExchange(server->httpPort(), bad, nullptr, 5000, &closed);
    QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), answer.constData());
    QCOMPARE(countResponses(answer), 1);
    QVERIFY(answer.contains("\r\nConnection: close\r\n"));
    QVERIFY(answer.contains("{\"error\":\""));
    QVERIFY(closed);
    QVERIFY(logged(server.get(), QStringLiteral("HTTP API: ")));
    // Nothing was pushed, and the gateway still serves.
    const Reply r =
        request("POST", url(server.get(), QStringLiteral("/api/push")), pushLine("1001", "after"));
    QCOMPARE(r.status, 200);
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.front(), QString::fromUtf8(pushLine("1001", "after")));
}

void tst_HttpTrust::http10WithoutHostIsServed()
{
    auto server = startServer();
    QVERIFY(server);
    const QByteArray answer = exchange(server.get(), "GET /healthz HTTP/1.0\r\n\r\n");
    QVERIFY2(answer.startsWith("HTTP/1.1 200 "), answer.constData());
}

PUSHCONSOLE_TEST_MAIN(tst_HttpTrust)
#include "tst_httptrust.moc"
