#include "ClusterSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>

#include <csignal>

using namespace ClusterSupport;
using namespace TestSupport;

// Delivery to uids that are offline (--offline-ttl), with real gateway
// processes that are restarted in between: SQLite on a single node, Redis
// in a cluster.
class tst_Offline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void offByDefault();
    void singleNodeSurvivesRestart();
    void capsDropTheOldest();
    void arraysAndBroadcast();
    void clusterSurvivesRestart();
    void bindOnTwoNodesAtOnceDeliversAtLeastOnce();
    void bindDuringOutageGetsStoredLater();

private:
    QStringList offlineArgs(const QString &db, const QStringList &extra = {}) const;
    QTemporaryDir m_dir;
};

void tst_Offline::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

QStringList tst_Offline::offlineArgs(const QString &db, const QStringList &extra) const
{
    return QStringList {QStringLiteral("--offline-ttl=60"),
               QStringLiteral("--offline-db=%1").arg(m_dir.filePath(db))}
    + extra;
}

void tst_Offline::offByDefault()
{
    Gateway g;
    QVERIFY(g.start({}));
    TextClient backend(g.textPort());
    QCOMPARE(backend.request(pushLine("nobody", "x")), QByteArray("fail\n"));
    QVERIFY(!g.output().contains("offline="));
}

void tst_Offline::singleNodeSurvivesRestart()
{
    Gateway g;
    QVERIFY(g.start(offlineArgs(QStringLiteral("single.sqlite"))));
    QVERIFY2(g.output().contains(" offline=sqlite:"), g.output().constData());
    {
        TextClient backend(g.textPort());
        QByteArray batch;
        for (int i = 1; i <= 5; ++i)
            batch += pushLine("2001", "m" + QByteArray::number(i)) + '\n';
        backend.send(batch);
        QCOMPARE(backend.readLines(5),
            QList<QByteArray>({"queued\n", "queued\n", "queued\n", "queued\n", "queued\n"}));
    }
    g.terminate();
    QVERIFY(!g.isRunning());

    Gateway again;
    QVERIFY(again.start(offlineArgs(QStringLiteral("single.sqlite"))));
    WsClient rider(again.wsPort());
    QVERIFY(rider.bind("2001"));
    QVERIFY(rider.waitForMessages(5));
    for (int i = 1; i <= 5; ++i)
        QCOMPARE(rider.messages[i - 1],
            QString::fromUtf8(pushLine("2001", "m" + QByteArray::number(i))));
    // Live pushes come after them, and the store is empty now.
    TextClient backend(again.textPort());
    QCOMPARE(backend.request(pushLine("2001", "live")), QByteArray("ok\n"));
    QVERIFY(rider.waitForMessages(6));
    QCOMPARE(rider.messages[5], QString::fromUtf8(pushLine("2001", "live")));
    rider.socket.close();
    QVERIFY(rider.waitForDisconnected());
    WsClient second(again.wsPort());
    QVERIFY(second.bind("2001"));
    QVERIFY(again.waitUntilBound("2001", 2));
    // Nothing is stored any more: the probe is all it gets.
    QVERIFY(probe(again.textPort(), second, "2001"));
    QCOMPARE(second.messages, QList<QString> {probeMessage("2001")});
}

void tst_Offline::capsDropTheOldest()
{
    Gateway g;
    QVERIFY(g.start(offlineArgs(QStringLiteral("caps.sqlite"),
        {QStringLiteral("--offline-max-per-uid=3"), QStringLiteral("--offline-max-total=3")})));
    TextClient backend(g.textPort());
    for (int i = 1; i <= 5; ++i)
        QCOMPARE(backend.request(pushLine("a", QByteArray::number(i))), QByteArray("queued\n"));
    // a keeps 3, 4, 5; one for b makes four in all: a's 3 goes.
    QCOMPARE(backend.request(pushLine("b", "b1")), QByteArray("queued\n"));
    WsClient a(g.wsPort()), b(g.wsPort());
    QVERIFY(a.bind("a"));
    QVERIFY(b.bind("b"));
    QVERIFY(a.waitForMessages(2));
    QVERIFY(probe(g.textPort(), a, "a"));
    QCOMPARE(a.messages,
        QList<QString>({QString::fromUtf8(pushLine("a", "4")),
            QString::fromUtf8(pushLine("a", "5")), probeMessage("a")}));
    QVERIFY(probe(g.textPort(), b, "b"));
    QCOMPARE(
        b.messages, QList<QString>({QString::fromUtf8(pushLine("b", "b1")), probeMessage("b")}));
}

