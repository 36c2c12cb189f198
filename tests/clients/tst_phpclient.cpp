#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <csignal>

using namespace TestSupport;
using namespace HttpTestSupport;

namespace {

// clients/php/PushClient.php in php-cli, driven line by line through
// tests/clients/push_driver.php, so the test can restart or stop the gateway
// between two pushes of the same PushClient object.
class PhpDriver final
{
public:
    bool start(const QString &php, quint16 textPort, const QStringList &extra = {})
    {
        m_process.start(php,
            QStringList {QStringLiteral(PUSHCONSOLE_SOURCE_DIR "/tests/clients/push_driver.php"),
                QStringLiteral("127.0.0.1:%1").arg(textPort)}
                + extra);
        return m_process.waitForStarted(10000);
    }
    ~PhpDriver()
    {
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
    }
    QJsonObject run(const QJsonObject &command, int timeoutMs = 30000)
    {
        return run(QJsonDocument(command).toJson(QJsonDocument::Compact), timeoutMs);
    }
    // The command as JSON text: QJsonObject would sort a payload's members.
    QJsonObject run(const QByteArray &command, int timeoutMs = 30000)
    {
        m_process.write(command + '\n');
        QByteArray line;
        waitFor(
            [&] {
                m_out += m_process.readAllStandardOutput();
                const qsizetype nl = m_out.indexOf('\n');
                if (nl < 0)
                    return m_process.state() == QProcess::NotRunning;
                line = m_out.left(nl);
                m_out.remove(0, nl + 1);
                return true;
            },
            timeoutMs);
        if (line.isEmpty())
            qWarning("php: no answer: %s", m_process.readAllStandardError().constData());
        return QJsonDocument::fromJson(line).object();
    }
    QJsonObject push(const QJsonValue &uid, const QJsonValue &payload = QJsonObject())
    {
        return run({{QStringLiteral("op"), QStringLiteral("push")}, {QStringLiteral("uid"), uid},
            {QStringLiteral("payload"), payload}});
    }

private:
    QProcess m_process;
    QByteArray m_out;
};

QString reply(const QJsonObject &result)
{
    return result.value(QStringLiteral("reply")).toString();
}

QString dump(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)).left(600);
}

QStringList strings(const QJsonValue &array)
{
    QStringList list;
    for (const QJsonValue &v : array.toArray())
        list << v.toString();
    return list;
}

// Sends the uid and waits until the gateway's log says it is bound.
bool bindOn(GatewayProcess &gateway, WsClient &client, const QByteArray &uid)
{
    const QRegularExpression bound(QStringLiteral(" info bind conn=\\d+ uid=%1 ")
                                       .arg(QRegularExpression::escape(QString::fromUtf8(uid))));
    const qsizetype before = QString::fromUtf8(gateway.output()).count(bound);
    if (!client.waitConnected())
        return false;
    client.socket.sendTextMessage(QString::fromUtf8(uid));
    return waitFor(
        [&] { return QString::fromUtf8(gateway.output()).count(bound) > before; }, 10000);
}

double metric(GatewayProcess &gateway, const QByteArray &name)
{
    const Reply r =
        request("GET", QStringLiteral("http://127.0.0.1:%1/metrics").arg(gateway.httpPort()));
    for (const QByteArray &line : r.body.split('\n')) {
        if (line.startsWith(name + ' '))
            return line.mid(name.size() + 1).toDouble();
    }
    return -1;
}

} // namespace

// The PHP client against the real gateway: replies, byte-for-byte payloads
// (the same bytes as the seed's callback), pipelining in order on one
// connection, the error path, a gateway restart between pushes, and a push
// that may have been delivered reported instead of retried.
class tst_PhpClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void okFailAndTheSeedsBytes();
    void queuedWithOfflineDelivery();
    void pipelinedInOrderOnOneConnection();
    void refusalsAreExceptions();
    void gatewayRestartBetweenPushes();
    void unansweredPushIsReportedNotRetried();

