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
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>

#include <csignal>
#include <unistd.h>

using namespace ClusterSupport;
using namespace TestSupport;

namespace {

// Reads all of a uid's messages and acknowledges them, as a delivery that
// handed them all over would. *ok tells a failed read from an empty one.
QList<QByteArray> takeAll(OfflineStore &store, const QByteArray &uid, bool *ok = nullptr)
{
    auto got = std::make_shared<QList<OfflineStore::Message>>();
    auto answer = std::make_shared<int>(-1);
    store.fetch(uid, 0, qint64(1) << 40,
        [got, answer](bool fine, const QList<OfflineStore::Message> &messages) {
            *got = messages;
            *answer = fine ? 1 : 0;
        });
    waitFor([&] { return *answer >= 0; });
    if (!got->isEmpty())
        store.acknowledge(uid, got->last().seq);
    if (ok)
        *ok = *answer == 1;
    QList<QByteArray> payloads;
    for (const OfflineStore::Message &m : *got)
        payloads.append(m.payload);
    return payloads;
}

// The stores read the time a message was stored from the message itself
// and compare it with their clock. Moving those times back is the clock
// moving on, for a TTL test that neither waits nor races.
//
// SQLite: the stored_ms column (SqliteOfflineStore.cpp).
bool ageSqliteMessages(const QString &path, qint64 ms)
{
    const QString name = QStringLiteral("aging");
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        ok = db.open()
            && QSqlQuery(db).exec(
                QStringLiteral("UPDATE messages SET stored_ms = stored_ms - %1").arg(ms));
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

// Redis: the "seq stored-ms payload" entries of a uid's list
// (RedisOfflineStore.cpp). Returns how many it aged.
qint64 ageRedisMessages(const RedisServer &redis, const QByteArray &uid, qint64 ms)
{
    const QByteArray script = R"lua(
local n = redis.call('LLEN', KEYS[1])
for i = 0, n - 1 do
  local item = redis.call('LINDEX', KEYS[1], i)
  local a = string.find(item, ' ', 1, true)
  local b = string.find(item, ' ', a + 1, true)
  local stored = tonumber(string.sub(item, a + 1, b - 1)) - tonumber(ARGV[1])
  redis.call('LSET', KEYS[1], i, string.sub(item, 1, a) .. stored .. string.sub(item, b))
end
return n
)lua";
    return redis.integer(
        {"EVAL", script, "1", "pushconsole:offline:" + uid, QByteArray::number(ms)});
}

} // namespace

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
    void sqliteByteCapsAndFailures();
    void redisStoreOrderCapsAndTake();
    void redisStoreExpiry();
    void redisByteCapsKeepCountsInStep();
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
    // The tests that use it say so with REQUIRE_PROGRAM; the others run
    // without it.
    if (!programPath(QStringLiteral("redis-server")).isEmpty())
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
    QCOMPARE(r.config.offlineMaxBytesPerUid, 1024 * 1024);
    QCOMPARE(r.config.offlineMaxBytes, 256 * 1024 * 1024);

    r = load({QStringLiteral("--redis=redis://:pw@h:1/3"), QStringLiteral("--node-id=gw-1.a_b"),
        QStringLiteral("--cluster-ttl=5s"), QStringLiteral("--redis-timeout=500ms"),
        QStringLiteral("--offline-ttl=3600"), QStringLiteral("--offline-max-per-uid=7"),
        QStringLiteral("--offline-max-total=70"), QStringLiteral("--offline-db=/tmp/x.sqlite"),
        QStringLiteral("--offline-max-bytes-per-uid=64K"),
        QStringLiteral("--offline-max-bytes=2G")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.redisUrl, QStringLiteral("redis://:pw@h:1/3"));
    QCOMPARE(r.config.nodeId, QStringLiteral("gw-1.a_b"));
    QCOMPARE(r.config.clusterTtlMs, 5000);
    QCOMPARE(r.config.redisTimeoutMs, 500);
    QCOMPARE(r.config.offlineTtlMs, 3600 * 1000);
    QCOMPARE(r.config.offlineMaxPerUid, 7);
    QCOMPARE(r.config.offlineMaxTotal, 70);
    QCOMPARE(r.config.offlineDb, QStringLiteral("/tmp/x.sqlite"));
    QCOMPARE(r.config.offlineMaxBytesPerUid, 64 * 1024);
    QCOMPARE(r.config.offlineMaxBytes, qint64(2) << 30);
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
        {"--offline-max-bytes-per-uid=100", "expected a size from 1K to 1G"},
        {"--offline-max-bytes-per-uid=2G", "--offline-max-bytes-per-uid: invalid value"},
        {"--offline-max-bytes=lots", "expected a size from 1K to 1024G"},
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
    // A file that cannot be read (missing here, so that the check runs as
    // root too), and one without read permission.
    const QString missing = m_dir.filePath(QStringLiteral("no-such-file"));
    QVERIFY(RedisUrl::readPasswordFile(missing, &error).isEmpty());
    // (Then the system's reason, in the system's language.)
    QVERIFY2(error.startsWith(
                 QStringLiteral("cannot read the Redis password file \"%1\": ").arg(missing)),
        qPrintable(error));
    QVERIFY(RedisUrl::readPasswordFile(m_dir.path(), &error).isEmpty());
    QCOMPARE(
        error, QStringLiteral("the Redis password file \"%1\" is a directory").arg(m_dir.path()));
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
    REQUIRE_PROGRAM("redis-server");
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
    WAIT_VERIFY(client.isReady());
    RedisReply reply;
    QVERIFY(client.command({"ACL", "WHOAMI"}, [&](const RedisReply &r) { reply = r; }));
    WAIT_VERIFY(!reply.isDisconnected());
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
    bool called = false;
    store.fetch(
        "u1", 0, 1 << 20, [&](bool, const QList<OfflineStore::Message> &) { called = true; });
    QVERIFY(called); // SQLite answers at once
    QCOMPARE(takeAll(store, "u1"), QList<QByteArray>({"one", "two", QByteArray("th\0ree\n", 7)}));
    QVERIFY(takeAll(store, "u1").isEmpty());
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
    QCOMPARE(takeAll(store, "a"), QList<QByteArray>({"4", "5"}));
    QCOMPARE(takeAll(store, "b"), QList<QByteArray>({"b1", "b2"}));
}

