#include "ClusterSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTemporaryDir>
#include <QUrl>
#include <QWebSocketHandshakeOptions>

using namespace ClusterSupport;
using namespace TestSupport;

// Several real gateways sharing one real Redis, driven end to end through
// their ports, as operators run them.
class tst_Cluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void pushReachesClientOnAnotherNode();
    void uidOnTwoNodesReceivesOnBoth();
    void arrayAndBroadcastAcrossNodes();
    void killedNodeExpires();
    void gracefulStopLeavesAtOnce();
    void redisOutage();
    void lostSubscriptionWithdrawsAtOnce();
    void passwordFile();
    void badRedisUrlFailsClearly();
    void kickAndAdminStreamAcrossNodes();

private:
    QStringList nodeArgs(const QByteArray &id, const QStringList &extra = {}) const;
    // Pushes until the reply is `expected` (presence takes a moment to
    // spread); returns the last reply.
    static QByteArray pushUntil(
        quint16 textPort, const QByteArray &line, const QByteArray &expected, int timeoutMs = 5000);

    std::unique_ptr<RedisServer> m_redis;
};

void tst_Cluster::init()
{
    REQUIRE_PROGRAM("redis-server");
    m_redis = std::make_unique<RedisServer>();
    QVERIFY(m_redis->start());
}

void tst_Cluster::cleanup()
{
    m_redis.reset();
}

QStringList tst_Cluster::nodeArgs(const QByteArray &id, const QStringList &extra) const
{
    QStringList args = {QStringLiteral("--redis=%1").arg(m_redis->url()),
        QStringLiteral("--node-id=%1").arg(QString::fromUtf8(id)),
        QStringLiteral("--redis-timeout=1s")};
    return args + extra;
}

QByteArray tst_Cluster::pushUntil(
    quint16 textPort, const QByteArray &line, const QByteArray &expected, int timeoutMs)
{
    QByteArray reply;
    waitFor(
        [&] {
            TextClient backend(textPort);
            reply = backend.request(line);
            return reply == expected;
        },
        timeoutMs);
    return reply;
}

void tst_Cluster::pushReachesClientOnAnotherNode()
{
    Gateway a, b;
    // One node on each event dispatcher.
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b", {QStringLiteral("--event-loop=default")})));
    QVERIFY2(a.output().contains(" node=a redis=redis://127.0.0.1:"), a.output().constData());
    WAIT_VERIFY2(b.output().contains("cluster state=up node=b"), b.output().right(1500));

    WsClient rider(b.wsPort());
    QVERIFY(rider.bind("1001"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("1001", "lock closed"), "ok\n"), QByteArray("ok\n"));
    QVERIFY(rider.waitForMessages(1));
    QCOMPARE(rider.messages.front(), QString::fromUtf8(pushLine("1001", "lock closed")));

    // Pipelined on one connection: replies in order, messages in order.
    TextClient backend(a.textPort());
    QByteArray batch;
    for (int i = 0; i < 50; ++i)
        batch += pushLine(i % 2 ? "1001" : "nobody", QByteArray::number(i)) + '\n';
    backend.send(batch);
    const QList<QByteArray> replies = backend.readLines(50);
    QCOMPARE(replies.size(), 50);
    for (int i = 0; i < 50; ++i)
        QCOMPARE(replies[i], QByteArray(i % 2 ? "ok\n" : "fail\n"));
    QVERIFY(rider.waitForMessages(26));
    for (int i = 0; i < 25; ++i)
        QCOMPARE(rider.messages[1 + i],
            QString::fromUtf8(pushLine("1001", QByteArray::number(2 * i + 1))));

    // Presence is in Redis: node b holds 1001.
    QVERIFY(m_redis->command({"SISMEMBER", "pushconsole:node:b:uids", "1001"}) == ":1\r\n");
    rider.socket.close();
    QCOMPARE(pushUntil(a.textPort(), pushLine("1001", "gone"), "fail\n"), QByteArray("fail\n"));
    QCOMPARE(m_redis->integer({"SCARD", "pushconsole:node:b:uids"}), 0);
}

