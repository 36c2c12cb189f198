#include "ClusterLink.h"
#include "ClusterSupport.h"
#include "ConfigLoader.h"
#include "EventLog.h"
#include "Metrics.h"
#include "RedisClient.h"
#include "RedisOfflineStore.h"
#include "RedisUrl.h"
#include "SessionRegistry.h"
#include "SqliteOfflineStore.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <csignal>
#include <unistd.h>

using namespace ClusterSupport;
using namespace TestSupport;

// The parts of cluster mode and offline delivery one by one, in process:
// the Redis URL and the options, both offline stores and their caps, the
// Redis client's timeouts and reconnects, and the presence a console reads.
class tst_ClusterParts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void redisUrl_data();
    void redisUrl();
    void options();
    void passwordFromFile();
    void sqliteOrderAndPersistence();
    void sqliteCaps();
    void sqliteExpiry();
    void redisStoreOrderCapsAndTake();
    void redisStoreExpiry();
    void redisClientReconnects();
    void redisClientCommandTimeout();
    void presenceForTheConsole();

private:
    // A link of its own to the shared test Redis, up.
    std::unique_ptr<ClusterLink> link(const QByteArray &id, SessionRegistry *registry);

    RedisServer m_redis;
    QTemporaryDir m_dir;
    EventLog m_log;
    Metrics m_metrics;
};

void tst_ClusterParts::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(m_redis.start());
}

void tst_ClusterParts::cleanupTestCase()
{
    m_redis.stop();
}

std::unique_ptr<ClusterLink> tst_ClusterParts::link(const QByteArray &id, SessionRegistry *registry)
{
    ClusterLink::Options o;
    o.url = RedisUrl::parse(m_redis.url());
    o.nodeId = id;
    o.ttlMs = 2000;
    o.timeoutMs = 1000;
    auto l = std::make_unique<ClusterLink>(o, registry, &m_log, &m_metrics);
    l->start();
    if (!waitFor([&] { return l->isUp(); }))
        return nullptr;
    return l;
}

void tst_ClusterParts::redisUrl_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("db");
    QTest::addColumn<QByteArray>("user");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QString>("display");

    QTest::newRow("host only") << "redis://10.0.0.5" << true << "10.0.0.5" << 6379 << 0
                               << QByteArray() << QByteArray() << "redis://10.0.0.5:6379";
    QTest::newRow("all") << "redis://:s%40cret@cache.local:6380/2" << true << "cache.local" << 6380
                         << 2 << QByteArray() << QByteArray("s@cret")
                         << "redis://cache.local:6380/2";
    QTest::newRow("acl user") << "redis://push:pw@127.0.0.1" << true << "127.0.0.1" << 6379 << 0
                              << QByteArray("push") << QByteArray("pw") << "redis://127.0.0.1:6379";
    QTest::newRow("ipv6") << "redis://[::1]:7000/1" << true << "::1" << 7000 << 1 << QByteArray()
                          << QByteArray() << "redis://[::1]:7000/1";
    QTest::newRow("upper scheme") << " REDIS://h " << true << "h" << 6379 << 0 << QByteArray()
                                  << QByteArray() << "redis://h:6379";
    QTest::newRow("http") << "http://h" << false << "" << 0 << 0 << QByteArray() << QByteArray()
                          << "";
    QTest::newRow("no scheme") << "127.0.0.1:6379" << false << "" << 0 << 0 << QByteArray()
                               << QByteArray() << "";
    QTest::newRow("no host") << "redis://:6379" << false << "" << 0 << 0 << QByteArray()
                             << QByteArray() << "";
    QTest::newRow("bad port") << "redis://h:99999" << false << "" << 0 << 0 << QByteArray()
                              << QByteArray() << "";
    QTest::newRow("port 0") << "redis://h:0" << false << "" << 0 << 0 << QByteArray()
                            << QByteArray() << "";
    QTest::newRow("bad db") << "redis://h/x" << false << "" << 0 << 0 << QByteArray()
                            << QByteArray() << "";
    QTest::newRow("query") << "redis://h?db=1" << false << "" << 0 << 0 << QByteArray()
                           << QByteArray() << "";
    QTest::newRow("user without password")
        << "redis://u@h" << false << "" << 0 << 0 << QByteArray() << QByteArray() << "";
}