void tst_ClusterParts::sqliteExpiry()
{
    OfflineStore::Limits limits;
    limits.ttlMs = 60 * 1000;
    SqliteOfflineStore store(limits, &m_metrics);
    QString error;
    const QString path = m_dir.filePath(QStringLiteral("ttl.sqlite"));
    QVERIFY(store.open(path, &error));
    const quint64 expired = m_metrics.offlineExpired;
    QCOMPARE(store.storeNow({"a"}, "old"), 1);
    QCOMPARE(store.storeNow({"b"}, "old"), 1);
    QVERIFY(ageSqliteMessages(path, limits.ttlMs + 1000)); // a TTL and a second later
    QCOMPARE(store.storeNow({"a"}, "new"), 1);
    // Expired ones are skipped when taken, or purged by the timer before.
    QCOMPARE(takeAll(store, "a"), QList<QByteArray>({"new"}));
    store.purgeExpired();
    QCOMPARE(store.total(), 0);
    QCOMPARE(m_metrics.offlineExpired - expired, 2u);
}

void tst_ClusterParts::sqliteByteCapsAndFailures()
{
    const QString path = m_dir.filePath(QStringLiteral("bytes.sqlite"));
    OfflineStore::Limits limits;
    limits.ttlMs = 60000;
    limits.maxBytesPerUid = 10;
    limits.maxBytes = 25;
    SqliteOfflineStore store(limits, &m_metrics);
    QString error;
    QVERIFY(store.open(path, &error));
    const quint64 dropped = m_metrics.offlineDropped;
    for (const char *p : {"aaa1", "aaa2", "aaa3"})
        QCOMPARE(store.storeNow({"a"}, p), 1);
    // 12 bytes for a: its oldest goes.
    QCOMPARE(store.count("a"), 2);
    QCOMPARE(store.bytes("a"), 8);
    QCOMPARE(m_metrics.offlineDropped - dropped, 1u);
    QCOMPARE(store.storeNow({"b"}, "bbbbbbbbb"), 1);
    QCOMPARE(store.storeNow({"c"}, "cccccccc"), 1);
    QCOMPARE(store.totalBytes(), 25);
    // 26 in all: the oldest of all (a's second) goes.
    QCOMPARE(store.storeNow({"c"}, "c"), 1);
    QCOMPARE(store.totalBytes(), 22);
    QCOMPARE(m_metrics.offlineDropped - dropped, 2u);
    // Over what one uid may hold, or an array over what all may: refused,
    // counted, and nothing else goes for it.
    QCOMPARE(store.storeNow({"d"}, "12345678901"), 0);
    QCOMPARE(store.storeNow({"x", "y", "z"}, "123456789"), 0);
    QCOMPARE(m_metrics.offlineDropped - dropped, 6u);
    QCOMPARE(store.total(), 4);

    // The database is locked by someone else: every statement is checked,
    // the store answers failed and nothing changes, in the file or the
    // counts.
    const quint64 errors = m_metrics.offlineStoreErrors;
    {
        QSqlDatabase locker =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
        locker.setDatabaseName(path);
        QVERIFY(locker.open());
        QSqlQuery lock(locker);
        QVERIFY(lock.exec(QStringLiteral("BEGIN IMMEDIATE")));
        int stored = -1, failed = -1;
        store.store({"a", "e"}, "zzzzzzzzz", [&](int s, int f) {
            stored = s;
            failed = f;
        });
        QCOMPARE(stored, 0);
        QCOMPARE(failed, 2);
        QVERIFY(m_metrics.offlineStoreErrors > errors);
        QVERIFY(lock.exec(QStringLiteral("ROLLBACK")));
    }
    QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    QCOMPARE(store.total(), 4);
    QCOMPARE(store.totalBytes(), 22);
    QCOMPARE(store.count("e"), 0);
    QCOMPARE(m_metrics.offlineDropped - dropped, 6u);
    QCOMPARE(takeAll(store, "a"), QList<QByteArray>({"aaa3"}));
    QCOMPARE(takeAll(store, "c"), QList<QByteArray>({"cccccccc", "c"}));
    QCOMPARE(store.totalBytes(), 9);

    // Counts and bytes come back from the file.
    SqliteOfflineStore again(limits, &m_metrics);
    QVERIFY(again.open(path, &error));
    QCOMPARE(again.total(), 1);
    QCOMPARE(again.bytes("b"), 9);
}

