#include "HeadlessChromium.h"
#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QJsonArray>

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
    void pageReceivesHttpPush();
    void pageReconnectsAfterRestart();

private:
    QString pageState(const QString &session);
    QStringList received(const QString &session);
    Run curlPush(quint16 httpPort, const QByteArray &body);

    QString m_curl;
    HeadlessChromium m_browser;
    Gateway m_gateway;
    QString m_session;
    quint16 m_wsPort = 0;
};

void tst_Browser::initTestCase()
{
    REQUIRE_PROGRAM("chromium");
    REQUIRE_PROGRAM("curl");
    m_curl = programPath(QStringLiteral("curl"));
    QVERIFY2(
        m_browser.start(programPath(QStringLiteral("chromium"))), qPrintable(m_browser.error()));
}

QString tst_Browser::pageState(const QString &session)
{
    return m_browser
        .evaluate(session, QStringLiteral("document.body ? document.body.dataset.state : ''"))
        .toString();
}

QStringList tst_Browser::received(const QString &session)
{
    const QJsonValue v = m_browser.evaluate(session,
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
    m_session = m_browser.openPage(
        QStringLiteral("http://127.0.0.1:%1/?uid=browser-1001").arg(m_gateway.httpPort()));
    QVERIFY2(!m_session.isEmpty(), qPrintable(m_browser.error()));

    QVERIFY2(waitFor([&] { return pageState(m_session) == QLatin1String("bound"); }, 20000),
        qPrintable(pageState(m_session) + QLatin1Char(' ') + m_browser.error()));
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
        qPrintable(m_browser.error()));
    QCOMPARE(list, QStringList {QString::fromUtf8(body)});
    // Each message shows when it arrived.
    const QString arrived = m_browser
                                .evaluate(m_session,
                                    QStringLiteral("document.querySelector('#messages li "
                                                   "time').dateTime"))
                                .toString();
    const QDateTime when = QDateTime::fromString(arrived, Qt::ISODateWithMs);
    QVERIFY2(when.isValid(), qPrintable(arrived));
    QVERIFY(qAbs(when.msecsTo(QDateTime::currentDateTimeUtc())) < 60000);
    QCOMPARE(
        m_browser
            .evaluate(m_session, QStringLiteral("document.getElementById('count').textContent"))
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
    m_browser.evaluate(m_session,
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
            status = m_browser.evaluate(m_session, firstClose).toString();
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
