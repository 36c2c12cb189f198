#include "ClusterSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>

using namespace ClusterSupport;
using namespace TestSupport;

namespace {

// A WebSocket client that reads at most `chunk` bytes every `intervalMs`
// (Qt's read buffer capped, so the kernel's fills and TCP holds the server
// back), like a phone on a slow link. Records the text messages it got.
class SlowReader final
{
public:
    SlowReader(quint16 port, qint64 chunk, int intervalMs)
        : m_chunk(chunk)
    {
        m_socket.setReadBufferSize(chunk);
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        QObject::connect(&m_timer, &QTimer::timeout, &m_socket, [this] { readSome(); });
        m_timer.start(intervalMs);
    }

    bool bind(const QByteArray &uid)
    {
        if (!waitFor([&] { return m_socket.state() == QAbstractSocket::ConnectedState; }))
            return false;
        m_socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n");
        if (!waitFor([&] { return m_handshakeDone; }))
            return false;
        // A masked text frame with the uid (shorter than 126 bytes).
        QByteArray frame;
        frame.append(char(0x81)).append(char(0x80 | uid.size())).append(4, '\0').append(uid);
        m_socket.write(frame);
        return true;
    }
    void abort() { m_socket.abort(); }
    bool isGone() const { return m_socket.state() != QAbstractSocket::ConnectedState; }

    QList<QByteArray> messages;

private:
    void readSome()
    {
        if (m_socket.state() != QAbstractSocket::ConnectedState)
            return;
        m_in += m_socket.read(m_chunk);
        if (!m_handshakeDone) {
            const qsizetype end = m_in.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            m_handshakeDone = m_in.startsWith("HTTP/1.1 101");
            m_in.remove(0, end + 4);
        }
        for (;;) {
            if (m_in.size() < 2)
                return;
            const quint8 opcode = quint8(m_in[0]) & 0x0F;
            quint64 length = quint8(m_in[1]) & 0x7F;
            qsizetype header = 2;
            if (length == 126) {
                if (m_in.size() < 4)
                    return;
                length = (quint64(quint8(m_in[2])) << 8) | quint8(m_in[3]);
                header = 4;
            } else if (length == 127) {
                if (m_in.size() < 10)
                    return;
                length = 0;
                for (int i = 0; i < 8; ++i)
                    length = (length << 8) | quint8(m_in[2 + i]);
                header = 10;
            }
            if (quint64(m_in.size() - header) < length)
                return;
            if (opcode == 0x1)
                messages.append(m_in.mid(header, qsizetype(length)));
            m_in.remove(0, header + qsizetype(length));
        }
    }

    QTcpSocket m_socket;
    QTimer m_timer;
    QByteArray m_in;
    qint64 m_chunk;
    bool m_handshakeDone = false;
};

// A push of about 1 MiB whose number can be read back.
QByteArray bigPush(const QByteArray &uid, int n)
{
    return "{\"uid\":\"" + uid + "\",\"n\":" + QByteArray::number(n) + ",\"pad\":\""
        + QByteArray(1024 * 1024 - 64, 'x') + "\"}";
}

int numberOf(const QByteArray &message)
{
    static const QRegularExpression n(QStringLiteral("^\\{\"uid\":\"[^\"]*\",\"n\":(\\d+),"));
    const auto m = n.match(QString::fromLatin1(message.left(64)));
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

QByteArray httpGet(quint16 port, const QByteArray &path)
{
    QTcpSocket s;
    s.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    if (!waitFor([&] { return s.state() == QAbstractSocket::ConnectedState; }))
        return {};
    s.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray response;
    waitFor([&] {
        response += s.readAll();
        return s.state() == QAbstractSocket::UnconnectedState;
    });
    return response + s.readAll();
}

// "bind" lines in the log for uid so far.
// One counter of /metrics; -1 when it is missing.
double metric(quint16 httpPort, const QByteArray &name)
{
    const QByteArray text = httpGet(httpPort, "/metrics");
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(name + ' '))
            return line.mid(name.size() + 1).toDouble();
    }
    return -1;
}

} // namespace