void tst_Cluster::uidOnTwoNodesReceivesOnBoth()
{
    Gateway a, b, c;
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b")));
    QVERIFY(c.start(nodeArgs("c")));
    WsClient onA(a.wsPort()), onB(b.wsPort());
    QVERIFY(onA.bind("7"));
    QVERIFY(onB.bind("7"));
    // Wait until c sees the uid on both nodes: a push that reaches both.
    WAIT_UNTIL(
        [&] {
            pushUntil(c.textPort(), pushLine("7", "probe"), "ok\n");
            return onA.messages.contains(QString::fromUtf8(pushLine("7", "probe")))
                && onB.messages.contains(QString::fromUtf8(pushLine("7", "probe")));
        },
        onA.messages + onB.messages);
    onA.messages.clear();
    onB.messages.clear();

    // From a third node: one reply, one copy on each.
    TextClient backend(c.textPort());
    QCOMPARE(backend.request(pushLine("7", "both")), QByteArray("ok\n"));
    // From a node that holds it too: local delivery plus the other node.
    TextClient backendA(a.textPort());
    QCOMPARE(backendA.request(pushLine("7", "again")), QByteArray("ok\n"));
    QVERIFY(onA.waitForMessages(2));
    QVERIFY(onB.waitForMessages(2));
    // No duplicates trailing behind: a probe from c reaches both after them.
    QVERIFY(probe(c.textPort(), onA, "7"));
    QVERIFY(onB.waitForMessages(3));
    const QStringList expected = {QString::fromUtf8(pushLine("7", "both")),
        QString::fromUtf8(pushLine("7", "again")), probeMessage("7")};
    QCOMPARE(QStringList(onA.messages), expected);
    QCOMPARE(QStringList(onB.messages), expected);
}

void tst_Cluster::arrayAndBroadcastAcrossNodes()
{
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b")));
    WsClient x(a.wsPort()), y(b.wsPort()), z(b.wsPort());
    QVERIFY(x.bind("x"));
    QVERIFY(y.bind("y"));
    QVERIFY(z.bind("z"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("z", "hello"), "ok\n"), QByteArray("ok\n"));
    QVERIFY(z.waitForMessages(1));

    // One publish to b carries both of its uids; each receives once.
    const QByteArray array = R"({"uid":["x","y","z","nobody"],"msg":"array"})";
    TextClient backend(a.textPort());
    QCOMPARE(backend.request(array), QByteArray("ok\n"));
    QVERIFY(x.waitForMessages(1));
    QVERIFY(y.waitForMessages(1));
    QVERIFY(z.waitForMessages(2));

    const QByteArray everyone = R"({"uid":"*","msg":"all"})";
    TextClient backendB(b.textPort());
    QCOMPARE(backendB.request(everyone), QByteArray("ok\n"));
    QVERIFY(probe(a.textPort(), x, "x"));
    QVERIFY(probe(a.textPort(), y, "y"));
    QVERIFY(probe(a.textPort(), z, "z"));
    QCOMPARE(x.messages,
        QList<QString>({QString::fromUtf8(array), QString::fromUtf8(everyone), probeMessage("x")}));
    QCOMPARE(y.messages,
        QList<QString>({QString::fromUtf8(array), QString::fromUtf8(everyone), probeMessage("y")}));
    QCOMPARE(z.messages,
        QList<QString>({QString::fromUtf8(pushLine("z", "hello")), QString::fromUtf8(array),
            QString::fromUtf8(everyone), probeMessage("z")}));

    // A broadcast is ok when only another node has clients.
    x.socket.close();
    WAIT_VERIFY(x.disconnected);
    QCOMPARE(pushUntil(a.textPort(), pushLine("x", "gone"), "fail\n"), QByteArray("fail\n"));
    TextClient backendA(a.textPort());
    QCOMPARE(backendA.request(everyone), QByteArray("ok\n"));
    QVERIFY(y.waitForMessages(3));
}