void tst_ClusterParts::redisStoreOrderCapsAndTake()
{
    REQUIRE_PROGRAM("redis-server");
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
    const auto count = [&](int n, int failed) { stored.append(failed ? -1 : n); };
    for (int i = 1; i <= 5; ++i)
        store.store({"a"}, QByteArray::number(i), count);
    store.store({"b", "c"}, QByteArray("x y\nz", 5), count);
    QVERIFY(stored.isEmpty()); // nothing is answered before Redis is
    WAIT_COMPARE(stored.size(), 6);
    QCOMPARE(stored, QList<int>({1, 1, 1, 1, 1, 2}));
    WAIT_COMPARE(m_metrics.offlineDropped - dropped, 3);
    QCOMPARE(m_redis.integer({"LLEN", "pushconsole:offline:a"}), 2);
    QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline-index"}), 4);
    WAIT_COMPARE(announced.size(), 7);
    QCOMPARE(announced.at(6).at(0).toByteArray(), QByteArray("c"));

    // Two nodes binding the same uid read at once: reading removes
    // nothing, so both see all (at least once); acknowledging removes.
    SessionRegistry otherRegistry;
    auto other = link("store2", &otherRegistry);
    QVERIFY(other);
    RedisOfflineStore otherStore(limits, other.get(), &m_metrics);
    QList<OfflineStore::Message> first, second;
    int answered = 0;
    store.fetch("a", 0, 1 << 20, [&](bool, const QList<OfflineStore::Message> &m) {
        first = m;
        ++answered;
    });
    otherStore.fetch("a", 0, 1 << 20, [&](bool, const QList<OfflineStore::Message> &m) {
        second = m;
        ++answered;
    });
    WAIT_COMPARE(answered, 2);
    QCOMPARE(first.size(), 2);
    QCOMPARE(first.front().payload, QByteArray("4"));
    QCOMPARE(first.back().payload, QByteArray("5"));
    QCOMPARE(second.size(), 2);
    QCOMPARE(second.front().seq, first.front().seq);
    // A read after a sequence number starts behind it, within a byte budget.
    QList<OfflineStore::Message> rest;
    answered = 0;
    store.fetch("a", first.front().seq, 1, [&](bool, const QList<OfflineStore::Message> &m) {
        rest = m;
        ++answered;
    });
    WAIT_COMPARE(answered, 1);
    QCOMPARE(rest.size(), 1);
    QCOMPARE(rest.front().payload, QByteArray("5"));
    store.acknowledge("a", first.front().seq);
    otherStore.acknowledge("a", first.back().seq);
    WAIT_COMPARE(m_redis.integer({"EXISTS", "pushconsole:offline:a"}), 0);
    QCOMPARE(takeAll(store, "b"), QList<QByteArray>({QByteArray("x y\nz", 5)}));
    WAIT_COMPARE(m_redis.integer({"ZCARD", "pushconsole:offline-index"}), 1);
}