// What "queued" promises, against real gateway processes: the caps count
// bytes, a full disk is answered fail and loses nothing, and a backlog goes
// out at the pace the client reads, leaving the store only once handed
// over; SQLite on one node and Redis in a cluster alike.
class tst_OfflinePromises : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void byteCapsDropTheOldest_data();
    void byteCapsDropTheOldest();
    void diskFullAnswersFailAndLosesNothing();
    void backlogAtTheReadersPace_data();
    void backlogAtTheReadersPace();
    void backlogSurvivesADrop_data();
    void backlogSurvivesADrop();

private:
    // A gateway with offline delivery: SQLite in a file of its own, or
    // Redis (started here) when `redis` is set.
    bool startGateway(Gateway *g, bool redis, const QStringList &extra);
    // Binds a client and waits until it holds `expected` messages and then
    // the probe: nothing else came between.
    void expectStored(Gateway &g, const QByteArray &uid, const QList<QByteArray> &expected);

    QTemporaryDir m_dir;
    RedisServer m_redis;
    int m_dbs = 0;
};

void tst_OfflinePromises::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // Half the rows use Redis; REQUIRE_PROGRAM in each of them says so.
    if (!programPath(QStringLiteral("redis-server")).isEmpty())
        QVERIFY(m_redis.start());
}

bool tst_OfflinePromises::startGateway(Gateway *g, bool redis, const QStringList &extra)
{
    QStringList args = {QStringLiteral("--offline-ttl=60")};
    if (redis) {
        m_redis.command({"FLUSHALL"});
        args << QStringLiteral("--redis=%1").arg(m_redis.url()) << QStringLiteral("--node-id=a");
    } else {
        args << QStringLiteral("--offline-db=%1")
                    .arg(m_dir.filePath(QStringLiteral("db%1.sqlite").arg(++m_dbs)));
    }
    if (!g->start(args + extra))
        return false;
    return !redis || waitFor([&] { return g->output().contains("cluster state=up"); });
}

void tst_OfflinePromises::expectStored(
    Gateway &g, const QByteArray &uid, const QList<QByteArray> &expected)
{
    const int binds = g.bindCount(uid);
    WsClient client(g.wsPort());
    QVERIFY(client.bind(uid));
    QVERIFY(g.waitUntilBound(uid, binds + 1));
    QVERIFY(client.waitForMessages(int(expected.size())));
    // Bound: the probe goes live or behind the backlog, and comes last.
    QVERIFY(probe(g.textPort(), client, uid));
    QList<QString> want;
    for (const QByteArray &m : expected)
        want.append(QString::fromUtf8(m));
    want.append(probeMessage(uid));
    if (client.messages != want) {
        for (const QString &m : client.messages)
            qWarning("got %s", qPrintable(m.left(40)));
    }
    QCOMPARE(client.messages, want);
}

void tst_OfflinePromises::byteCapsDropTheOldest_data()
{
    QTest::addColumn<bool>("redis");
    QTest::newRow("sqlite") << false;
    QTest::newRow("redis") << true;
}

