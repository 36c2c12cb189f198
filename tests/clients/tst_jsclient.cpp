#include "HeadlessChromium.h"
#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace TestSupport;
using namespace HttpTestSupport;

namespace {

QByteArray push(GatewayProcess &gateway, const QByteArray &line)
{
    TextClient backend(gateway.textPort());
    return backend.request(line);
}

QString jsString(const QString &s)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray {s}).toJson(QJsonDocument::Compact))
        .mid(1)
        .chopped(1);
}

} // namespace

// clients/js/pushconsole-client.js in a real browser against the real
// gateway: headless Chromium loads the module from the gateway's /client.js,
// binds, receives, reconnects after a restart, gets a new token when its
// token expired or was refused, and stays down after 4001 and a kick.
class tst_JsClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void servedAsAModule();
    void bindsReceivesAndReconnectsAfterRestart();
    void newTokenAfterExpiryAndRefusal();
    void evictedOrKickedStaysClosed();
    void keepAliveHoldsAnIdleConnection();

private:
    // Opens the gateway's page and loads the harness; returns the session.
    QString openHarness(GatewayProcess &gateway);
    QJsonValue js(const QString &expression);
    bool waitJs(const QString &expression, int timeoutMs = 15000);
    QString lastStates(const char *name);

    HeadlessChromium m_browser;
    QString m_session;
    QTemporaryDir m_dir;
};

void tst_JsClient::initTestCase()
{
    REQUIRE_PROGRAM("chromium");
    QVERIFY(m_dir.isValid());
    QVERIFY2(
        m_browser.start(programPath(QStringLiteral("chromium"))), qPrintable(m_browser.error()));
}

// The harness runs in the gateway's test page, which is served only on request.
static QStringList withTestPage(QStringList args)
{
    args.prepend(QStringLiteral("--http-test-page"));
    return args;
}

QString tst_JsClient::openHarness(GatewayProcess &gateway)
{
    m_session = m_browser.openPage(QStringLiteral("http://127.0.0.1:%1/").arg(gateway.httpPort()));
    if (m_session.isEmpty())
        return {};
    // A new tab starts on about:blank: wait for the page itself.
    if (!waitJs(
            QStringLiteral("location.protocol === 'http:' && document.readyState === 'complete'")))
        return {};
    QFile harness(QStringLiteral(PUSHCONSOLE_SOURCE_DIR "/tests/clients/jsclient_harness.js"));
    if (!harness.open(QIODevice::ReadOnly))
        return {};
    js(QString::fromUtf8(harness.readAll()));
    if (js(QStringLiteral("h.ready")) != QJsonValue(true))
        return {};
    return m_session;
}

QJsonValue tst_JsClient::js(const QString &expression)
{
    return m_browser.evaluate(m_session, expression);
}

bool tst_JsClient::waitJs(const QString &expression, int timeoutMs)
{
    return waitFor([&] { return js(expression) == QJsonValue(true); }, timeoutMs);
}

QString tst_JsClient::lastStates(const char *name)
{
    return QString::fromUtf8(
               QJsonDocument(js(QStringLiteral("h.states.") + QLatin1String(name)).toArray())
                   .toJson(QJsonDocument::Compact))
        + QLatin1Char(' ') + m_browser.error();
}

void tst_JsClient::servedAsAModule()
{
    Gateway gateway;
    QVERIFY2(gateway.start(withTestPage({})), gateway.errors().constData());
    const Reply r =
        request("GET", QStringLiteral("http://127.0.0.1:%1/client.js").arg(gateway.httpPort()));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArray("text/javascript; charset=utf-8"));
    QCOMPARE(r.header("Access-Control-Allow-Origin"), QByteArray("*"));
    QFile source(QStringLiteral(PUSHCONSOLE_SOURCE_DIR "/clients/js/pushconsole-client.js"));
    QVERIFY(source.open(QIODevice::ReadOnly));
    QCOMPARE(r.body, source.readAll());
    // The test page itself loads it rather than carrying its own copy.
    QVERIFY2(!openHarness(gateway).isEmpty(), qPrintable(m_browser.error()));
    QCOMPARE(js(QStringLiteral("typeof pc.connect")).toString(), QStringLiteral("function"));
    QCOMPARE(js(QStringLiteral("document.querySelector('script[type=module]') !== null")),
        QJsonValue(true));
}

