#include "CdpClient.h"
#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QTemporaryDir>

using namespace TestSupport;
using namespace HttpTestSupport;

// A real browser end to end: headless Chromium opens the test page served
// by a running `pushconsole --no-gui`, the page binds a uid over WebSocket,
// a push goes in through POST /api/push (with curl) and the test reads the
// page's list of received messages over the DevTools protocol.
class tst_Browser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void pageReceivesHttpPush();
    void pageReconnectsAfterRestart();

private:
    bool startBrowser();
    QString openPage(const QString &url); // returns a session id
    QString pageState(const QString &session);
    QStringList received(const QString &session);
    Run curlPush(quint16 httpPort, const QByteArray &body);

    QString m_chromium;
    QString m_curl;
    QTemporaryDir m_profile;
    QProcess m_browser;
    QByteArray m_browserErrors;
    CdpClient m_cdp;
    Gateway m_gateway;
    QString m_session;
    quint16 m_wsPort = 0;
};

void tst_Browser::initTestCase()
{
    REQUIRE_PROGRAM("chromium");
    REQUIRE_PROGRAM("curl");
    m_chromium = programPath(QStringLiteral("chromium"));
    m_curl = programPath(QStringLiteral("curl"));
    QVERIFY(m_profile.isValid());
    QVERIFY2(startBrowser(), m_browserErrors.constData());
}

void tst_Browser::cleanupTestCase()
{
    if (m_browser.state() == QProcess::NotRunning)
        return;
    m_cdp.call(QStringLiteral("Browser.close"), {}, {}, 3000);
    if (!waitFor([&] { return m_browser.state() == QProcess::NotRunning; }, 5000)) {
        m_browser.terminate();
        if (!m_browser.waitForFinished(3000))
            m_browser.kill();
    }
}

bool tst_Browser::startBrowser()
{
    QProcessEnvironment env = TestSupport::headlessEnvironment();
    // Nothing of the test run may land in the real home directory.
    env.insert(QStringLiteral("HOME"), m_profile.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_profile.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), m_profile.filePath(QStringLiteral("cache")));
    m_browser.setProcessEnvironment(env);
    // The machine has no internet: everything that would call home is off.
    // --no-sandbox because CI runs as root, where Chromium's sandbox refuses.
    m_browser.start(m_chromium,
        {QStringLiteral("--headless"), QStringLiteral("--no-sandbox"),
            QStringLiteral("--disable-gpu"), QStringLiteral("--disable-quic"),
            QStringLiteral("--no-first-run"), QStringLiteral("--no-default-browser-check"),
            QStringLiteral("--disable-background-networking"),
            QStringLiteral("--disable-component-update"), QStringLiteral("--disable-sync"),
            QStringLiteral("--disable-extensions"), QStringLiteral("--disable-default-apps"),
            QStringLiteral("--disable-dev-shm-usage"), QStringLiteral("--disable-breakpad"),
            QStringLiteral("--mute-audio"),
            QStringLiteral("--user-data-dir=") + m_profile.filePath(QStringLiteral("profile")),
            QStringLiteral("--remote-debugging-port=0"), QStringLiteral("about:blank")});
    const QRegularExpression devtools(QStringLiteral(R"(DevTools listening on (ws://\S+))"));
    QString url;
    waitFor(
        [&] {
            m_browserErrors += m_browser.readAllStandardError();
            const auto m = devtools.match(QString::fromUtf8(m_browserErrors));
            if (m.hasMatch())
                url = m.captured(1);
            return !url.isEmpty() || m_browser.state() == QProcess::NotRunning;
        },
        30000);
    if (url.isEmpty())
        return false;
    if (!m_cdp.open(QUrl(url))) {
        m_browserErrors += m_cdp.error().toUtf8();
        return false;
    }
    return true;
}

QString tst_Browser::openPage(const QString &url)
{
    const QJsonObject target =
        m_cdp.call(QStringLiteral("Target.createTarget"), {{QStringLiteral("url"), url}});
    const QString targetId = target.value(QStringLiteral("targetId")).toString();
    if (targetId.isEmpty())
        return {};
    const QJsonObject attached = m_cdp.call(QStringLiteral("Target.attachToTarget"),
        {{QStringLiteral("targetId"), targetId}, {QStringLiteral("flatten"), true}});
    return attached.value(QStringLiteral("sessionId")).toString();
}

QString tst_Browser::pageState(const QString &session)
{
    return m_cdp
        .evaluate(session, QStringLiteral("document.body ? document.body.dataset.state : ''"))
        .toString();
}

QStringList tst_Browser::received(const QString &session)
{
    const QJsonValue v = m_cdp.evaluate(session,
        QStringLiteral("Array.from(document.querySelectorAll('#messages li code'))"
                       ".map(e => e.textContent)"));
    QStringList list;
    for (const QJsonValue &item : v.toArray())
        list << item.toString();
    return list;
}

Run tst_Browser::curlPush(quint16 httpPort, const QByteArray &body)
{
    return run(m_curl,
        {QStringLiteral("-sS"), QStringLiteral("-H"),
            QStringLiteral("Content-Type: application/json"), QStringLiteral("--data-binary"),
            QString::fromUtf8(body), QStringLiteral("http://127.0.0.1:%1/api/push").arg(httpPort)});
}