void tst_OfflinePromises::byteCapsDropTheOldest()
{
    QFETCH(bool, redis);
    if (redis)
        REQUIRE_PROGRAM("redis-server");
    Gateway g;
    QVERIFY(startGateway(&g, redis,
        {QStringLiteral("--offline-max-bytes-per-uid=5K"),
            QStringLiteral("--offline-max-bytes=10K")}));
    TextClient backend(g.textPort());
    // About 1.5 KiB each: a uid keeps three (5 KiB), all together six (10 KiB).
    const auto line = [](const QByteArray &uid, int n) {
        return pushLine(uid, QByteArray::number(n) + QByteArray(1500, '.'));
    };
    for (int i = 1; i <= 5; ++i)
        QCOMPARE(backend.request(line("a", i)), QByteArray("queued\n"));
    QCOMPARE(backend.request(line("b", 1)), QByteArray("queued\n"));
    QCOMPARE(backend.request(line("c", 1)), QByteArray("queued\n"));
    QCOMPARE(backend.request(line("b", 2)), QByteArray("queued\n"));
    // The seventh in all: the oldest of all (a's 3) goes.
    QCOMPARE(backend.request(line("b", 3)), QByteArray("queued\n"));
    // Larger than a uid may hold: not stored, so not queued.
    QCOMPARE(backend.request(pushLine("d", QByteArray(6000, '.'))), QByteArray("fail\n"));

    // Four drops in all (a's 1 and 2 by its own cap, a's 3 by the total,
    // d's), each counted; the log has the first and sums up the rest
    // later, not a line each.
    QCOMPARE(metric(g.httpPort(), "pushconsole_offline_dropped_total"), 4.0);
    QCOMPARE(g.output().count("offline store full: dropped"), 1);
    QVERIFY2(g.output().contains("is over the caps"), g.output().constData());

    expectStored(g, "a", {line("a", 4), line("a", 5)});
    expectStored(g, "b", {line("b", 1), line("b", 2), line("b", 3)});
    expectStored(g, "c", {line("c", 1)});
    if (redis) {
        // Every message acknowledged: the byte counts are back to zero.
        WAIT_COMPARE(
            m_redis.command({"GET", "pushconsole:offline-bytes"}), QByteArray("$1\r\n0\r\n"));
        QCOMPARE(m_redis.integer({"ZCARD", "pushconsole:offline-index"}), 0);
        QCOMPARE(m_redis.integer({"EXISTS", "pushconsole:offline-bytes:a",
                     "pushconsole:offline-bytes:b", "pushconsole:offline-bytes:c"}),
            0);
    }
}

void tst_OfflinePromises::diskFullAnswersFailAndLosesNothing()
{
    // A full disk for real, without privileges: the gateway runs with a
    // file size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so writes past it
    // fail with EFBIG as they would with ENOSPC).
    REQUIRE_PROGRAM("prlimit");
    const QString prlimit = programPath(QStringLiteral("prlimit"));
    Gateway g;
    g.setLauncher({QStringLiteral("/bin/sh"), QStringLiteral("-c"),
        QStringLiteral("trap '' XFSZ; exec \"$0\" --fsize=1048576 -- \"$@\""), prlimit});
    QVERIFY(startGateway(&g, false, {QStringLiteral("--offline-max-per-uid=3")}));
    TextClient backend(g.textPort());
    QList<QByteArray> queued;
    for (int i = 1; i <= 3; ++i) {
        const QByteArray line = pushLine("a", QByteArray::number(i) + QByteArray(200 * 1024, '.'));
        QCOMPARE(backend.request(line), QByteArray("queued\n"));
        queued.append(line);
    }
    // Past the limit: fail, and the per-uid cap, which would drop a's
    // oldest to make room, drops nothing (one transaction, rolled back).
    QCOMPARE(
        backend.request(pushLine("a", "4" + QByteArray(600 * 1024, '.'))), QByteArray("fail\n"));
    // An array push commits once for both: a failed commit is a fail too.
    const QByteArray array =
        "{\"uid\":[\"b\",\"c\"],\"pad\":\"" + QByteArray(300 * 1024, '.') + "\"}";
    QCOMPARE(backend.request(array), QByteArray("fail\n"));
    QVERIFY2(g.output().contains("offline store: "), g.output().constData());
    QVERIFY(g.output().contains(" failed: "));
    QVERIFY(metric(g.httpPort(), "pushconsole_offline_store_errors_total") >= 2);

    // Everything answered queued is there, nothing else.
    expectStored(g, "a", queued);
    expectStored(g, "b", {});
}

void tst_OfflinePromises::backlogAtTheReadersPace_data()
{
    QTest::addColumn<bool>("redis");
    QTest::newRow("sqlite") << false;
    QTest::newRow("redis") << true;
}