void tst_JsClient::bindsReceivesAndReconnectsAfterRestart()
{
    Gateway first;
    QVERIFY2(first.start(withTestPage({})), first.errors().constData());
    const quint16 wsPort = first.wsPort();
    QVERIFY2(!openHarness(first).isEmpty(), qPrintable(m_browser.error()));
    // Default backoff (1 s doubling to 30 s, full jitter): the timings below
    // are what a page sees.
    QVERIFY(js(QStringLiteral("h.start('a', 'ws://127.0.0.1:%1/', {uid: 'js-1001'})").arg(wsPort))
                .toBool());
    QVERIFY2(waitJs(QStringLiteral("h.clients.a.state === 'bound'")), qPrintable(lastStates("a")));
    WAIT_COMPARE(first.bindCount("js-1001"), 1);

    const QByteArray line = R"({"uid":"js-1001","msg":"锁已关闭 / lock closed","order":7})";
    QCOMPARE(push(first, line), QByteArray("ok\n"));
    QVERIFY2(waitJs(QStringLiteral("h.messages.a.length === 1")), qPrintable(lastStates("a")));
    QCOMPARE(js(QStringLiteral("h.messages.a[0].text")).toString(), QString::fromUtf8(line));
    QCOMPARE(js(QStringLiteral("h.messages.a[0].data.order")).toInt(), 7);

    // The gateway goes away (1001) and comes back on the same port.
    QVERIFY(first.stop());
    QVERIFY2(
        waitJs(QStringLiteral("h.clients.a.state === 'waiting'")), qPrintable(lastStates("a")));
    // The first wait, the one the close started: with full jitter the next
    // attempt (to a gateway still down, 1006) may already have come.
    const QJsonObject waiting =
        js(QStringLiteral("h.states.a.find(e => e.state === 'waiting')")).toObject();
    QCOMPARE(waiting.value(QStringLiteral("code")).toInt(), 1001);
    QCOMPARE(
        waiting.value(QStringLiteral("reason")).toString(), QStringLiteral("server shutting down"));
    QVERIFY(waiting.value(QStringLiteral("delay")).toDouble() < 1000);
    Gateway second;
    QVERIFY2(second.start(withTestPage({QStringLiteral("--ws-port=%1").arg(wsPort)})),
        second.errors().constData());
    const qint64 listeningAt = QDateTime::currentMSecsSinceEpoch();
    QVERIFY2(
        waitJs(QStringLiteral("h.statesOf('a').filter(s => s === 'bound').length === 2"), 40000),
        qPrintable(lastStates("a")));
    WAIT_COMPARE(second.bindCount("js-1001"), 1);
    QCOMPARE(push(second, R"({"uid":"js-1001","msg":"again"})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.a.length === 2")));
    QCOMPARE(js(QStringLiteral("h.messages.a[1].data.msg")).toString(), QStringLiteral("again"));

    // For the report: from the close to the new bind, and each wait.
    const QJsonArray states = js(QStringLiteral("h.states.a")).toArray();
    double closedAt = 0;
    double boundAt = 0;
    QStringList waits;
    for (const QJsonValue &v : states) {
        const QJsonObject e = v.toObject();
        const QString state = e.value(QStringLiteral("state")).toString();
        if (state == QLatin1String("waiting")) {
            if (!closedAt)
                closedAt = e.value(QStringLiteral("t")).toDouble();
            waits << QStringLiteral("%1 ms after %2")
                         .arg(e.value(QStringLiteral("delay")).toInt())
                         .arg(e.value(QStringLiteral("code")).toInt());
        } else if (state == QLatin1String("bound") && closedAt) {
            boundAt = e.value(QStringLiteral("t")).toDouble();
        }
    }
    qInfo("reconnect after a gateway restart: the new gateway listened %.0f ms after the 1001, "
          "the page was bound again after %.0f ms; waits: %s",
        double(listeningAt) - closedAt, boundAt - closedAt,
        qPrintable(waits.join(QLatin1String(", "))));
    QVERIFY(js(QStringLiteral("h.clients.a.close(), h.clients.a.state === 'closed'")).toBool());
    QVERIFY(second.stop());
}

