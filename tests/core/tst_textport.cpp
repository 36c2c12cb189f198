#include "ClusterLink.h"
#include "ClusterSupport.h"
#include "ConfigLoader.h"
#include "EventLog.h"
#include "Metrics.h"
#include "RedisUrl.h"
#include "SessionRegistry.h"
#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"
#include "TextConnection.h"
#include "TextPushServer.h"

#include <QProcess>
#include <QSignalSpy>

#include <csignal>
#include <sys/socket.h>

using namespace ClusterSupport;
using namespace TestSupport;

namespace {

// Node a is a PushServer in this process, node b a bare ClusterLink that
// holds uid "remote" and records what is published to it; both on a Redis
// of their own that a test can freeze (SIGSTOP), so that replies are
// pending for as long as it likes, or kill.
struct TwoNodes
{
    RedisServer redis;
    std::unique_ptr<PushServer> a;
    SessionRegistry registryB;
    EventLog logB;
    Metrics metricsB;
    std::unique_ptr<ClusterLink> b;
    QList<QByteArray> atB; // lines published to b, in order
    qint64 pid = 0;

    ~TwoNodes()
    {
        thaw();
        b.reset();
        a.reset();
    }

    bool start(Config config = loopbackConfig())
    {
        if (!redis.start())
            return false;
        pid = redis.processId();
        config.redisUrl = redis.url();
        config.nodeId = QStringLiteral("a");
        // Longer than any freeze in these tests.
        config.redisTimeoutMs = 8000;
        a = startServer(config);
        if (!a)
            return false;
        ClusterLink::Options o;
        o.url = RedisUrl::parse(redis.url());
        o.nodeId = "b";
        o.timeoutMs = 8000;
        b = std::make_unique<ClusterLink>(o, &registryB, &logB, &metricsB);
        b->setPushHandler([this](const QByteArray &, const QByteArray &line) { atB.append(line); });
        b->start();
        if (!waitFor([&] { return b->isUp(); }, 10000))
            return false;
        // What a bind does; no socket needed on b.
        Q_EMIT registryB.uidOnline("remote");
        return waitFor([&] { return a->cluster()->nodesHolding("remote") != 0; }, 10000);
    }
    void freeze() { ::kill(pid_t(pid), SIGSTOP); }
    void thaw()
    {
        if (pid)
            ::kill(pid_t(pid), SIGCONT);
    }
    void killRedis()
    {
        ::kill(pid_t(pid), SIGKILL);
        pid = 0;
    }
};

} // namespace

// The push port under attack and faults: web pages, slow and silent
// peers, and replies that wait for Redis (pipelined, cut off, capped).
class tst_TextPort : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void looksLikeHttp_data();
    void looksLikeHttp();
    void browserRequestIsRefused_data();
    void browserRequestIsRefused();
    void curlPostIsRefused();
    void timeoutOptions();
    void idleConnectionIsClosed();
    void slowlorisLineTimesOut();

    void pendingRepliesKeepOrder();
    void halfClosedBackendGetsItsReplies();
    void backendGoneWhilePending();
    void redisDiesWhileRepliesPend();
    void maxPendingRepliesCountsPending();
    void idleTimeoutWaitsForPending();
    void publishesInFlightAreCapped();
    void storesInFlightAreCapped();

private:
    // Pushes a probe to uid through a fresh backend and waits for it: every
    // push made before it to that client has arrived by then.
    static bool probe(PushServer *server, WsClient &client, const QByteArray &uid);
};

bool tst_TextPort::probe(PushServer *server, WsClient &client, const QByteArray &uid)
{
    const qsizetype before = client.messages.size();
    TextClient backend(server->textPort());
    if (backend.request(pushLine(uid, "probe")) != "ok\n")
        return false;
    return client.waitForMessages(int(before) + 1)
        && client.messages.back() == QString::fromUtf8(pushLine(uid, "probe"));
}