void tst_Cluster::killedNodeExpires()
{
    // A short TTL so that the test waits seconds, not the default 15.
    const QStringList ttl = {QStringLiteral("--cluster-ttl=2s")};
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a", ttl)));
    QVERIFY(b.start(nodeArgs("b", ttl)));
    WsClient rider(b.wsPort());
    QVERIFY(rider.bind("42"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("42", "before"), "ok\n"), QByteArray("ok\n"));

    QElapsedTimer clock;
    clock.start();
    b.kill(); // SIGKILL: no goodbye
    // a still lists b's uid until the TTL runs out, but "ok" needs a node
    // that received the publish, and b's subscription died with it: the
    // very next push is a fail, not one answered ok and lost.
    TextClient backend(a.textPort());
    QCOMPARE(backend.request(pushLine("42", "after")), QByteArray("fail\n"));
    QVERIFY2(clock.elapsed() < 1000, QByteArray::number(clock.elapsed()).constData());
    // Reaped in Redis within the TTL (2 s, checked every tick).
    WAIT_VERIFY(m_redis->integer({"EXISTS", "pushconsole:node:b", "pushconsole:node:b:uids"}) == 0
            && m_redis->integer({"SISMEMBER", "pushconsole:nodes", "b"}) == 0,
        8000);
    const qint64 took = clock.elapsed();
    QVERIFY2(took >= 1000 && took < 6000, QByteArray::number(took).constData());
    QCOMPARE(m_redis->integer({"SISMEMBER", "pushconsole:nodes", "a"}), 1);
}

void tst_Cluster::gracefulStopLeavesAtOnce()
{
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b")));
    WsClient rider(b.wsPort());
    QVERIFY(rider.bind("42"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("42", "before"), "ok\n"), QByteArray("ok\n"));
    QElapsedTimer clock;
    clock.start();
    b.terminate();
    // The default TTL is 15 s; leaving says so at once.
    QCOMPARE(
        pushUntil(a.textPort(), pushLine("42", "after"), "fail\n", 5000), QByteArray("fail\n"));
    QVERIFY(clock.elapsed() < 5000);
    QCOMPARE(m_redis->integer({"EXISTS", "pushconsole:node:b"}), 0);

    // Without clients the process exits at once: the leave still goes out.
    Gateway c;
    QVERIFY(c.start(nodeArgs("c")));
    WAIT_VERIFY2(c.output().contains("cluster state=up node=c"), c.output().right(1500));
    QCOMPARE(m_redis->integer({"EXISTS", "pushconsole:node:c"}), 1);
    c.terminate();
    QVERIFY(!c.isRunning());
    QCOMPARE(m_redis->integer({"EXISTS", "pushconsole:node:c"}), 0);
    QCOMPARE(m_redis->integer({"SISMEMBER", "pushconsole:nodes", "c"}), 0);
}

void tst_Cluster::redisOutage()
{
    const QStringList ttl = {QStringLiteral("--cluster-ttl=3s")};
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a", ttl)));
    QVERIFY(b.start(nodeArgs("b", ttl)));
    WsClient local(a.wsPort()), remote(b.wsPort());
    QVERIFY(local.bind("local"));
    QVERIFY(remote.bind("remote"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("remote", "r0"), "ok\n"), QByteArray("ok\n"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("local", "l0"), "ok\n"), QByteArray("ok\n"));

    m_redis->stop();
    WAIT_VERIFY2(a.output().contains("warning cluster state=down node=a"), a.output().right(1500));
    WAIT_VERIFY2(b.output().contains("warning cluster state=down node=b"), b.output().right(1500));

    // Through the outage: local pushes never fail; remote ones cannot be
    // routed and say so. The outage lasts two and a half --redis-timeout,
    // so that reconnect attempts come and fail meanwhile: time passing is
    // the point, with a push every 20 ms.
    TextClient backend(a.textPort());
    int localPushes = 0;
    QElapsedTimer outage;
    outage.start();
    while (outage.elapsed() < 2500) {
        QCOMPARE(backend.request(pushLine("local", "during")), QByteArray("ok\n"));
        ++localPushes;
        QTest::qWait(20);
    }
    QCOMPARE(backend.request(pushLine("remote", "during")), QByteArray("fail\n"));
    // Clients that bind during the outage are registered on reconnect.
    WsClient late(b.wsPort());
    QVERIFY(late.bind("late"));
    QVERIFY(b.waitUntilBound("late"));

    QVERIFY(m_redis->start()); // on its port again, empty: it kept nothing
    // Cross-node pushes resume once both nodes re-registered.
    QCOMPARE(
        pushUntil(a.textPort(), pushLine("remote", "after"), "ok\n", 15000), QByteArray("ok\n"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("late", "after"), "ok\n", 5000), QByteArray("ok\n"));
    QCOMPARE(backend.request(pushLine("local", "after")), QByteArray("ok\n"));
    QVERIFY(remote.waitForMessages(2));
    QVERIFY(late.waitForMessages(1));
    QVERIFY(local.waitForMessages(localPushes + 2));
    WAIT_VERIFY2(a.output().contains("info cluster state=up node=a"), a.output().right(1500));
    QCOMPARE(m_redis->integer({"SISMEMBER", "pushconsole:node:b:uids", "late"}), 1);
    QCOMPARE(m_redis->integer({"SISMEMBER", "pushconsole:node:b:uids", "remote"}), 1);
}