private:
    QString m_php;
    QTemporaryDir m_dir;
};

void tst_PhpClient::initTestCase()
{
    REQUIRE_PROGRAM("php");
    m_php = programPath(QStringLiteral("php"));
    QVERIFY(m_dir.isValid());
}

void tst_PhpClient::okFailAndTheSeedsBytes()
{
    Gateway gateway;
    QVERIFY2(gateway.start(), gateway.errors().constData());
    WsClient rider(gateway.wsPort());
    QVERIFY(bindOn(gateway, rider, "1001"));
    WsClient numeric(gateway.wsPort());
    QVERIFY(bindOn(gateway, numeric, "1002"));

    PhpDriver php;
    QVERIFY(php.start(m_php, gateway.textPort()));
    // The seed's row, as a PDO fetch gives it: string uid, Chinese text.
    const QByteArray row =
        R"({"uid":"1001","order_sn":"B20200113001","status":"锁已关闭","url":"https://x/y"})";
    QCOMPARE(reply(php.run(R"({"op":"push","uid":"1001","payload":)" + row + '}')),
        QStringLiteral("ok"));
    QVERIFY(rider.waitForMessages(1));
    // json_encode($row) with its \u escapes and \/, exactly as the seed sent it.
    QCOMPARE(rider.messages.at(0),
        QStringLiteral(
            R"({"uid":"1001","order_sn":"B20200113001","status":"\u9501\u5df2\u5173\u95ed","url":"https:\/\/x\/y"})"));

    // The seed's own callback, run with the same row, sends the same frame.
    QProcess seed;
    seed.start(m_php,
        {QStringLiteral(PUSHCONSOLE_SOURCE_DIR "/tests/php/run_seed_callback.php"),
            QString::fromUtf8(row), QString::number(gateway.textPort())});
    WAIT_COMPARE(seed.state(), QProcess::NotRunning, 15000);
    QCOMPARE(seed.readAllStandardOutput(), QByteArray("订单消息推送ok\n"));
    QVERIFY(rider.waitForMessages(2));
    QCOMPARE(rider.messages.at(1), rider.messages.at(0));

    // An integer uid, a payload without uid (uid goes first), a JSON string.
    QCOMPARE(
        reply(php.push(1002, QJsonObject {{QStringLiteral("fee"), 1.5}})), QStringLiteral("ok"));
    QCOMPARE(reply(php.push(QStringLiteral("1002"), QStringLiteral(R"({"msg":"lock closed"})"))),
        QStringLiteral("ok"));
    QCOMPARE(reply(php.push(QStringLiteral("1002"), QStringLiteral(R"( {"uid":1002, "x":[1]})"))),
        QStringLiteral("ok"));
    QVERIFY(numeric.waitForMessages(3));
    QCOMPARE(numeric.messages,
        (QList<QString> {QStringLiteral(R"({"uid":1002,"fee":1.5})"),
            QStringLiteral(R"({"uid":"1002","msg":"lock closed"})"),
            QStringLiteral(R"( {"uid":1002, "x":[1]})")}));
    // A list and the broadcast.
    QCOMPARE(reply(php.push(QJsonArray {1001, QStringLiteral("1002")}, QJsonObject())),
        QStringLiteral("ok"));
    QCOMPARE(reply(php.push(QStringLiteral("404"))), QStringLiteral("fail"));
    QCOMPARE(reply(php.push(QJsonArray {QStringLiteral("404"), 405})), QStringLiteral("fail"));
    QCOMPARE(reply(php.push(QStringLiteral("*"), QJsonObject {{QStringLiteral("all"), true}})),
        QStringLiteral("ok"));
    QVERIFY(rider.waitForMessages(4));
    QVERIFY(numeric.waitForMessages(5));
    QCOMPARE(rider.messages.at(3), QStringLiteral(R"({"uid":"*","all":true})"));
    QCOMPARE(numeric.messages.at(3), QStringLiteral(R"({"uid":[1001,"1002"]})"));
}