void tst_Browser::pageReceivesHttpPush()
{
    // The test page is served only when asked for.
    QVERIFY2(m_gateway.start({QStringLiteral("--http-test-page")}),
        m_gateway.output() + m_gateway.errors());
    m_wsPort = m_gateway.wsPort();
    // No port in the address: the page must take the gateway's real
    // WebSocket port from the page the gateway served.
    m_session =
        openPage(QStringLiteral("http://127.0.0.1:%1/?uid=browser-1001").arg(m_gateway.httpPort()));
    QVERIFY2(!m_session.isEmpty(), qPrintable(m_cdp.error()));

    QVERIFY2(waitFor([&] { return pageState(m_session) == QLatin1String("bound"); }, 20000),
        qPrintable(pageState(m_session) + QLatin1Char(' ') + m_cdp.error()));
    // The bind is not acknowledged: wait until the gateway lists the uid.
    const QString uidUrl =
        QStringLiteral("http://127.0.0.1:%1/api/uids/browser-1001").arg(m_gateway.httpPort());
    WAIT_COMPARE(request("GET", uidUrl).status, 200, 10000);
    QVERIFY(received(m_session).isEmpty());

    const QByteArray body = R"({"uid":"browser-1001","msg":"锁已关闭 / lock closed","order":7})";
    const Run push = curlPush(m_gateway.httpPort(), body);
    QVERIFY2(push.finished && push.exitCode == 0, push.err.constData());
    QCOMPARE(push.out, QByteArray(R"({"result":"ok","delivered":1})"));

    QStringList list;
    QVERIFY2(waitFor(
                 [&] {
                     list = received(m_session);
                     return !list.isEmpty();
                 },
                 10000),
        qPrintable(m_cdp.error()));
    QCOMPARE(list, QStringList {QString::fromUtf8(body)});
    // Each message shows when it arrived.
    const QString arrived = m_cdp
                                .evaluate(m_session,
                                    QStringLiteral("document.querySelector('#messages li "
                                                   "time').dateTime"))
                                .toString();
    const QDateTime when = QDateTime::fromString(arrived, Qt::ISODateWithMs);
    QVERIFY2(when.isValid(), qPrintable(arrived));
    QVERIFY(qAbs(when.msecsTo(QDateTime::currentDateTimeUtc())) < 60000);
    QCOMPARE(
        m_cdp.evaluate(m_session, QStringLiteral("document.getElementById('count').textContent"))
            .toString(),
        QStringLiteral("1"));

    // The operator's log says where the push came from.
    WAIT_VERIFY2(m_gateway.output().contains(
                     " debug push source=http result=ok delivered=1 uid=browser-1001 "),
        m_gateway.output().right(1500));
    QVERIFY(m_gateway.output().contains(" from=127.0.0.1:"));
}

void tst_Browser::pageReconnectsAfterRestart()
{
    QVERIFY2(!m_session.isEmpty(), "needs the page of the previous test");
    // Every text the state line shows from now on: the first close must be
    // read as it was, not after a reconnect attempt (to a gateway still
    // down) has replaced it with its own 1006.
    m_cdp.evaluate(m_session,
        QStringLiteral("window.stateLog = []; new MutationObserver(() => "
                       "window.stateLog.push(document.getElementById('state').textContent))"
                       ".observe(document.getElementById('state'), "
                       "{childList: true, characterData: true, subtree: true}); true"));
    QVERIFY(m_gateway.stop()); // clients get 1001 "going away"
    const QString firstClose =
        QStringLiteral("window.stateLog.find(t => t.startsWith('Connection closed')) || ''");
    QString status;
    WAIT_UNTIL(
        [&] {
            status = m_cdp.evaluate(m_session, firstClose).toString();
            return !status.isEmpty();
        },
        pageState(m_session), 10000);
    QVERIFY2(status.contains(QLatin1String("code 1001")), qPrintable(status));
    QVERIFY2(status.contains(QLatin1String("Reconnecting in")), qPrintable(status));

    // A new gateway on the same WebSocket port: the page comes back by itself.
    Gateway second;
    QVERIFY2(second.start({QStringLiteral("--ws-port=%1").arg(m_wsPort)}),
        second.output() + second.errors());
    QVERIFY2(waitFor([&] { return pageState(m_session) == QLatin1String("bound"); }, 30000),
        qPrintable(pageState(m_session)));
    const QString uidUrl =
        QStringLiteral("http://127.0.0.1:%1/api/uids/browser-1001").arg(second.httpPort());
    WAIT_COMPARE(request("GET", uidUrl).status, 200, 10000);

    const QByteArray body = R"({"uid":"browser-1001","msg":"again"})";
    const Run push = curlPush(second.httpPort(), body);
    QCOMPARE(push.out, QByteArray(R"({"result":"ok","delivered":1})"));
    QStringList list;
    WAIT_UNTIL(
        [&] {
            list = received(m_session);
            return list.size() == 2;
        },
        list);
    QCOMPARE(list.front(), QString::fromUtf8(body)); // newest first
    QVERIFY(second.stop());
}

PUSHCONSOLE_TEST_MAIN(tst_Browser)
#include "tst_browser.moc"