void tst_JsClient::newTokenAfterExpiryAndRefusal()
{
    const QByteArray secretA = "test-secret-A-0123456789abcdef0123456789";
    const QByteArray secretB = "test-secret-B-0123456789abcdef0123456789";
    const QString fileA = m_dir.filePath(QStringLiteral("a.secret"));
    const QString fileB = m_dir.filePath(QStringLiteral("b.secret"));
    for (const auto &[path, secret] : {std::pair {fileA, secretA}, std::pair {fileB, secretB}}) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(secret + '\n');
    }
    const auto tokenArgs = [](const QString &file, quint16 wsPort) {
        QStringList args {
            QStringLiteral("--auth-secret-file=") + file, QStringLiteral("--auth-leeway=0")};
        if (wsPort)
            args << QStringLiteral("--ws-port=%1").arg(wsPort);
        return args;
    };

    Gateway first;
    QVERIFY2(first.start(withTestPage(tokenArgs(fileA, 0))), first.errors().constData());
    const quint16 wsPort = first.wsPort();
    QVERIFY2(!openHarness(first).isEmpty(), qPrintable(m_browser.error()));
    QVERIFY(js(QStringLiteral("h.secret = %1, h.ttl = 2, true")
                   .arg(jsString(QString::fromLatin1(secretA))))
                .toBool());
    QVERIFY(js(QStringLiteral("h.start('t', 'ws://127.0.0.1:%1/', {getToken: h.getToken('tok-1'), "
                              "minReconnectDelay: 200, maxReconnectDelay: 1000})")
                   .arg(wsPort))
                .toBool());
    QVERIFY2(waitJs(QStringLiteral("h.clients.t.state === 'bound'")), qPrintable(lastStates("t")));
    WAIT_COMPARE(first.bindCount("tok-1"), 1);
    QCOMPARE(push(first, R"({"uid":"tok-1","n":1})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.t.length === 1")));
    QCOMPARE(js(QStringLiteral("h.tokenCalls")).toInt(), 1);

    // The 2-second token expires; the gateway restarts. The client asks for
    // a new token before it reconnects, rather than being refused first.
    QVERIFY(waitJs(QStringLiteral("Date.now() / 1000 >= h.lastExp + 1"), 10000));
    QVERIFY(js(QStringLiteral("h.ttl = 300, true")).toBool());
    QVERIFY(first.stop());
    Gateway second;
    QVERIFY2(second.start(withTestPage(tokenArgs(fileA, wsPort))), second.errors().constData());
    QVERIFY2(
        waitJs(QStringLiteral("h.statesOf('t').filter(s => s === 'bound').length === 2"), 20000),
        qPrintable(lastStates("t")));
    WAIT_COMPARE(second.bindCount("tok-1"), 1);
    QCOMPARE(js(QStringLiteral("h.tokenCalls")).toInt(), 2);
    QCOMPARE(js(QStringLiteral("h.states.t.some(e => e.code === 1008)")), QJsonValue(false));
    QCOMPARE(push(second, R"({"uid":"tok-1","n":2})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.t.length === 2")));

    // The key is rotated while the gateway restarts: the cached token (not
    // expired) is refused with 1008 "bad signature"; the client asks again.
    QVERIFY(js(QStringLiteral("h.secret = %1, true").arg(jsString(QString::fromLatin1(secretB))))
                .toBool());
    QVERIFY(second.stop());
    Gateway third;
    QVERIFY2(third.start(withTestPage(tokenArgs(fileB, wsPort))), third.errors().constData());
    QVERIFY2(
        waitJs(QStringLiteral("h.statesOf('t').filter(s => s === 'bound').length === 4"), 20000),
        qPrintable(lastStates("t")));
    WAIT_COMPARE(third.bindCount("tok-1"), 1);
    QCOMPARE(
        js(QStringLiteral("h.states.t.filter(e => e.code === 1008).map(e => e.reason)")).toArray(),
        QJsonArray {QStringLiteral("bad signature")});
    QCOMPARE(js(QStringLiteral("h.tokenCalls")).toInt(), 3);
    QVERIFY(
        third.output().contains(" reject ") && third.output().contains("reason=\"bad signature\""));
    QCOMPARE(push(third, R"({"uid":"tok-1","n":3})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.t.length === 3")));
    QVERIFY(js(QStringLiteral("h.clients.t.close(), true")).toBool());
    QVERIFY(third.stop());
}