void tst_ClusterParts::redisUrl()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QString error;
    const RedisUrl url = RedisUrl::parse(text, &error);
    QCOMPARE(url.isValid(), valid);
    QCOMPARE(error.isEmpty(), valid);
    if (!valid)
        return;
    QTEST(url.host, "host");
    QTEST(int(url.port), "port");
    QTEST(url.db, "db");
    QTEST(url.user, "user");
    QTEST(url.password, "password");
    QTEST(url.displayString(), "display");
}

void tst_ClusterParts::options()
{
    const auto load = [](const QStringList &args) {
        return ConfigLoader::load(QStringList {QStringLiteral("pushconsole")} + args);
    };
    ConfigLoader::Result r = load({});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QVERIFY(r.config.redisUrl.isEmpty());
    QCOMPARE(r.config.offlineTtlMs, 0);
    QCOMPARE(r.config.clusterTtlMs, 15000);
    QCOMPARE(r.config.offlineMaxPerUid, 100);
    QCOMPARE(r.config.offlineMaxTotal, 100000);

    r = load({QStringLiteral("--redis=redis://:pw@h:1/3"), QStringLiteral("--node-id=gw-1.a_b"),
        QStringLiteral("--cluster-ttl=5s"), QStringLiteral("--redis-timeout=500ms"),
        QStringLiteral("--offline-ttl=3600"), QStringLiteral("--offline-max-per-uid=7"),
        QStringLiteral("--offline-max-total=70"), QStringLiteral("--offline-db=/tmp/x.sqlite")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.redisUrl, QStringLiteral("redis://:pw@h:1/3"));
    QCOMPARE(r.config.nodeId, QStringLiteral("gw-1.a_b"));
    QCOMPARE(r.config.clusterTtlMs, 5000);
    QCOMPARE(r.config.redisTimeoutMs, 500);
    QCOMPARE(r.config.offlineTtlMs, 3600 * 1000);
    QCOMPARE(r.config.offlineMaxPerUid, 7);
    QCOMPARE(r.config.offlineMaxTotal, 70);
    QCOMPARE(r.config.offlineDb, QStringLiteral("/tmp/x.sqlite"));
    QCOMPARE(load({QStringLiteral("--offline-ttl=30m")}).config.offlineTtlMs, 30 * 60 * 1000);

    const struct
    {
        const char *arg;
        const char *message;
    } bad[] = {
        {"--redis=redis://h:70000", "--redis: invalid value"},
        {"--node-id=a:b", "expected 1 to 64 of A-Z a-z 0-9 _ . -"},
        {"--node-id=", "--node-id: invalid value"},
        {"--cluster-ttl=500ms", "--cluster-ttl: invalid value"},
        {"--cluster-ttl=11m", "expected a duration from 1s to 10m"},
        {"--offline-ttl=soon", "--offline-ttl: invalid value"},
        {"--offline-ttl=500ms", "expected 0 (off) or a duration"},
        {"--offline-max-per-uid=0", "--offline-max-per-uid: invalid value"},
    };
    for (const auto &b : bad) {
        r = load({QString::fromLatin1(b.arg)});
        QVERIFY2(r.action == ConfigLoader::Action::Fail, b.arg);
        QVERIFY2(r.error.contains(QString::fromLatin1(b.message)), qPrintable(r.error));
    }

    // The cap on publishes awaiting Redis.
    QCOMPARE(load({}).config.clusterMaxInFlight, 64 * 1024 * 1024);
    QCOMPARE(load({QStringLiteral("--cluster-max-in-flight=1M")}).config.clusterMaxInFlight,
        1024 * 1024);
    r = load({QStringLiteral("--cluster-max-in-flight=1K")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(
        r.error.contains(QStringLiteral("expected a size from 64K to 1G")), qPrintable(r.error));

    // The password file: its name only (read at start); the URL then names
    // at most a user, and the file needs a URL.
    QVERIFY(load({}).config.redisPasswordFile.isEmpty());
    r = load({QStringLiteral("--redis=redis://push@h"),
        QStringLiteral("--redis-password-file=/run/secrets/redis")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.redisPasswordFile, QStringLiteral("/run/secrets/redis"));
    r = load({QStringLiteral("--redis=redis://push@h")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(r.error.contains(QStringLiteral("a user name needs a password")), qPrintable(r.error));
    r = load(
        {QStringLiteral("--redis=redis://:secret@h"), QStringLiteral("--redis-password-file=f")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(r.error.contains(QStringLiteral("leave it out of the URL")), qPrintable(r.error));
    QVERIFY2(!r.error.contains(QStringLiteral("secret")), qPrintable(r.error));
    r = load({QStringLiteral("--redis-password-file=f")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QCOMPARE(r.error, QStringLiteral("--redis-password-file needs --redis"));
}

void tst_ClusterParts::passwordFromFile()
{
    const auto write = [&](const QString &name, const QByteArray &content) {
        QFile f(m_dir.filePath(name));
        f.open(QIODevice::WriteOnly);
        f.write(content);
        return f.fileName();
    };
    QString error;
    QCOMPARE(RedisUrl::readPasswordFile(write(QStringLiteral("p1"), "\t pass word \r\n"), &error),
        QByteArray("pass word"));
    QVERIFY(
        RedisUrl::readPasswordFile(write(QStringLiteral("p2"), "one\ntwo\n"), &error).isEmpty());
    QVERIFY2(error.contains(QStringLiteral("holds more than one line")), qPrintable(error));
    const QString big = write(QStringLiteral("p3"), QByteArray(70000, 'x'));
    QVERIFY(RedisUrl::readPasswordFile(big, &error).isEmpty());
    QCOMPARE(
        error, QStringLiteral("the Redis password file \"%1\" is larger than 64 KiB").arg(big));
    const QString locked = write(QStringLiteral("p4"), "secret");
    QFile::setPermissions(locked, QFileDevice::WriteOwner);
    if (::geteuid() != 0) { // root reads it anyway
        QVERIFY(RedisUrl::readPasswordFile(locked, &error).isEmpty());
        QVERIFY2(error.startsWith(
                     QStringLiteral("cannot read the Redis password file \"%1\": ").arg(locked)),
            qPrintable(error));
    }

    // With the password from a file, the URL may name a user alone.
    RedisUrl url = RedisUrl::parse(
        QStringLiteral("redis://push@h:6380"), &error, RedisUrl::PasswordSource::File);
    QVERIFY(url.isValid());
    QCOMPARE(url.user, QByteArray("push"));
    QVERIFY(url.password.isEmpty());
    QVERIFY(RedisUrl::parse(QStringLiteral("redis://h"), &error, RedisUrl::PasswordSource::File)
                .isValid());
    QVERIFY(!RedisUrl::parse(
        QStringLiteral("redis://push:pw@h"), &error, RedisUrl::PasswordSource::File)
                 .isValid());
    QVERIFY(
        !RedisUrl::parse(QStringLiteral("redis://:pw@h"), &error, RedisUrl::PasswordSource::File)
             .isValid());

    // Logs in with it: AUTH user password (ACL) on a server that needs it.
    RedisServer secured;
    secured.setPassword("from-a-file");
    QVERIFY(secured.start());
    QCOMPARE(secured.command({"ACL", "SETUSER", "push", "on", ">pushpw", "~*", "&*", "+@all"}),
        QByteArray("+OK\r\n"));
    RedisClient::Options o;
    o.url = RedisUrl::parse(QStringLiteral("redis://push@127.0.0.1:%1").arg(secured.port()), &error,
        RedisUrl::PasswordSource::File);
    o.url.password = RedisUrl::readPasswordFile(write(QStringLiteral("p5"), "pushpw\n"), &error);
    RedisClient client(o);
    client.start();
    QVERIFY(waitFor([&] { return client.isReady(); }));
    RedisReply reply;
    QVERIFY(client.command({"ACL", "WHOAMI"}, [&](const RedisReply &r) { reply = r; }));
    QVERIFY(waitFor([&] { return !reply.isDisconnected(); }));
    QCOMPARE(reply.string, QByteArray("push"));
}

void tst_ClusterParts::sqliteOrderAndPersistence()
{
    const QString path = m_dir.filePath(QStringLiteral("sub/dir/order.sqlite"));
    OfflineStore::Limits limits;
    limits.ttlMs = 60000;
    {
        SqliteOfflineStore store(limits, &m_metrics);
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QVERIFY(store.isAvailable());
        QCOMPARE(store.storeNow({"u1"}, "one"), 1);
        QCOMPARE(store.storeNow({"u1", "u2"}, "two"), 2);
        QCOMPARE(store.storeNow({"u1"}, QByteArray("th\0ree\n", 7)), 1);
        QCOMPARE(store.count("u1"), 3);
        QCOMPARE(store.total(), 4);
    }
    SqliteOfflineStore store(limits, &m_metrics);
    QString error;
    QVERIFY2(store.open(path, &error), qPrintable(error));
    QCOMPARE(store.total(), 4);
    QList<QByteArray> got;
    bool called = false;
    store.take("u1", [&](const QList<QByteArray> &p) {
        got = p;
        called = true;
    });
    QVERIFY(called); // SQLite answers at once
    QCOMPARE(got, QList<QByteArray>({"one", "two", QByteArray("th\0ree\n", 7)}));
    store.take("u1", [&](const QList<QByteArray> &p) { got = p; });
    QVERIFY(got.isEmpty());
    QCOMPARE(store.total(), 1);

    // A path that cannot be a database says so.
    SqliteOfflineStore broken(limits, &m_metrics);
    QVERIFY(!broken.open(m_dir.path(), &error)); // a folder
    QVERIFY2(error.contains(QStringLiteral("cannot open the offline store")), qPrintable(error));
}

void tst_ClusterParts::sqliteCaps()
{
    OfflineStore::Limits limits;
    limits.ttlMs = 60000;
    limits.maxPerUid = 3;
    limits.maxTotal = 5;
    SqliteOfflineStore store(limits, &m_metrics);
    QString error;
    QVERIFY(store.open(m_dir.filePath(QStringLiteral("caps.sqlite")), &error));
    const quint64 dropped = m_metrics.offlineDropped;
    for (int i = 1; i <= 5; ++i)
        store.storeNow({"a"}, QByteArray::number(i));
    QCOMPARE(store.count("a"), 3);
    QCOMPARE(m_metrics.offlineDropped - dropped, 2u);
    store.storeNow({"b"}, "b1");
    store.storeNow({"b"}, "b2");
    store.storeNow({"c"}, "c1"); // six in all: a's oldest (3) goes
    QCOMPARE(store.total(), 5);
    QCOMPARE(m_metrics.offlineDropped - dropped, 3u);
    QList<QByteArray> got;
    store.take("a", [&](const QList<QByteArray> &p) { got = p; });
    QCOMPARE(got, QList<QByteArray>({"4", "5"}));
    store.take("b", [&](const QList<QByteArray> &p) { got = p; });
    QCOMPARE(got, QList<QByteArray>({"b1", "b2"}));
}

void tst_ClusterParts::sqliteExpiry()
{
    OfflineStore::Limits limits;
    limits.ttlMs = 1000;
    SqliteOfflineStore store(limits, &m_metrics);
    QString error;
    QVERIFY(store.open(m_dir.filePath(QStringLiteral("ttl.sqlite")), &error));
    const quint64 expired = m_metrics.offlineExpired;
    store.storeNow({"a"}, "old");
    store.storeNow({"b"}, "old");
    QTest::qWait(1100);
    store.storeNow({"a"}, "new");
    QList<QByteArray> got;
    // Expired ones are skipped when taken, or purged by the timer before.
    store.take("a", [&](const QList<QByteArray> &p) { got = p; });
    QCOMPARE(got, QList<QByteArray>({"new"}));
    store.purgeExpired();
    QCOMPARE(store.total(), 0);
    QCOMPARE(m_metrics.offlineExpired - expired, 2u);
}

void tst_ClusterParts::redisStoreOrderCapsAndTake()
{
    m_redis.command({"FLUSHALL"});
    SessionRegistry registry;
    auto l = link("store", &registry);
    QVERIFY(l);
    OfflineStore::Limits limits;
    limits.ttlMs = 60000;
    limits.maxPerUid = 3;
    limits.maxTotal = 4; // b and c push a's oldest out
    RedisOfflineStore store(limits, l.get(), &m_metrics);
    QVERIFY(store.isAvailable());
    QSignalSpy announced(l.get(), &ClusterLink::offlineMessageStored);
    const quint64 dropped = m_metrics.offlineDropped;
    // "Stored" only once Redis answered: counts come in the callbacks.
    QList<int> stored;
    const auto count = [&](int n) { stored.append(n); };
    for (int i = 1; i <= 5; ++i)
        store.store({"a"}, QByteArray::number(i), count);
    store.store({"b", "c"}, QByteArray("x y\nz", 5), count);
    QVERIFY(stored.isEmpty()); // nothing is answered before Redis is
    QVERIFY(waitFor([&] { return stored.size() == 6; }));
    QCOMPARE(stored, QList<int>({1, 1, 1, 1, 1, 2}));
    QVERIFY(waitFor([&] { return m_metrics.offlineDropped - dropped == 3; }));
    QCOMPARE(m_redis.integer({"LLEN", "pushconsole:offline:a"}), 2);
    QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline:index"}), 4);
    QVERIFY(waitFor([&] { return announced.size() == 7; }));
    QCOMPARE(announced.at(6).at(0).toByteArray(), QByteArray("c"));

    // Two takes at once (two nodes binding the same uid): one gets all.
    SessionRegistry otherRegistry;
    auto other = link("store2", &otherRegistry);
    QVERIFY(other);
    RedisOfflineStore otherStore(limits, other.get(), &m_metrics);
    QList<QByteArray> first, second;
    int answered = 0;
    store.take("a", [&](const QList<QByteArray> &p) {
        first = p;
        ++answered;
    });
    otherStore.take("a", [&](const QList<QByteArray> &p) {
        second = p;
        ++answered;
    });
    QVERIFY(waitFor([&] { return answered == 2; }));
    QCOMPARE(first + second, QList<QByteArray>({"4", "5"}));
    QVERIFY(first.isEmpty() || second.isEmpty());
    store.take("b", [&](const QList<QByteArray> &p) { first = p; });
    QVERIFY(waitFor([&] { return first == QList<QByteArray>({QByteArray("x y\nz", 5)}); }));
    QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline:index"}), 1);
}

void tst_ClusterParts::redisStoreExpiry()
{
    m_redis.command({"FLUSHALL"});
    SessionRegistry registry;
    auto l = link("expiry", &registry);
    QVERIFY(l);
    OfflineStore::Limits limits;
    limits.ttlMs = 1000;
    RedisOfflineStore store(limits, l.get(), &m_metrics);
    store.store({"a"}, "old", {});
    QTest::qWait(1100);
    store.store({"a"}, "new", {});
    QList<QByteArray> got = {"unset"};
    store.take("a", [&](const QList<QByteArray> &p) { got = p; });
    QVERIFY(waitFor([&] { return got != QList<QByteArray>({"unset"}); }));
    QCOMPARE(got, QList<QByteArray>({"new"}));
    // Unavailable while the link is down: the store takes nothing.
    l->stop();
    QVERIFY(!store.isAvailable());
    int storedWhileDown = -1;
    store.store({"a"}, "x", [&](int n) { storedWhileDown = n; });
    QCOMPARE(storedWhileDown, 0);
    bool called = false;
    store.take("a", [&](const QList<QByteArray> &p) { called = p.isEmpty(); });
    QVERIFY(called);
}

void tst_ClusterParts::redisClientReconnects()
{
    RedisServer own;
    QVERIFY(own.start());
    RedisClient::Options o;
    o.url = RedisUrl::parse(own.url());
    o.maxBackoffMs = 400;
    RedisClient client(o);
    QSignalSpy ready(&client, &RedisClient::ready);
    QSignalSpy lost(&client, &RedisClient::connectionLost);
    QSignalSpy failed(&client, &RedisClient::connectFailed);
    client.start();
    QVERIFY(waitFor([&] { return client.isReady(); }));
    RedisReply reply;
    QVERIFY(client.command({"SET", "k", "v"}, [&](const RedisReply &r) { reply = r; }));
    QVERIFY(waitFor([&] { return reply.type == RedisReply::Type::Status; }));
    QCOMPARE(reply.string, QByteArray("OK"));

    // Pending handlers hear of the loss; commands are refused meanwhile.
    own.stop();
    QVERIFY(waitFor([&] { return lost.size() == 1; }));
    QVERIFY(!client.isReady());
    QVERIFY(!client.command({"PING"}));
    QVERIFY(waitFor([&] { return failed.size() >= 2; })); // it keeps trying
    QVERIFY(own.start(own.port()));
    QVERIFY(waitFor([&] { return client.isReady(); }, 5000));
    QCOMPARE(ready.size(), 2);
    reply = {};
    QVERIFY(client.command({"GET", "k"}, [&](const RedisReply &r) { reply = r; }));
    QVERIFY(waitFor([&] { return !reply.isDisconnected(); }));
    QCOMPARE(reply.type, RedisReply::Type::Nil); // a new, empty server

    // A wrong password is reported, not retried in a tight loop.
    o.url.password = "wrong";
    RedisClient denied(o);
    QSignalSpy deniedFailed(&denied, &RedisClient::connectFailed);
    denied.start();
    QVERIFY(waitFor([&] { return !deniedFailed.isEmpty(); }));
    QVERIFY2(deniedFailed.front().front().toString().startsWith(QStringLiteral("AUTH: ")),
        qPrintable(deniedFailed.front().front().toString()));
}

void tst_ClusterParts::redisClientCommandTimeout()
{
    RedisServer own;
    QVERIFY(own.start());
    RedisClient::Options o;
    o.url = RedisUrl::parse(own.url());
    o.commandTimeoutMs = 500;
    o.connectTimeoutMs = 500;
    RedisClient client(o);
    QSignalSpy lost(&client, &RedisClient::connectionLost);
    QSignalSpy failed(&client, &RedisClient::connectFailed);
    client.start();
    QVERIFY(waitFor([&] { return client.isReady(); }));
    const qint64 pid = own.processId();
    QVERIFY(pid > 0);
    // A server that accepts but never answers: hiredis alone would wait for ever.
    ::kill(pid_t(pid), SIGSTOP);
    bool answered = false;
    RedisReply reply;
    QVERIFY(client.command({"PING"}, [&](const RedisReply &r) {
        reply = r;
        answered = true;
    }));
    QVERIFY(waitFor([&] { return lost.size() == 1; }, 3000));
    QVERIFY(answered);
    QVERIFY(reply.isDisconnected());
    QVERIFY(lost.front().front().toString().startsWith(QStringLiteral("no reply for")));
    // Connecting to the stopped server times out too.
    QVERIFY(waitFor(
        [&] {
            for (const auto &f : failed) {
                if (f.front().toString().startsWith(QStringLiteral("connect timeout")))
                    return true;
            }
            return false;
        },
        4000));
    ::kill(pid_t(pid), SIGCONT);
    QVERIFY(waitFor([&] { return client.isReady(); }, 8000));
}

void tst_ClusterParts::presenceForTheConsole()
{
    m_redis.command({"FLUSHALL"});
    SessionRegistry registryA, registryB;
    auto a = link("console-a", &registryA);
    QVERIFY(a);
    QSignalSpy online(a.get(), &ClusterLink::remoteUidOnline);
    QSignalSpy offline(a.get(), &ClusterLink::remoteUidOffline);
    QSignalSpy reset(a.get(), &ClusterLink::presenceReset);
    auto b = link("console-b", &registryB);
    QVERIFY(b);
    QVERIFY(waitFor([&] { return a->nodes().size() == 2; }));
    // The registry's signals are what a bind does; no socket needed here.
    Q_EMIT registryB.uidOnline("u1");
    QVERIFY(waitFor([&] { return online.size() == 1; }));
    QCOMPARE(online.front().at(0).toByteArray(), QByteArray("u1"));
    QCOMPARE(online.front().at(1).toString(), QStringLiteral("console-b"));
    QCOMPARE(a->remoteNodesOf("u1"), QStringList({QStringLiteral("console-b")}));
    QCOMPARE(a->remotePresence().value("u1"), QStringList({QStringLiteral("console-b")}));
    QVERIFY(a->nodesHolding("u1") != 0);
    const QList<ClusterNodeInfo> nodes = a->nodes();
    QCOMPARE(nodes.front().id, QStringLiteral("console-a"));
    QVERIFY(nodes.front().self);
    QCOMPARE(nodes.back().id, QStringLiteral("console-b"));
    QCOMPARE(nodes.back().uids, 1);
    Q_EMIT registryB.uidOffline("u1");
    QVERIFY(waitFor([&] { return offline.size() == 1; }));
    QCOMPARE(a->nodesHolding("u1"), ClusterLink::NodeMask(0));

    // A node that goes silent is dropped after the TTL (2 s here).
    Q_EMIT registryB.uidOnline("u2");
    QVERIFY(waitFor([&] { return a->nodesHolding("u2") != 0; }));
    reset.clear();
    b.reset(); // no leave: like a crash
    QVERIFY(waitFor([&] { return a->nodes().size() == 1; }, 6000));
    QCOMPARE(a->nodesHolding("u2"), ClusterLink::NodeMask(0));
    QVERIFY(!reset.isEmpty());
}

PUSHCONSOLE_TEST_MAIN(tst_ClusterParts)
#include "tst_clusterparts.moc"