void tst_PhpClient::queuedWithOfflineDelivery()
{
    Gateway gateway;
    QVERIFY2(
        gateway.start({QStringLiteral("--offline-ttl=60"),
            QStringLiteral("--offline-db=") + m_dir.filePath(QStringLiteral("offline.sqlite"))}),
        gateway.errors().constData());
    PhpDriver php;
    QVERIFY(php.start(m_php, gateway.textPort()));
    QCOMPARE(reply(php.push(QStringLiteral("later"), QJsonObject {{QStringLiteral("n"), 1}})),
        QStringLiteral("queued"));
    WsClient client(gateway.wsPort());
    QVERIFY(bindOn(gateway, client, "later"));
    QVERIFY(client.waitForMessages(1));
    QCOMPARE(client.messages.at(0), QStringLiteral(R"({"uid":"later","n":1})"));
    QCOMPARE(reply(php.push(QStringLiteral("later"))), QStringLiteral("ok"));
}

void tst_PhpClient::pipelinedInOrderOnOneConnection()
{
    Gateway gateway;
    QVERIFY2(gateway.start(), gateway.errors().constData());
    WsClient client(gateway.wsPort());
    QVERIFY(bindOn(gateway, client, "p1"));
    PhpDriver php;
    QVERIFY(php.start(m_php, gateway.textPort()));

    // 5000 pushes, several windows' worth, alternating online and offline.
    const int count = 5000;
    const QJsonObject result = php.run({{QStringLiteral("op"), QStringLiteral("seq")},
        {QStringLiteral("count"), count},
        {QStringLiteral("uids"), QJsonArray {QStringLiteral("p1"), QStringLiteral("offline")}}});
    const QStringList replies = strings(result.value(QStringLiteral("replies")));
    QCOMPARE(replies.size(), count);
    for (int i = 0; i < count; ++i)
        QCOMPARE(replies.at(i), i % 2 ? QStringLiteral("fail") : QStringLiteral("ok"));
    QVERIFY(client.waitForMessages(count / 2, 20000));
    for (int i = 0; i < count / 2; ++i)
        QCOMPARE(client.messages.at(i), QStringLiteral(R"({"uid":"p1","seq":%1})").arg(2 * i));

    // Still the same single connection, and single pushes reuse it.
    QCOMPARE(reply(php.push(QStringLiteral("p1"))), QStringLiteral("ok"));
    QCOMPARE(metric(gateway, "pushconsole_text_connections"), 1.0);
    QCOMPARE(metric(gateway, "pushconsole_pushes_total{source=\"text\",result=\"ok\"}"),
        double(count / 2 + 1));
}