void tst_Cluster::lostSubscriptionWithdrawsAtOnce()
{
    // The default TTL (15 s): what happens within a second is not expiry.
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b")));
    WsClient rider(b.wsPort());
    QVERIFY(rider.bind("42"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("42", "before"), "ok\n"), QByteArray("ok\n"));

    // Cut b's subscription alone and keep it from coming back: Redis
    // refuses new connections while the ones up stay (this one too).
    RedisConnection admin(m_redis->port());
    QVERIFY(admin.isConnected());
    const QList<QByteArray> clients = admin.command({"CLIENT", "LIST"}).split('\n');
    QByteArray subscription;
    int open = 0;
    for (const QByteArray &c : clients) {
        if (!c.contains("id="))
            continue;
        ++open;
        if (c.contains(" name=pushconsole:b:sub "))
            subscription = c.mid(c.indexOf("id=") + 3).split(' ').front();
    }
    QVERIFY(!subscription.isEmpty());
    QCOMPARE(admin.command({"CONFIG", "SET", "maxclients", QByteArray::number(open - 1)}),
        QByteArray("+OK\r\n"));
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(admin.integer({"CLIENT", "KILL", "ID", subscription}), 1);

    // b cannot receive pushes: it takes itself out of Redis at once and
    // tells a, rather than leaving its presence to expire.
    WAIT_VERIFY(admin.integer({"EXISTS", "pushconsole:node:b", "pushconsole:node:b:uids"}) == 0
            && admin.integer({"SISMEMBER", "pushconsole:nodes", "b"}) == 0,
        1500);
    QCOMPARE(pushUntil(a.textPort(), pushLine("42", "cut"), "fail\n", 1500), QByteArray("fail\n"));
    QVERIFY2(clock.elapsed() < 2000, QByteArray::number(clock.elapsed()).constData());
    WAIT_VERIFY2(b.output().contains("warning cluster state=down node=b")
            && b.output().contains("presence withdrawn"),
        b.output().right(1500));
    // b's own clients are still served by b.
    TextClient onB(b.textPort());
    QCOMPARE(onB.request(pushLine("42", "local")), QByteArray("ok\n"));

    // Back: b subscribes, registers its uids again, and a routes to it.
    QCOMPARE(admin.command({"CONFIG", "SET", "maxclients", "10000"}), QByteArray("+OK\r\n"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("42", "back"), "ok\n", 15000), QByteArray("ok\n"));
    QCOMPARE(m_redis->integer({"SISMEMBER", "pushconsole:node:b:uids", "42"}), 1);
    QVERIFY(rider.waitForMessages(3));
    QVERIFY(probe(a.textPort(), rider, "42"));
    QCOMPARE(rider.messages,
        QList<QString>({QString::fromUtf8(pushLine("42", "before")),
            QString::fromUtf8(pushLine("42", "local")), QString::fromUtf8(pushLine("42", "back")),
            probeMessage("42")}));
}