void tst_Offline::arraysAndBroadcast()
{
    Gateway g;
    QVERIFY(g.start(offlineArgs(QStringLiteral("arrays.sqlite"))));
    WsClient here(g.wsPort());
    QVERIFY(here.bind("here"));
    QVERIFY(g.waitUntilBound("here"));
    TextClient backend(g.textPort());
    // Delivered where it can be, stored for the rest: ok.
    const QByteArray mixed = R"({"uid":["here","away1","away2"],"m":1})";
    QCOMPARE(backend.request(mixed), QByteArray("ok\n"));
    // Nobody online at all: queued.
    const QByteArray absent = R"({"uid":["away1","away2"],"m":2})";
    QCOMPARE(backend.request(absent), QByteArray("queued\n"));
    // A broadcast is never stored.
    QVERIFY(probe(g.textPort(), here, "here"));
    QCOMPARE(here.messages, QList<QString>({QString::fromUtf8(mixed), probeMessage("here")}));
    here.socket.close();
    QVERIFY(here.waitForDisconnected());
    const QRegularExpression closed(QStringLiteral(" close conn=\\d+ uid=here "));
    WAIT_VERIFY2(closed.match(QString::fromUtf8(g.output())).hasMatch(), g.output().right(1500));
    QCOMPARE(backend.request(R"({"uid":"*"})"), QByteArray("fail\n"));
    WsClient away1(g.wsPort());
    QVERIFY(away1.bind("away1"));
    QVERIFY(away1.waitForMessages(2));
    QVERIFY(probe(g.textPort(), away1, "away1"));
    QCOMPARE(away1.messages,
        QList<QString>(
            {QString::fromUtf8(mixed), QString::fromUtf8(absent), probeMessage("away1")}));
}

void tst_Offline::clusterSurvivesRestart()
{
    REQUIRE_PROGRAM("redis-server");
    RedisServer redis;
    QVERIFY(redis.start());
    const QStringList common = {
        QStringLiteral("--redis=%1").arg(redis.url()), QStringLiteral("--offline-ttl=60")};
    Gateway a, b;
    QVERIFY(a.start(common + QStringList {QStringLiteral("--node-id=a")}));
    QVERIFY(b.start(common + QStringList {QStringLiteral("--node-id=b")}));
    QVERIFY(a.output().contains(" offline=redis"));
    WAIT_VERIFY2(a.output().contains("cluster state=up"), a.output().right(1500));
    TextClient backend(a.textPort());
    for (int i = 1; i <= 4; ++i)
        QCOMPARE(
            backend.request(pushLine("3001", "m" + QByteArray::number(i))), QByteArray("queued\n"));
    QCOMPARE(redis.integer({"LLEN", "pushconsole:offline:3001"}), 4);
    // Both gateways go; the messages stay in Redis.
    a.terminate();
    b.kill();

    Gateway c;
    QVERIFY(c.start(common + QStringList {QStringLiteral("--node-id=c")}));
    WAIT_VERIFY2(c.output().contains("cluster state=up"), c.output().right(1500));
    WsClient rider(c.wsPort());
    QVERIFY(rider.bind("3001"));
    QVERIFY(rider.waitForMessages(4));
    QVERIFY(probe(c.textPort(), rider, "3001"));
    QCOMPARE(rider.messages.size(), 5); // each once
    for (int i = 1; i <= 4; ++i)
        QCOMPARE(rider.messages[i - 1],
            QString::fromUtf8(pushLine("3001", "m" + QByteArray::number(i))));
    WAIT_COMPARE(redis.integer({"EXISTS", "pushconsole:offline:3001"}), 0);
    WAIT_COMPARE(redis.integer({"ZCARD", "pushconsole:offline-index"}), 0);
}