void tst_ClusterParts::redisStoreExpiry()
{
    REQUIRE_PROGRAM("redis-server");
    m_redis.command({"FLUSHALL"});
    SessionRegistry registry;
    auto l = link("expiry", &registry);
    QVERIFY(l);
    OfflineStore::Limits limits;
    limits.ttlMs = 60 * 1000;
    RedisOfflineStore store(limits, l.get(), &m_metrics);
    const quint64 expired = m_metrics.offlineExpired;
    int stored = 0;
    store.store({"a"}, "old", [&](int n, int) { stored = n; });
    WAIT_COMPARE(stored, 1);
    QCOMPARE(ageRedisMessages(m_redis, "a", limits.ttlMs + 1000), 1); // a TTL and a second later
    store.store({"a"}, "new", {});
    QCOMPARE(takeAll(store, "a"), QList<QByteArray>({"new"}));
    QCOMPARE(m_metrics.offlineExpired - expired, 1u);
    // Unavailable while the link is down: the store takes nothing.
    l->stop();
    QVERIFY(!store.isAvailable());
    int storedWhileDown = -1;
    int failedWhileDown = -1;
    store.store({"a"}, "x", [&](int n, int failed) {
        storedWhileDown = n;
        failedWhileDown = failed;
    });
    QCOMPARE(storedWhileDown, 0);
    QCOMPARE(failedWhileDown, 1); // a fail worth retrying, not "nobody there"
    bool ok = true;
    QVERIFY(takeAll(store, "a", &ok).isEmpty());
    QVERIFY(!ok);
}

void tst_ClusterParts::redisByteCapsKeepCountsInStep()
{
    REQUIRE_PROGRAM("redis-server");
    m_redis.command({"FLUSHALL"});
    SessionRegistry registry;
    auto l = link("bytes", &registry);
    QVERIFY(l);
    OfflineStore::Limits limits;
    limits.ttlMs = 60000;
    limits.maxBytesPerUid = 10;
    limits.maxBytes = 25;
    RedisOfflineStore store(limits, l.get(), &m_metrics);
    const quint64 dropped = m_metrics.offlineDropped;
    QList<int> answers;
    const auto answer = [&](int stored, int failed) { answers.append(failed ? -1 : stored); };
    for (const char *p : {"aaa1", "aaa2", "aaa3"})
        store.store({"a"}, p, answer);
    store.store({"b"}, "bbbbbbbbb", answer);
    store.store({"c"}, "cccccccc", answer);
    store.store({"c"}, "c", answer);
    store.store({"d"}, "12345678901", answer); // refused at once
    WAIT_COMPARE(answers.size(), 7);
    QCOMPARE(answers, QList<int>({0, 1, 1, 1, 1, 1, 1}));
    QCOMPARE(m_metrics.offlineDropped - dropped, 3u);
    const auto text = [&](const QByteArray &key) { return m_redis.command({"GET", key}); };
    QCOMPARE(text("pushconsole:offline-bytes"), QByteArray("$2\r\n22\r\n"));
    QCOMPARE(text("pushconsole:offline-bytes:a"), QByteArray("$1\r\n4\r\n"));
    QCOMPARE(text("pushconsole:offline-bytes:c"), QByteArray("$1\r\n9\r\n"));
    QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline-index"}), 4);
    QVERIFY(m_redis.integer({"PTTL", "pushconsole:offline-bytes:a"}) > 0);
    // Acknowledging keeps them in step, and a uid's count goes with its list.
    QCOMPARE(takeAll(store, "a"), QList<QByteArray>({"aaa3"}));
    QCOMPARE(takeAll(store, "c"), QList<QByteArray>({"cccccccc", "c"}));
    WAIT_COMPARE(text("pushconsole:offline-bytes"), QByteArray("$1\r\n9\r\n"));
    QCOMPARE(m_redis.integer({"EXISTS", "pushconsole:offline-bytes:a",
                 "pushconsole:offline-bytes:c", "pushconsole:offline:a", "pushconsole:offline:c"}),
        0);
    QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline-index"}), 1);
    // A uid called like a metadata key is just a uid.
    answers.clear();
    store.store({"index", "seq"}, "x", answer);
    WAIT_COMPARE(answers.size(), 1);
    QCOMPARE(answers.front(), 2);
    QCOMPARE(takeAll(store, "index"), QList<QByteArray>({"x"}));
}