void tst_Cluster::passwordFile()
{
    const QByteArray password = "s3cret-Pa55 word";
    RedisServer secured;
    secured.setPassword(password);
    QVERIFY(secured.start());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto write = [&](const QString &name, const QByteArray &content) {
        QFile f(dir.filePath(name));
        f.open(QIODevice::WriteOnly);
        f.write(content);
        return f.fileName();
    };
    const QString good = write(QStringLiteral("pw"), "  " + password + "\n"); // trimmed
    const QString url = QStringLiteral("--redis=%1").arg(secured.url());

    // From the file, and (still) in the URL.
    Gateway a, b;
    QVERIFY(a.start({url, QStringLiteral("--redis-password-file=%1").arg(good),
        QStringLiteral("--node-id=a")}));
    QVERIFY(
        b.start({QStringLiteral("--redis=redis://:%1@127.0.0.1:%2")
                     .arg(QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(password))))
                     .arg(secured.port()),
            QStringLiteral("--node-id=b")}));
    WAIT_VERIFY2(a.output().contains("info cluster state=up node=a"), a.output().right(1500));
    WAIT_VERIFY2(b.output().contains("info cluster state=up node=b"), b.output().right(1500));
    WsClient rider(b.wsPort());
    QVERIFY(rider.bind("7"));
    QCOMPARE(pushUntil(a.textPort(), pushLine("7", "through auth"), "ok\n"), QByteArray("ok\n"));
    // Neither ps nor the log shows it.
    QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(a.process().processId()));
    QVERIFY(cmdline.open(QIODevice::ReadOnly));
    QVERIFY(!cmdline.readAll().contains("s3cret"));
    QVERIFY(!a.output().contains("s3cret"));
    QVERIFY(!b.output().contains("s3cret"));

    // A wrong password in the file: up, serving locally, saying why.
    Gateway wrong;
    QVERIFY(wrong.start({url,
        QStringLiteral("--redis-password-file=%1").arg(write(QStringLiteral("wrong"), "nope")),
        QStringLiteral("--node-id=w")}));
    WAIT_VERIFY2(wrong.output().contains("warning cluster state=down node=w")
            && wrong.output().contains("AUTH"),
        wrong.output().right(1500));

    // Files that cannot be used stop the start, naming the file.
    const auto failsToStart = [&](const QStringList &args, const QByteArray &message, int code) {
        QProcess p;
        p.setProcessEnvironment(headlessEnvironment());
        p.start(QStringLiteral(PUSHCONSOLE_BINARY),
            QStringList {QStringLiteral("--no-gui"), QStringLiteral("--ws-port=0"),
                QStringLiteral("--text-port=0"), QStringLiteral("--http-port=0")}
                + args);
        if (!p.waitForFinished(10000) || p.exitCode() != code) {
            qWarning("exit %d: %s", p.exitCode(), p.readAllStandardError().constData());
            return false;
        }
        const QByteArray err = p.readAllStandardError();
        if (!err.contains(message)) {
            qWarning("%s", err.constData());
            return false;
        }
        return true;
    };
    const QString missing = dir.filePath(QStringLiteral("missing"));
    QVERIFY(failsToStart({url, QStringLiteral("--redis-password-file=%1").arg(missing)},
        "cannot read the Redis password file \"" + missing.toUtf8() + '"', 1));
    const QString empty = write(QStringLiteral("empty"), " \n\n");
    QVERIFY(failsToStart({url, QStringLiteral("--redis-password-file=%1").arg(empty)},
        "the Redis password file \"" + empty.toUtf8() + "\" is empty", 1));
    QVERIFY(failsToStart({url, QStringLiteral("--redis-password-file=%1").arg(dir.path())},
        "the Redis password file \"" + dir.path().toUtf8() + "\" is a directory", 1));
    QVERIFY(failsToStart({QStringLiteral("--redis-password-file=%1").arg(good)},
        "--redis-password-file needs --redis", 2));
    QVERIFY(failsToStart({QStringLiteral("--redis=redis://:pw@127.0.0.1:1"),
                             QStringLiteral("--redis-password-file=%1").arg(good)},
        "leave it out of the URL", 2));
}