void tst_Offline::bindOnTwoNodesAtOnceDeliversAtLeastOnce()
{
    REQUIRE_PROGRAM("redis-server");
    RedisServer redis;
    QVERIFY(redis.start());
    const QStringList common = {
        QStringLiteral("--redis=%1").arg(redis.url()), QStringLiteral("--offline-ttl=60")};
    Gateway a, b;
    QVERIFY(a.start(common + QStringList {QStringLiteral("--node-id=a")}));
    QVERIFY(b.start(common + QStringList {QStringLiteral("--node-id=b")}));
    WAIT_VERIFY(a.output().contains("cluster state=up") && b.output().contains("cluster state=up"));
    TextClient backend(a.textPort());
    for (int i = 1; i <= 20; ++i)
        QCOMPARE(backend.request(pushLine("4001", QByteArray::number(i))), QByteArray("queued\n"));
    // Both connect first, then send the uid in the same moment.
    WsClient onA(a.wsPort()), onB(b.wsPort());
    QVERIFY(onA.waitConnected());
    QVERIFY(onB.waitConnected());
    onA.socket.sendTextMessage(QStringLiteral("4001"));
    onB.socket.sendTextMessage(QStringLiteral("4001"));
    // Each node reads what is still stored: every message reaches the uid
    // at least once, each connection gets its share in order, never one
    // twice, and the store ends empty.
    WAIT_COMPARE((QSet<QString>(onA.messages.cbegin(), onA.messages.cend())
                     + QSet<QString>(onB.messages.cbegin(), onB.messages.cend()))
                     .size(),
        20);
    WAIT_COMPARE(redis.integer({"EXISTS", "pushconsole:offline:4001"}), 0);
    QSet<QString> seen;
    for (const QList<QString> *got : {&onA.messages, &onB.messages}) {
        int last = 0;
        for (const QString &m : *got) {
            const int n =
                QJsonDocument::fromJson(m.toUtf8())[QLatin1String("msg")].toString().toInt();
            QVERIFY2(n > last, qPrintable(m));
            last = n;
            seen.insert(m);
        }
    }
    QCOMPARE(seen.size(), 20);
}

void tst_Offline::bindDuringOutageGetsStoredLater()
{
    REQUIRE_PROGRAM("redis-server");
    RedisServer redis;
    QVERIFY(redis.start());
    Gateway a;
    QVERIFY(a.start({QStringLiteral("--redis=%1").arg(redis.url()),
        QStringLiteral("--offline-ttl=60"), QStringLiteral("--node-id=a"),
        QStringLiteral("--cluster-ttl=3s"), QStringLiteral("--redis-timeout=1s")}));
    WAIT_VERIFY2(a.output().contains("cluster state=up"), a.output().right(1500));
    TextClient backend(a.textPort());
    QCOMPARE(backend.request(pushLine("5001", "s1")), QByteArray("queued\n"));
    QCOMPARE(backend.request(pushLine("5001", "s2")), QByteArray("queued\n"));

    // A Redis that hangs (not one that closes): found out by the timeouts.
    ::kill(pid_t(redis.processId()), SIGSTOP);
    WAIT_VERIFY2(a.output().contains("warning cluster state=down"), a.output().right(1500), 10000);
    WsClient rider(a.wsPort());
    QVERIFY(rider.bind("5001"));
    QVERIFY(a.waitUntilBound("5001"));
    // Bound and served locally; what is stored waits for Redis.
    QCOMPARE(backend.request(pushLine("5001", "live")), QByteArray("ok\n"));
    QVERIFY(rider.waitForMessages(1));
    ::kill(pid_t(redis.processId()), SIGCONT);
    QVERIFY(rider.waitForMessages(3, 15000));
    QVERIFY(probe(a.textPort(), rider, "5001"));
    QCOMPARE(rider.messages,
        QList<QString>(
            {QString::fromUtf8(pushLine("5001", "live")), QString::fromUtf8(pushLine("5001", "s1")),
                QString::fromUtf8(pushLine("5001", "s2")), probeMessage("5001")}));
    // Acknowledged once handed to the kernel: with --threads the socket
    // thread says so a moment after the client may have read them.
    WAIT_COMPARE(redis.integer({"EXISTS", "pushconsole:offline:5001"}), 0);
}

PUSHCONSOLE_TEST_MAIN(tst_Offline)
#include "tst_offline.moc"