void tst_OfflinePromises::backlogAtTheReadersPace()
{
    QFETCH(bool, redis);
    if (redis)
        REQUIRE_PROGRAM("redis-server");
    Gateway g;
    QVERIFY(startGateway(&g, redis,
        {QStringLiteral("--max-output=8M"), QStringLiteral("--max-line=2M"),
            QStringLiteral("--offline-max-bytes-per-uid=32M")}));
    TextClient backend(g.textPort());
    for (int i = 1; i <= 24; ++i)
        QCOMPARE(backend.request(bigPush("6001", i)), QByteArray("queued\n"));

    // 24 MiB for a client that reads 256 KiB every 20 ms: three times its
    // output cap, so it must be paced, not dropped as a slow consumer.
    SlowReader reader(g.wsPort(), 256 * 1024, 20);
    QVERIFY(reader.bind("6001"));
    WAIT_VERIFY(reader.messages.size() >= 3 || reader.isGone(), 20000);
    QVERIFY2(!reader.isGone(), g.output().right(2000).constData());
    // A live push now goes behind the backlog, into the store: queued.
    const QByteArray live = pushLine("6001", "live");
    QCOMPARE(backend.request(live), QByteArray("queued\n"));
    QVERIFY2(waitFor([&] { return reader.messages.size() >= 25 || reader.isGone(); }, 60000),
        QByteArray::number(reader.messages.size()).constData());
    QVERIFY(!reader.isGone());
    QCOMPARE(reader.messages.size(), 25);
    for (int i = 1; i <= 24; ++i)
        QCOMPARE(numberOf(reader.messages[i - 1]), i);
    QCOMPARE(reader.messages.back(), live);
    QVERIFY(!g.output().contains("slow consumer"));
    if (redis)
        WAIT_COMPARE(m_redis.integer({"EXISTS", "pushconsole:offline:6001"}), 0);
    // Everything was handed over: a second connection gets nothing stored.
    expectStored(g, "6001", {});
}

void tst_OfflinePromises::backlogSurvivesADrop_data()
{
    QTest::addColumn<bool>("redis");
    QTest::newRow("sqlite") << false;
    QTest::newRow("redis") << true;
}

void tst_OfflinePromises::backlogSurvivesADrop()
{
    QFETCH(bool, redis);
    if (redis)
        REQUIRE_PROGRAM("redis-server");
    Gateway g;
    QVERIFY(startGateway(&g, redis,
        {QStringLiteral("--max-output=8M"), QStringLiteral("--max-line=2M"),
            QStringLiteral("--offline-max-bytes-per-uid=32M")}));
    TextClient backend(g.textPort());
    for (int i = 1; i <= 24; ++i)
        QCOMPARE(backend.request(bigPush("7001", i)), QByteArray("queued\n"));

    // A client that reads a little and vanishes (a reset, as a phone that
    // loses its network would look after the timeout).
    SlowReader first(g.wsPort(), 64 * 1024, 50);
    QVERIFY(first.bind("7001"));
    WAIT_VERIFY(first.messages.size() >= 2 || first.isGone(), 20000);
    QVERIFY(!first.isGone());
    first.abort();
    const int gotFirst = int(first.messages.size());
    // Stored behind the backlog, or for an absent uid: queued either way.
    const QByteArray live = pushLine("7001", "after");
    QCOMPARE(backend.request(live), QByteArray("queued\n"));

    // What the first did not take is still stored and comes, in order.
    SlowReader second(g.wsPort(), 1024 * 1024, 5);
    QVERIFY(second.bind("7001"));
    QVERIFY2(waitFor(
                 [&] {
                     return (!second.messages.isEmpty() && second.messages.back() == live)
                         || second.isGone();
                 },
                 60000),
        QByteArray::number(second.messages.size()).constData());
    const int from = numberOf(second.messages.front());
    QVERIFY2(from >= 1, second.messages.front().left(64).constData());
    for (qsizetype i = 0; i + 1 < second.messages.size(); ++i)
        QCOMPARE(numberOf(second.messages[i]), from + int(i));
    QCOMPARE(numberOf(second.messages[second.messages.size() - 2]), 24);
    // Acknowledged means written to the kernel for a connection that was
    // up then: what the first had not read may be lost only up to what
    // its socket buffers held, a few messages of 1 MiB, never the backlog.
    QVERIFY2(from <= gotFirst + 1 + 6,
        qPrintable(QStringLiteral("first read %1, second starts at %2").arg(gotFirst).arg(from)));
}

PUSHCONSOLE_TEST_MAIN(tst_OfflinePromises)
#include "tst_offlinepromises.moc"