void tst_TextPort::looksLikeHttp_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("http");
    QTest::newRow("POST") << QByteArray("POST / HTTP/1.1") << true;
    QTest::newRow("GET") << QByteArray("GET /?{\"uid\":\"*\"} HTTP/1.1") << true;
    QTest::newRow("lower case") << QByteArray("post /x HTTP/1.0") << true;
    for (const char *m : {"PUT", "HEAD", "OPTIONS", "DELETE", "PATCH", "CONNECT", "TRACE"})
        QTest::newRow(m) << QByteArray(m) + " / HTTP/1.1" << true;
    QTest::newRow("Host") << QByteArray("Host: 127.0.0.1:5678") << true;
    QTest::newRow("Content-Type") << QByteArray("Content-Type: text/plain") << true;
    QTest::newRow("x-header") << QByteArray("X-Requested-With:fetch") << true;
    QTest::newRow("push") << QByteArray(R"({"uid":"Host:","msg":"POST / HTTP/1.1"})") << false;
    QTest::newRow("spaces then push") << QByteArray(R"(  {"uid":"1"})") << false;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("word") << QByteArray("x") << false;
    QTest::newRow("GETS") << QByteArray("GETS x") << false;
    QTest::newRow("json array") << QByteArray(R"(["Host: x"])") << false;
}

void tst_TextPort::looksLikeHttp()
{
    QFETCH(QByteArray, line);
    QTEST(TextConnection::looksLikeHttp(line), "http");
}

void tst_TextPort::browserRequestIsRefused_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("executed"); // what ran before it, if anything
    // What fetch("http://127.0.0.1:5678/", {method: "POST", mode: "no-cors",
    // body}) sends: a "simple" request, no preflight.
    QTest::newRow("fetch POST") << QByteArray("POST / HTTP/1.1\r\n"
                                              "Host: 127.0.0.1:5678\r\n"
                                              "Connection: keep-alive\r\n"
                                              "Content-Length: 60\r\n"
                                              "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                                              "Content-Type: text/plain;charset=UTF-8\r\n"
                                              "Accept: */*\r\n"
                                              "Origin: http://evil.example\r\n"
                                              "Referer: http://evil.example/\r\n"
                                              "\r\n")
                                << QByteArray();
    QTest::newRow("GET") << QByteArray("GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")
                         << QByteArray();
    // A line that is a header field alone, after a real push on the same
    // connection: the push stands, nothing after the header runs.
    QTest::newRow("header after a push") << QByteArray(R"({"uid":"victim","msg":"legit"})"
                                                       "\nHost: 127.0.0.1\r\n")
                                         << QByteArray(R"({"uid":"victim","msg":"legit"})");
}

void tst_TextPort::browserRequestIsRefused()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, executed);
    auto server = startServer();
    QVERIFY(server);
    WsClient victim(server->wsPort());
    QVERIFY(victim.bind("victim", server.get()));
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);

    QTcpSocket browser;
    browser.connectToHost(QHostAddress::LocalHost, server->textPort());
    WAIT_COMPARE(browser.state(), QAbstractSocket::ConnectedState);
    const QString peer = QStringLiteral("127.0.0.1:%1").arg(browser.localPort());
    // The body a page controls: pushes, each on its own line.
    browser.write(head
        + R"({"uid":"*","msg":"from a web page"})"
          "\n"
          R"({"uid":"victim","msg":"again"})"
          "\n");
    WAIT_COMPARE(browser.state(), QAbstractSocket::UnconnectedState);
    if (executed.isEmpty())
        QCOMPARE(browser.readAll(), QByteArray()); // not a byte a page could read
    QCOMPARE(server->metrics().refusedTextHttp, quint64(1));
    QCOMPARE(server->textServer()->connectionCount(), 0);

    QVERIFY(probe(server.get(), victim, "victim"));
    QStringList expected;
    if (!executed.isEmpty())
        expected << QString::fromUtf8(executed);
    expected << QString::fromUtf8(pushLine("victim", "probe"));
    QCOMPARE(QStringList(victim.messages), expected);

    bool logged = false;
    for (const auto &args : std::as_const(events)) {
        const Event e = args.front().value<Event>();
        logged = logged
            || (e.type == Event::Type::Rejected && e.level == Event::Level::Warning
                && e.peer == peer && e.englishDetail().contains(QLatin1String("HTTP")));
    }
    QVERIFY2(logged, qPrintable(peer));
}