void tst_PhpClient::refusalsAreExceptions()
{
    Gateway gateway;
    QVERIFY2(gateway.start({QStringLiteral("--max-line=1K")}), gateway.errors().constData());
    WsClient client(gateway.wsPort());
    QVERIFY(bindOn(gateway, client, "e1"));
    PhpDriver php;
    QVERIFY(php.start(m_php, gateway.textPort(), {QStringLiteral("5"), QStringLiteral("1024")}));

    QJsonObject r = php.push(QStringLiteral("not a uid"));
    QCOMPARE(r.value(QStringLiteral("exception")).toString(),
        QStringLiteral("PushConsole\\PushRefusedException"));
    QCOMPARE(r.value(QStringLiteral("message")).toString(), QStringLiteral("error: invalid uid"));
    QCOMPARE(r.value(QStringLiteral("maySent")).toBool(), false);

    // In a pipeline the others are still answered, in order.
    r = php.run({{QStringLiteral("op"), QStringLiteral("many")},
        {QStringLiteral("pushes"),
            QJsonArray {QJsonArray {QStringLiteral("e1"), QJsonObject {{QStringLiteral("n"), 1}}},
                QJsonArray {QJsonArray(), QJsonObject()},
                QJsonArray {QStringLiteral("e1"), QJsonObject {{QStringLiteral("n"), 2}}}}}});
    QCOMPARE(r.value(QStringLiteral("exception")).toString(),
        QStringLiteral("PushConsole\\PushRefusedException"));
    QCOMPARE(
        r.value(QStringLiteral("message")).toString(), QStringLiteral("error: empty uid list"));
    QCOMPARE(r.value(QStringLiteral("index")).toInt(), 1);
    QCOMPARE(strings(r.value(QStringLiteral("replies"))),
        (QStringList {
            QStringLiteral("ok"), QStringLiteral("error: empty uid list"), QStringLiteral("ok")}));
    QVERIFY(client.waitForMessages(2));

    // Caught before anything is sent: a payload addressed to someone else,
    // a pretty-printed JSON string, a line over the limit.
    const QJsonObject mismatch =
        php.push(QStringLiteral("e1"), QJsonObject {{QStringLiteral("uid"), QStringLiteral("e2")}});
    QCOMPARE(mismatch.value(QStringLiteral("exception")).toString(),
        QStringLiteral("InvalidArgumentException"));
    QVERIFY2(mismatch.value(QStringLiteral("message")).toString().contains(QLatin1String("\"e2\"")),
        qPrintable(dump(mismatch)));
    QCOMPARE(php.push(QStringLiteral("e1"), QStringLiteral("{\n\"a\": 1\n}"))
                 .value(QStringLiteral("exception"))
                 .toString(),
        QStringLiteral("InvalidArgumentException"));
    QCOMPARE(php.push(QStringLiteral("e1"), QStringLiteral("[1,2]"))
                 .value(QStringLiteral("exception"))
                 .toString(),
        QStringLiteral("InvalidArgumentException"));
    const QJsonObject tooLong = php.push(QStringLiteral("e1"),
        QJsonObject {{QStringLiteral("text"), QString(2000, QLatin1Char('x'))}});
    QCOMPARE(tooLong.value(QStringLiteral("exception")).toString(),
        QStringLiteral("InvalidArgumentException"));
    // Nothing of that reached the gateway, and the connection is still good.
    QCOMPARE(reply(php.push(QStringLiteral("e1"), QJsonObject {{QStringLiteral("n"), 3}})),
        QStringLiteral("ok"));
    QVERIFY(client.waitForMessages(3));
    QCOMPARE(client.messages.at(2), QStringLiteral(R"({"uid":"e1","n":3})"));
    QCOMPARE(metric(gateway, "pushconsole_pushes_total{source=\"text\",result=\"error\"}"), 2.0);
    QCOMPARE(metric(gateway, "pushconsole_text_connections"), 1.0);
}