void tst_ClusterParts::redisClientReconnects()
{
    REQUIRE_PROGRAM("redis-server");
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
    WAIT_VERIFY(client.isReady());
    RedisReply reply;
    QVERIFY(client.command({"SET", "k", "v"}, [&](const RedisReply &r) { reply = r; }));
    WAIT_COMPARE(reply.type, RedisReply::Type::Status);
    QCOMPARE(reply.string, QByteArray("OK"));

    // Pending handlers hear of the loss; commands are refused meanwhile.
    own.stop();
    WAIT_COMPARE(lost.size(), 1);
    QVERIFY(!client.isReady());
    QVERIFY(!client.command({"PING"}));
    WAIT_COMPARE_GE(failed.size(), 2); // it keeps trying
    QVERIFY(own.start()); // on its port again
    WAIT_VERIFY(client.isReady(), 5000);
    QCOMPARE(ready.size(), 2);
    reply = {};
    QVERIFY(client.command({"GET", "k"}, [&](const RedisReply &r) { reply = r; }));
    WAIT_VERIFY(!reply.isDisconnected());
    QCOMPARE(reply.type, RedisReply::Type::Nil); // a new, empty server

    // A wrong password is reported, not retried in a tight loop.
    o.url.password = "wrong";
    RedisClient denied(o);
    QSignalSpy deniedFailed(&denied, &RedisClient::connectFailed);
    denied.start();
    WAIT_VERIFY(!deniedFailed.isEmpty());
    QVERIFY2(deniedFailed.front().front().toString().startsWith(QStringLiteral("AUTH: ")),
        qPrintable(deniedFailed.front().front().toString()));
}

void tst_ClusterParts::redisClientCommandTimeout()
{
    REQUIRE_PROGRAM("redis-server");
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
    WAIT_VERIFY(client.isReady());
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
    WAIT_COMPARE(lost.size(), 1, 3000);
    QVERIFY(answered);
    QVERIFY(reply.isDisconnected());
    QVERIFY(lost.front().front().toString().startsWith(QStringLiteral("no reply for")));
    // Connecting to the stopped server times out too.
    WAIT_UNTIL(
        [&] {
            for (const auto &f : failed) {
                if (f.front().toString().startsWith(QStringLiteral("connect timeout")))
                    return true;
            }
            return false;
        },
        QByteArray::number(failed.size()) + " failures", 4000);
    ::kill(pid_t(pid), SIGCONT);
    WAIT_VERIFY(client.isReady(), 8000);
}

void tst_ClusterParts::presenceForTheConsole()
{
    REQUIRE_PROGRAM("redis-server");
    m_redis.command({"FLUSHALL"});
    SessionRegistry registryA, registryB;
    auto a = link("console-a", &registryA);
    QVERIFY(a);
    QSignalSpy online(a.get(), &ClusterLink::remoteUidOnline);
    QSignalSpy offline(a.get(), &ClusterLink::remoteUidOffline);
    QSignalSpy reset(a.get(), &ClusterLink::presenceReset);
    auto b = link("console-b", &registryB);
    QVERIFY(b);
    WAIT_COMPARE(a->nodes().size(), 2);
    // The registry's signals are what a bind does; no socket needed here.
    Q_EMIT registryB.uidOnline("u1");
    WAIT_COMPARE(online.size(), 1);
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
    WAIT_COMPARE(offline.size(), 1);
    QCOMPARE(a->nodesHolding("u1"), ClusterLink::NodeMask(0));

    // A node that goes silent is dropped after the TTL (2 s here).
    Q_EMIT registryB.uidOnline("u2");
    WAIT_VERIFY(a->nodesHolding("u2") != 0);
    reset.clear();
    b.reset(); // no leave: like a crash
    WAIT_COMPARE(a->nodes().size(), 1, 6000);
    QCOMPARE(a->nodesHolding("u2"), ClusterLink::NodeMask(0));
    QVERIFY(!reset.isEmpty());
}

PUSHCONSOLE_TEST_MAIN(tst_ClusterParts)
#include "tst_clusterparts.moc"