void tst_TextPort::curlPostIsRefused()
{
    REQUIRE_PROGRAM("curl");
    const QString curl = programPath(QStringLiteral("curl"));
    auto server = startServer();
    QVERIFY(server);
    WsClient victim(server->wsPort());
    QVERIFY(victim.bind("victim", server.get()));
    QProcess p;
    p.start(curl,
        {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("10"),
            QStringLiteral("-o"), QStringLiteral("-"), QStringLiteral("-w"),
            QStringLiteral("%{http_code}"), QStringLiteral("--data"),
            QStringLiteral("{\"uid\":\"*\",\"msg\":\"curl\"}\n{\"uid\":\"victim\"}\n"),
            QStringLiteral("http://127.0.0.1:%1/").arg(server->textPort())});
    WAIT_COMPARE(p.state(), QProcess::NotRunning, 15000);
    QCOMPARE(p.exitCode(), 56); // CURLE_RECV_ERROR: reset, not a byte of an answer
    QCOMPARE(p.readAllStandardOutput(), QByteArray("000"));
    QCOMPARE(server->metrics().refusedTextHttp, quint64(1));
    QVERIFY(probe(server.get(), victim, "victim"));
    QCOMPARE(
        QStringList(victim.messages), QStringList {QString::fromUtf8(pushLine("victim", "probe"))});
}