void tst_PhpClient::gatewayRestartBetweenPushes()
{
    Gateway first;
    QVERIFY2(first.start(), first.errors().constData());
    const quint16 textPort = first.textPort();
    const quint16 wsPort = first.wsPort();
    auto client = std::make_unique<WsClient>(wsPort);
    QVERIFY(bindOn(first, *client, "r1"));
    PhpDriver php;
    QVERIFY(php.start(m_php, textPort));
    QCOMPARE(reply(php.push(QStringLiteral("r1"), QJsonObject {{QStringLiteral("n"), 1}})),
        QStringLiteral("ok"));

    // Down: the idle connection was closed by the gateway; nothing was sent.
    QVERIFY(first.stop());
    QJsonObject r = php.push(QStringLiteral("r1"), QJsonObject {{QStringLiteral("n"), 2}});
    QCOMPARE(r.value(QStringLiteral("exception")).toString(),
        QStringLiteral("PushConsole\\PushConnectionException"));
    QVERIFY2(
        r.value(QStringLiteral("message")).toString().startsWith(QLatin1String("cannot connect")),
        qPrintable(dump(r)));
    QCOMPARE(r.value(QStringLiteral("maySent")).toBool(), false);

    // Up again on the same ports: the same PushClient goes on.
    Gateway second;
    QVERIFY2(second.start({QStringLiteral("--text-port=%1").arg(textPort),
                 QStringLiteral("--ws-port=%1").arg(wsPort)}),
        second.errors().constData());
    client = std::make_unique<WsClient>(wsPort);
    QVERIFY(bindOn(second, *client, "r1"));
    QCOMPARE(reply(php.push(QStringLiteral("r1"), QJsonObject {{QStringLiteral("n"), 3}})),
        QStringLiteral("ok"));

    // Restarted while the client holds an open, idle connection: the closed
    // connection is noticed before writing, and the push goes out on a new one.
    QVERIFY(second.stop());
    Gateway third;
    QVERIFY2(third.start({QStringLiteral("--text-port=%1").arg(textPort),
                 QStringLiteral("--ws-port=%1").arg(wsPort)}),
        third.errors().constData());
    client = std::make_unique<WsClient>(wsPort);
    QVERIFY(bindOn(third, *client, "r1"));
    r = php.run({{QStringLiteral("op"), QStringLiteral("seq")}, {QStringLiteral("count"), 3},
        {QStringLiteral("uids"), QJsonArray {QStringLiteral("r1")}}});
    QCOMPARE(strings(r.value(QStringLiteral("replies"))),
        (QStringList {QStringLiteral("ok"), QStringLiteral("ok"), QStringLiteral("ok")}));
    QVERIFY(client->waitForMessages(3));
    QCOMPARE(client->messages.at(0), QStringLiteral(R"({"uid":"r1","seq":0})"));
    QVERIFY(third.stop());
}

void tst_PhpClient::unansweredPushIsReportedNotRetried()
{
    Gateway gateway;
    QVERIFY2(gateway.start(), gateway.errors().constData());
    WsClient client(gateway.wsPort());
    QVERIFY(bindOn(gateway, client, "s1"));
    PhpDriver php;
    // A 1 s reply timeout.
    QVERIFY(php.start(m_php, gateway.textPort(), {QStringLiteral("1")}));
    QCOMPARE(reply(php.push(QStringLiteral("s1"), QJsonObject {{QStringLiteral("n"), 0}})),
        QStringLiteral("ok"));
    QVERIFY(client.waitForMessages(1));

    // The gateway hangs with the push in its socket: no reply in time. The
    // push may have been delivered, so it is reported and not sent again.
    const qint64 pid = gateway.process().processId();
    QCOMPARE(::kill(pid_t(pid), SIGSTOP), 0);
    const QJsonObject r = php.push(QStringLiteral("s1"), QJsonObject {{QStringLiteral("n"), 1}});
    QCOMPARE(::kill(pid_t(pid), SIGCONT), 0);
    QCOMPARE(r.value(QStringLiteral("exception")).toString(),
        QStringLiteral("PushConsole\\PushConnectionException"));
    QVERIFY2(r.value(QStringLiteral("message")).toString().contains(QLatin1String("no reply")),
        qPrintable(dump(r)));
    QCOMPARE(r.value(QStringLiteral("maySent")).toBool(), true);
    QCOMPARE(r.value(QStringLiteral("unanswered")).toInt(), 1);

    // The next push opens a new connection. The hung one was delivered once
    // the gateway went on; a retry would have come before this probe.
    QCOMPARE(reply(php.push(QStringLiteral("s1"), QJsonObject {{QStringLiteral("n"), 2}})),
        QStringLiteral("ok"));
    QVERIFY(client.waitForMessages(3));
    QCOMPARE(client.messages.count(QStringLiteral(R"({"uid":"s1","n":1})")), 1);
    QCOMPARE(client.messages.count(QStringLiteral(R"({"uid":"s1","n":2})")), 1);
    QCOMPARE(client.messages.size(), 3);
}

PUSHCONSOLE_TEST_MAIN(tst_PhpClient)
#include "tst_phpclient.moc"