void tst_Cluster::badRedisUrlFailsClearly()
{
    QProcess p;
    p.start(QStringLiteral(PUSHCONSOLE_BINARY),
        {QStringLiteral("--no-gui"), QStringLiteral("--lang=en"),
            QStringLiteral("--redis=http://127.0.0.1:6379")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("--redis: invalid value \"http://127.0.0.1:6379\" for redis: expected "
                          "redis://[:password@]host[:port][/db]"),
        err.constData());

    // Unreachable at start: it starts anyway, says so, and serves locally.
    const ClosedPort nowhere;
    Gateway lonely;
    QVERIFY(lonely.start({QStringLiteral("--redis=redis://127.0.0.1:%1").arg(nowhere.port()),
        QStringLiteral("--node-id=lonely")}));
    WAIT_VERIFY2(lonely.output().contains("warning cluster state=down node=lonely")
            && lonely.output().contains("cannot reach Redis"),
        lonely.output().right(1500));
    WsClient rider(lonely.wsPort());
    QVERIFY(rider.bind("1"));
    QCOMPARE(pushUntil(lonely.textPort(), pushLine("1", "x"), "ok\n"), QByteArray("ok\n"));
}

void tst_Cluster::kickAndAdminStreamAcrossNodes()
{
    Gateway a, b;
    QVERIFY(a.start(nodeArgs("a")));
    QVERIFY(b.start(nodeArgs("b")));
    WsClient onB(b.wsPort());
    QVERIFY(onB.bind("1001"));
    // a knows that b holds 1001 once a push through a reaches it.
    QCOMPARE(pushUntil(a.textPort(), pushLine("1001", "probe"), "ok\n"), QByteArray("ok\n"));
    WsClient onA(a.wsPort());
    QVERIFY(onA.bind("1001"));
    QVERIFY(a.waitUntilBound("1001"));

    // A console attached to a sees the uid here and on b.
    QWebSocket console;
    QList<QJsonObject> messages;
    connect(&console, &QWebSocket::textMessageReceived, this, [&](const QString &text) {
        messages.append(QJsonDocument::fromJson(text.toUtf8()).object());
    });
    QWebSocketHandshakeOptions options;
    options.setSubprotocols({QStringLiteral("pushconsole.admin.v1")});
    console.open(
        QNetworkRequest(QUrl(QStringLiteral("ws://127.0.0.1:%1/api/events").arg(a.httpPort()))),
        options);
    const auto presenceOf = [&](const QString &uid) {
        QJsonObject last;
        for (const QJsonObject &m : messages) {
            if (m.value(QLatin1String("t")).toString() != QLatin1String("presence"))
                continue;
            for (const QJsonValue &v : m.value(QLatin1String("uids")).toArray()) {
                if (v.toObject().value(QLatin1String("uid")).toString() == uid)
                    last = v.toObject();
            }
        }
        return last;
    };
    WAIT_VERIFY(!messages.isEmpty()
        && messages.last().value(QLatin1String("t")).toString() == QLatin1String("ready"));
    const QJsonObject hello = messages.front();
    QCOMPARE(hello.value(QLatin1String("node")).toString(), QStringLiteral("a"));
    const QJsonObject cluster = hello.value(QLatin1String("cluster")).toObject();
    QVERIFY(cluster.value(QLatin1String("enabled")).toBool());
    QCOMPARE(cluster.value(QLatin1String("nodes")).toArray().size(), 2);
    QVERIFY(!cluster.value(QLatin1String("redis")).toString().isEmpty());
    QCOMPARE(presenceOf(QStringLiteral("1001")).value(QLatin1String("connections")).toInt(), 1);
    QCOMPARE(presenceOf(QStringLiteral("1001")).value(QLatin1String("otherNodes")).toArray(),
        QJsonArray({QStringLiteral("b")}));

    // The kick closes the connection here and asks b to close its own.
    QTcpSocket http;
    http.connectToHost(QHostAddress::LocalHost, a.httpPort());
    QVERIFY(http.waitForConnected(5000));
    http.write("DELETE /api/uids/1001 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray answer;
    WAIT_VERIFY2(
        [&] {
            answer += http.readAll();
            return answer.endsWith("}");
        }(),
        answer);
    QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer);
    QVERIFY2(answer.endsWith(R"({"result":"ok","closed":1,"nodes":1})"), answer);
    QVERIFY(onA.waitForDisconnected());
    QVERIFY(onB.waitForDisconnected());
    WAIT_VERIFY2(b.output().contains("disconnected by operator on node a"), b.output().right(1500));
    // And the console hears that 1001 left everywhere.
    WAIT_VERIFY(presenceOf(QStringLiteral("1001")).value(QLatin1String("connections")).toInt() == 0
        && !presenceOf(QStringLiteral("1001")).contains(QLatin1String("otherNodes")));

    // Nobody holds it any more: 404, as without a cluster.
    http.write("DELETE /api/uids/1001 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    answer.clear();
    WAIT_VERIFY2(
        [&] {
            answer += http.readAll();
            return answer.endsWith("}");
        }(),
        answer);
    QVERIFY2(answer.startsWith("HTTP/1.1 404"), answer);
}

PUSHCONSOLE_TEST_MAIN(tst_Cluster)
#include "tst_cluster.moc"