void tst_TextPort::timeoutOptions()
{
    const auto load = [](const QStringList &args) {
        return ConfigLoader::load(QStringList {QStringLiteral("pushconsole")} + args);
    };
    ConfigLoader::Result r = load({});
    QCOMPARE(r.config.textIdleTimeoutMs, 5 * 60 * 1000);
    QCOMPARE(r.config.textLineTimeoutMs, 30 * 1000);
    r = load({QStringLiteral("--text-idle-timeout=0"), QStringLiteral("--text-line-timeout=0")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.textIdleTimeoutMs, 0);
    QCOMPARE(r.config.textLineTimeoutMs, 0);
    r = load({QStringLiteral("--text-idle-timeout=1h"), QStringLiteral("--text-line-timeout=5")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail); // no hours: 60m
    r = load({QStringLiteral("--text-idle-timeout=60m"), QStringLiteral("--text-line-timeout=5")});
    QCOMPARE(r.config.textIdleTimeoutMs, 60 * 60 * 1000);
    QCOMPARE(r.config.textLineTimeoutMs, 5000);
    r = load({QStringLiteral("--text-line-timeout=50ms")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(r.error.contains(QStringLiteral("--text-line-timeout: invalid value")),
        qPrintable(r.error));
}

void tst_TextPort::idleConnectionIsClosed()
{
    Config config = loopbackConfig();
    config.textIdleTimeoutMs = 400;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    TextClient busy(server->textPort());
    TextClient silent(server->textPort());
    QCOMPARE(silent.request(R"({"uid":"x"})"), QByteArray("fail\n"));
    // One that keeps pushing stays, however long it lasts: it pushes every
    // quarter of the timeout until the silent one is closed.
    QElapsedTimer clock;
    clock.start();
    const auto silentGone = [&] {
        return silent.socket().state() == QAbstractSocket::UnconnectedState;
    };
    while (!waitFor(silentGone, int(config.textIdleTimeoutMs / 4))) {
        QCOMPARE(busy.request(R"({"uid":"x"})"), QByteArray("fail\n"));
        QVERIFY2(clock.elapsed() < 5000, "the silent connection was never closed");
    }
    QVERIFY(clock.elapsed() >= config.textIdleTimeoutMs - 100);
    QVERIFY(busy.isConnected());
    QCOMPARE(server->metrics().textIdleTimeouts, quint64(1));
    bool logged = false;
    for (const auto &args : std::as_const(events)) {
        const Event e = args.front().value<Event>();
        logged = logged
            || (e.type == Event::Type::Closed
                && e.englishDetail().contains(QLatin1String("--text-idle-timeout")));
    }
    QVERIFY(logged);
    QVERIFY(busy.waitForDisconnected(5000)); // its turn once it stops
}

void tst_TextPort::slowlorisLineTimesOut()
{
    Config config = loopbackConfig();
    config.textLineTimeoutMs = 500;
    config.maxTextConnections = 1;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    // One byte at a time, never a line end: it is never idle, and holds the
    // only push slot.
    TextClient loris(server->textPort());
    loris.send("{");
    WAIT_COMPARE(server->textServer()->connectionCount(), 1);
    QVERIFY(isRefused(server->textPort()));
    QElapsedTimer clock;
    clock.start();
    QList<QByteArray> lines;
    const auto readReplies = [&] {
        while (loris.socket().canReadLine())
            lines += loris.socket().readLine();
    };
    // A byte every fifth of the line timeout until the server hangs up.
    while (loris.isConnected() && clock.elapsed() < 5000) {
        loris.send("\"");
        waitFor([&] { return !loris.isConnected(); }, int(config.textLineTimeoutMs / 5));
        readReplies();
    }
    QVERIFY(loris.waitForDisconnected());
    readReplies();
    QCOMPARE(lines, QList<QByteArray> {"error: line timeout\n"});
    QVERIFY2(clock.elapsed() >= 400, QByteArray::number(clock.elapsed()).constData());
    QCOMPARE(server->metrics().textLineTimeouts, quint64(1));
    bool logged = false;
    for (const auto &args : std::as_const(events)) {
        const Event e = args.front().value<Event>();
        logged = logged
            || (e.type == Event::Type::Closed && e.level == Event::Level::Warning
                && e.englishDetail().contains(QLatin1String("--text-line-timeout")));
    }
    QVERIFY(logged);
    // The slot is free again; whole lines sent slowly are fine: four, over
    // longer than the line timeout (time passing is the point).
    WAIT_COMPARE(server->textServer()->connectionCount(), 0);
    TextClient backend(server->textPort());
    for (int i = 0; i < 4; ++i) {
        QTest::qWait(int(config.textLineTimeoutMs * 2 / 5));
        QCOMPARE(backend.request(R"({"uid":"x"})"), QByteArray("fail\n"));
    }
    QVERIFY(backend.isConnected());
    QCOMPARE(server->metrics().textLineTimeouts, quint64(1));
}

void tst_TextPort::pendingRepliesKeepOrder()
{
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start());
    WsClient local(c.a->wsPort());
    QVERIFY(local.bind("local", c.a.get()));
    TextClient backend(c.a->textPort());
    QCOMPARE(backend.request(pushLine("remote", "0")), QByteArray("ok\n"));

    c.freeze();
    const QList<QPair<QByteArray, QByteArray>> lines = {
        {pushLine("remote", "1"), "ok\n"},
        {pushLine("local", "2"), "ok\n"},
        {pushLine("nobody", "x"), "fail\n"},
        {R"({"uid":["local","remote"],"msg":"3"})", "ok\n"},
        {R"({"uid":)", "error: invalid JSON at offset 7: unexpected end\n"},
        {R"({"uid":"*","msg":"4"})", "ok\n"},
        {pushLine("remote", "5"), "ok\n"},
        {pushLine("local", "6"), "ok\n"},
    };
    QByteArray batch;
    QList<QByteArray> expected;
    for (const auto &[line, reply] : lines) {
        batch += line + '\n';
        expected << reply;
    }
    backend.send(batch);
    // The local parts went out at once, so every line was handled; their
    // replies wait behind the first one, which waits for Redis.
    QVERIFY(local.waitForMessages(4));
    QVERIFY(nothingArrived(backend.socket()));
    c.thaw();
    QCOMPARE(backend.readLines(int(expected.size())), expected);
    WAIT_COMPARE(c.atB.size(), 5);
    QCOMPARE(c.atB,
        QList<QByteArray>({pushLine("remote", "0"), pushLine("remote", "1"),
            R"({"uid":["local","remote"],"msg":"3"})", R"({"uid":"*","msg":"4"})",
            pushLine("remote", "5")}));
}

void tst_TextPort::halfClosedBackendGetsItsReplies()
{
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start());
    WsClient local(c.a->wsPort());
    QVERIFY(local.bind("local", c.a.get()));
    TextClient backend(c.a->textPort());
    c.freeze();
    backend.send(pushLine("remote", "1") + '\n' + pushLine("local", "2") + '\n'
        + pushLine("remote", "3") + '\n');
    QVERIFY(local.waitForMessages(1));
    // Like `nc -N` or a backend that shuts down its sending side and reads.
    QCOMPARE(::shutdown(int(backend.socket().socketDescriptor()), SHUT_WR), 0);
    // The end of stream is in the server's kernel buffer now; a round trip
    // on another connection lets the server see it while Redis still waits.
    QVERIFY(probe(c.a.get(), local, "local"));
    c.thaw();
    QCOMPARE(backend.readLines(3), QList<QByteArray>({"ok\n", "ok\n", "ok\n"}));
    QVERIFY(backend.waitForDisconnected()); // then the server hangs up
    WAIT_COMPARE(c.a->textServer()->connectionCount(), 0);
}

void tst_TextPort::backendGoneWhilePending()
{
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start());
    WsClient local(c.a->wsPort());
    QVERIFY(local.bind("local", c.a.get()));
    c.freeze();
    {
        TextClient closes(c.a->textPort()), resets(c.a->textPort());
        closes.send(pushLine("remote", "closes") + '\n' + pushLine("local", "1") + '\n');
        resets.send(pushLine("remote", "resets") + '\n' + pushLine("local", "2") + '\n');
        QVERIFY(local.waitForMessages(2));
        closes.socket().disconnectFromHost();
        resets.socket().abort();
    }
    c.thaw();
    // The pushes were made all the same; the answers find no one, harmlessly.
    WAIT_COMPARE(c.atB.size(), 2);
    WAIT_COMPARE(c.a->textServer()->connectionCount(), 0);
    TextClient backend(c.a->textPort());
    QCOMPARE(backend.request(pushLine("remote", "after")), QByteArray("ok\n"));
    QCOMPARE(backend.request(pushLine("local", "after")), QByteArray("ok\n"));
}

void tst_TextPort::redisDiesWhileRepliesPend()
{
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start());
    WsClient local(c.a->wsPort());
    QVERIFY(local.bind("local", c.a.get()));
    TextClient backend(c.a->textPort());
    c.freeze();
    backend.send(pushLine("remote", "1") + '\n' + pushLine("local", "2") + '\n'
        + pushLine("remote", "3") + '\n' + pushLine("nobody", "4") + '\n'
        + R"({"uid":["local","remote"]})" + '\n' + pushLine("local", "5") + '\n');
    QVERIFY(local.waitForMessages(3));
    QVERIFY(nothingArrived(backend.socket()));
    c.killRedis();
    // No node received them: fail, each in its place.
    QCOMPARE(backend.readLines(6, 10000),
        QList<QByteArray>({"fail\n", "ok\n", "fail\n", "fail\n", "ok\n", "ok\n"}));
    WAIT_VERIFY(!c.a->cluster()->isUp());
    QCOMPARE(backend.request(pushLine("remote", "6")), QByteArray("fail\n"));
    QCOMPARE(backend.request(pushLine("local", "7")), QByteArray("ok\n"));
}