void tst_JsClient::evictedOrKickedStaysClosed()
{
    Gateway gateway;
    QVERIFY2(gateway.start(withTestPage({QStringLiteral("--max-conns-per-uid=1")})),
        gateway.errors().constData());
    QVERIFY2(!openHarness(gateway).isEmpty(), qPrintable(m_browser.error()));
    const QString options =
        QStringLiteral("{uid: 'dup', minReconnectDelay: 20, maxReconnectDelay: 100}");
    QVERIFY(js(QStringLiteral("h.start('old', 'ws://127.0.0.1:%1/', %2)")
                   .arg(gateway.wsPort())
                   .arg(options))
                .toBool());
    WAIT_COMPARE(gateway.bindCount("dup"), 1);
    // A second tab of the same uid takes the only place: the first gets 4001.
    QVERIFY(js(QStringLiteral("h.start('new', 'ws://127.0.0.1:%1/', %2)")
                   .arg(gateway.wsPort())
                   .arg(options))
                .toBool());
    QVERIFY2(
        waitJs(QStringLiteral("h.clients.old.state === 'closed'")), qPrintable(lastStates("old")));
    const QJsonObject closed = js(QStringLiteral("h.states.old.at(-1)")).toObject();
    QCOMPARE(closed.value(QStringLiteral("code")).toInt(), 4001);
    QCOMPARE(closed.value(QStringLiteral("reason")).toString(),
        QStringLiteral("too many connections for this uid"));
    // "closed" is final: the evicted tab does not come back to evict the other.
    QCOMPARE(js(QStringLiteral("h.statesOf('old').join()")).toString(),
        QStringLiteral("connecting,bound,closed"));
    QCOMPARE(push(gateway, R"({"uid":"dup","probe":1})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.new.length === 1")));
    QCOMPARE(js(QStringLiteral("h.messages.old.length")).toInt(), 0);
    QCOMPARE(gateway.bindCount("dup"), 2);
    QCOMPARE(js(QStringLiteral("h.clients.new.state")).toString(), QStringLiteral("bound"));

    // An operator's kick (1008 "disconnected by operator") sticks too.
    const Reply kick = request(
        "DELETE", QStringLiteral("http://127.0.0.1:%1/api/uids/dup").arg(gateway.httpPort()));
    QCOMPARE(kick.status, 200);
    QVERIFY2(
        waitJs(QStringLiteral("h.clients.new.state === 'closed'")), qPrintable(lastStates("new")));
    const QJsonObject kicked = js(QStringLiteral("h.states.new.at(-1)")).toObject();
    QCOMPARE(kicked.value(QStringLiteral("code")).toInt(), 1008);
    QCOMPARE(kicked.value(QStringLiteral("reason")).toString(),
        QStringLiteral("disconnected by operator"));
    QCOMPARE(push(gateway, R"({"uid":"dup","probe":2})"), QByteArray("fail\n"));
    QCOMPARE(gateway.bindCount("dup"), 2);
}

void tst_JsClient::keepAliveHoldsAnIdleConnection()
{
    // No pings from the gateway and a 2 s heartbeat: only the client's own
    // frames keep it.
    Gateway gateway;
    QVERIFY2(gateway.start(withTestPage(
                 {QStringLiteral("--ping-interval=0"), QStringLiteral("--heartbeat=2s")})),
        gateway.errors().constData());
    QVERIFY2(!openHarness(gateway).isEmpty(), qPrintable(m_browser.error()));
    QVERIFY(
        js(QStringLiteral("h.start('k', 'ws://127.0.0.1:%1/', {uid: 'ka', keepAliveInterval: 500})")
                .arg(gateway.wsPort()))
            .toBool());
    WAIT_COMPARE(gateway.bindCount("ka"), 1);
    // The control, bound after it: without keep-alive it is dropped.
    QVERIFY(js(QStringLiteral("h.start('n', 'ws://127.0.0.1:%1/', {uid: 'nka', "
                              "shouldReconnect: () => false})")
                   .arg(gateway.wsPort()))
                .toBool());
    WAIT_COMPARE(gateway.bindCount("nka"), 1);
    QVERIFY2(waitJs(QStringLiteral("h.clients.n.state === 'closed'"), 15000),
        qPrintable(lastStates("n")));
    QVERIFY(gateway.output().contains("reason=\"heartbeat timeout"));

    // The one with keep-alive is still there, on its first connection.
    QCOMPARE(push(gateway, R"({"uid":"ka","still":"here"})"), QByteArray("ok\n"));
    QVERIFY(waitJs(QStringLiteral("h.messages.k.length === 1")));
    QCOMPARE(js(QStringLiteral("h.statesOf('k').join()")).toString(),
        QStringLiteral("connecting,bound"));
    QCOMPARE(gateway.bindCount("ka"), 1);
    // Empty binary frames: activity, but nothing in the gateway's log.
    QVERIFY(!gateway.output().contains(" message conn="));
    QVERIFY(js(QStringLiteral("h.clients.k.close(), true")).toBool());
}

PUSHCONSOLE_TEST_MAIN(tst_JsClient)
#include "tst_jsclient.moc"