void tst_TextPort::maxPendingRepliesCountsPending()
{
    Config config = loopbackConfig();
    config.maxPendingReplies = 10;
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start(config));
    TextClient backend(c.a->textPort());
    QCOMPARE(backend.request(pushLine("remote", "warm")), QByteArray("ok\n"));
    c.freeze();
    const quint64 sent = c.a->metrics().clusterSent;
    QByteArray batch;
    constexpr int Lines = 100;
    for (int i = 0; i < Lines; ++i)
        batch += pushLine("remote", QByteArray::number(i)) + '\n';
    backend.send(batch); // one write: one read on the server's side
    WAIT_COMPARE_GE(c.a->metrics().clusterSent - sent, 10);
    // That read held 100 lines: the ten that fill the limit were handled,
    // the rest wait (unparsed) for replies to leave.
    QCOMPARE(c.a->metrics().clusterSent - sent, quint64(10));
    QVERIFY(c.a->cluster()->publishBytesInFlight() > 0);
    c.thaw();
    const QList<QByteArray> replies = backend.readLines(Lines, 15000);
    QCOMPARE(replies.size(), Lines);
    QCOMPARE(replies.count("ok\n"), Lines);
    WAIT_COMPARE(c.atB.size(), Lines + 1);
    for (int i = 0; i < Lines; ++i)
        QCOMPARE(c.atB[i + 1], pushLine("remote", QByteArray::number(i)));
    QCOMPARE(c.a->metrics().clusterSent - sent, quint64(Lines));
}

void tst_TextPort::idleTimeoutWaitsForPending()
{
    Config config = loopbackConfig();
    config.textIdleTimeoutMs = 300;
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start(config));
    TextClient backend(c.a->textPort());
    c.freeze();
    backend.send(pushLine("remote", "slow") + '\n');
    WAIT_VERIFY(c.a->metrics().clusterSent >= 1);
    // Past the idle timeout (several sweeps) while Redis keeps the reply
    // waiting: time passing is the point. Not closed meanwhile.
    QTest::qWait(int(config.textIdleTimeoutMs) * 3);
    QVERIFY(backend.isConnected());
    QCOMPARE(c.a->metrics().textIdleTimeouts, quint64(0));
    c.thaw();
    // Still open: the reply arrives.
    QCOMPARE(backend.readLines(1), QList<QByteArray> {"ok\n"});
    QVERIFY(backend.waitForDisconnected()); // idle from then on
    QCOMPARE(c.a->metrics().textIdleTimeouts, quint64(1));
}

void tst_TextPort::publishesInFlightAreCapped()
{
    Config config = loopbackConfig();
    config.clusterMaxInFlight = 16 * 1024;
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start(config));
    QSignalSpy events(c.a->eventLog(), &EventLog::eventAdded);
    TextClient backend(c.a->textPort());
    c.freeze();
    // Each holds 2 x 3 KiB + overhead until Redis answers: two fit.
    QByteArray batch;
    constexpr int Lines = 6;
    for (int i = 0; i < Lines; ++i)
        batch += pushLine("remote", QByteArray(3000, char('a' + i))) + '\n';
    backend.send(batch);
    WAIT_COMPARE(c.a->metrics().clusterPublishRefused, Lines - 2);
    QVERIFY(c.a->cluster()->publishBytesInFlight() <= config.clusterMaxInFlight);
    QVERIFY(c.a->cluster()->publishBytesInFlight() > 0);
    c.thaw();
    QCOMPARE(backend.readLines(Lines),
        QList<QByteArray>({"ok\n", "ok\n", "fail\n", "fail\n", "fail\n", "fail\n"}));
    WAIT_COMPARE(c.a->cluster()->publishBytesInFlight(), 0);
    WAIT_COMPARE(c.atB.size(), 2);
    bool logged = false;
    for (const auto &args : std::as_const(events)) {
        const Event e = args.front().value<Event>();
        logged = logged
            || (e.type == Event::Type::Cluster && e.level == Event::Level::Warning
                && e.englishDetail().contains(QLatin1String("publish=refused")));
    }
    QVERIFY(logged);
    // Room again once answered.
    QCOMPARE(backend.request(pushLine("remote", "after")), QByteArray("ok\n"));
}

void tst_TextPort::storesInFlightAreCapped()
{
    // The offline store's commands hold the payload too, once per uid: an
    // array push to many offline uids while Redis hangs must stay within
    // the same cap, and answer fail rather than queued for what did not fit.
    Config config = loopbackConfig();
    config.clusterMaxInFlight = 64 * 1024;
    config.offlineTtlMs = 60 * 1000;
    REQUIRE_PROGRAM("redis-server");
    TwoNodes c;
    QVERIFY(c.start(config));
    TextClient backend(c.a->textPort());
    QCOMPARE(backend.request(pushLine("away", "warm")), QByteArray("queued\n"));
    c.freeze();
    QByteArray uids;
    constexpr int Uids = 200;
    for (int i = 0; i < Uids; ++i)
        uids += (i ? ",\"u" : "\"u") + QByteArray::number(i) + '"';
    // 200 x (4 KiB payload + the script): about 1.3 MiB without the cap.
    backend.send(R"({"uid":[)" + uids + R"(],"msg":")" + QByteArray(4000, 'x') + "\"}\n");
    WAIT_VERIFY(c.a->metrics().offlineStoreErrors > 0);
    QVERIFY2(c.a->cluster()->publishBytesInFlight() <= config.clusterMaxInFlight,
        QByteArray::number(c.a->cluster()->publishBytesInFlight()).constData());
    QVERIFY(c.a->cluster()->publishBytesInFlight() > 0);
    c.thaw();
    // Stored for some uids only: a fail the backend may retry, never queued.
    QCOMPARE(backend.readLines(1, 10000), QList<QByteArray> {"fail\n"});
    WAIT_COMPARE(c.a->cluster()->publishBytesInFlight(), 0);
    QCOMPARE(backend.request(pushLine("away", "after")), QByteArray("queued\n"));
}

PUSHCONSOLE_TEST_MAIN(tst_TextPort)
#include "tst_textport.moc"
