#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "ConfigLoader.h"

#include <QTcpServer>
#include <QTemporaryDir>

using namespace TestSupport;
using namespace HttpTestSupport;

// The HTTP options of the real binary, as an operator meets them: the
// listening line, --http-port -1, a busy port, a bad key file, the INI.
class tst_HttpHeadless : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void listeningLineNamesTheHttpPort();
    void httpPortMinusOneMeansNone();
    void busyHttpPortFailsClearly();
    void missingKeyFileFailsClearly();
    void badHttpOptionsFailClearly_data();
    void badHttpOptionsFailClearly();
    void httpOptionsAreRead();
    void keyFileFromIniIsUsed();
    void helpListsTheHttpOptions();

private:
    static Run runBinary(const QStringList &args, int timeoutMs = 10000)
    {
        QProcess p;
        p.setProcessEnvironment(TestSupport::headlessEnvironment());
        p.start(QStringLiteral(PUSHCONSOLE_BINARY), args);
        Run r;
        r.finished = p.waitForFinished(timeoutMs);
        if (!r.finished) {
            p.kill();
            p.waitForFinished();
        }
        r.exitCode = p.exitCode();
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }
    static QStringList basicArgs()
    {
        return {QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
            QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0")};
    }
};

void tst_HttpHeadless::listeningLineNamesTheHttpPort()
{
    Gateway g;
    QVERIFY2(g.start(), g.output() + g.errors());
    QVERIFY(g.httpPort() > 0);
    const Reply r = request("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(g.httpPort()));
    QCOMPARE(r.status, 200);
    QVERIFY(g.stop());
}

void tst_HttpHeadless::httpPortMinusOneMeansNone()
{
    for (const QStringList &option : {QStringList {QStringLiteral("--http-port=-1")},
             QStringList {QStringLiteral("--http-port"), QStringLiteral("-1")}}) {
        QProcess p;
        p.setProcessEnvironment(TestSupport::headlessEnvironment());
        p.start(QStringLiteral(PUSHCONSOLE_BINARY), basicArgs() + option);
        QByteArray out;
        WAIT_UNTIL(
            [&] {
                out += p.readAllStandardOutput();
                return out.contains(" max-fds=") || p.state() == QProcess::NotRunning;
            },
            out, 10000);
        QVERIFY2(out.contains(" http=off max-fds="), out.constData());
        p.terminate();
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 0);
    }
}

void tst_HttpHeadless::busyHttpPortFailsClearly()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    const Run r =
        runBinary(basicArgs() << QStringLiteral("--http-port=%1").arg(squatter.serverPort()));
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.startsWith("pushconsole: cannot listen for HTTP requests on 127.0.0.1:"
                 + QByteArray::number(squatter.serverPort()) + ": "),
        r.err.constData());
}

void tst_HttpHeadless::missingKeyFileFailsClearly()
{
    const Run r = runBinary(basicArgs()
        << QStringLiteral("--http-port=0")
        << QStringLiteral("--http-api-key-file=/nonexistent/pushconsole.key"));
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("pushconsole: cannot read the HTTP API key file "
                            "\"/nonexistent/pushconsole.key\": "),
        r.err.constData());
}

void tst_HttpHeadless::badHttpOptionsFailClearly_data()
{
    QTest::addColumn<QString>("option");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("port too big") << QStringLiteral(
        "--http-port=70000") << QByteArray("--http-port: invalid value \"70000\" for http-port");
    QTest::newRow("port -2") << QStringLiteral("--http-port=-2")
                             << QByteArray("--http-port: invalid value \"-2\" for http-port");
    QTest::newRow("bad address") << QStringLiteral("--http-bind=example")
                                 << QByteArray("--http-bind: invalid value \"example\"");
    QTest::newRow("empty key file") << QStringLiteral("--http-api-key-file=")
                                    << QByteArray("--http-api-key-file: invalid value");
    QTest::newRow("origin null") << QStringLiteral("--http-allow-origin=null")
                                 << QByteArray("--http-allow-origin: invalid value \"null\"");
    QTest::newRow("origin *") << QStringLiteral("--http-allow-origin=*")
                              << QByteArray("--http-allow-origin: invalid value \"*\"");
    QTest::newRow("origin with a path")
        << QStringLiteral("--http-allow-origin=https://a.example/admin")
        << QByteArray("--http-allow-origin: invalid value");
    QTest::newRow("host with a space")
        << QStringLiteral("--http-host=a b") << QByteArray("--http-host: invalid value \"a b\"");
    QTest::newRow("no connections") << QStringLiteral("--max-http-conns=0")
                                    << QByteArray("--max-http-conns: invalid value \"0\"");
    QTest::newRow("no requests in flight") << QStringLiteral(
        "--http-max-in-flight=0") << QByteArray("--http-max-in-flight: invalid value \"0\"");
    QTest::newRow("output of 1 byte") << QStringLiteral("--http-max-output=1")
                                      << QByteArray("--http-max-output: invalid value \"1\"");
    QTest::newRow("no request time") << QStringLiteral("--http-request-timeout=0")
                                     << QByteArray("--http-request-timeout: invalid value");
    QTest::newRow("idle 10 ms") << QStringLiteral("--http-idle-timeout=10ms")
                                << QByteArray("--http-idle-timeout: invalid value");
}

void tst_HttpHeadless::httpOptionsAreRead()
{
    const auto r = ConfigLoader::load({QStringLiteral("pushconsole"),
        QStringLiteral("--http-allow-origin"),
        QStringLiteral("HTTPS://Admin.Example.com:443/, http://localhost:8080"),
        QStringLiteral("--http-host=API.example.com.,*"), QStringLiteral("--http-public-metrics"),
        QStringLiteral("--http-test-page"), QStringLiteral("--max-http-conns=7"),
        QStringLiteral("--http-max-output=64K"), QStringLiteral("--http-max-in-flight=3"),
        QStringLiteral("--http-request-timeout=1500ms"), QStringLiteral("--http-idle-timeout=2m")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    const Config &c = r.config;
    // As a browser sends an Origin: lower case, no default port, no slash.
    QCOMPARE(c.httpAllowOrigins,
        QStringList({QStringLiteral("https://admin.example.com"),
            QStringLiteral("http://localhost:8080")}));
    QCOMPARE(c.httpHosts, QStringList({QStringLiteral("api.example.com"), QStringLiteral("*")}));
    QVERIFY(c.httpPublicMetrics);
    QVERIFY(c.httpTestPage);
    QCOMPARE(c.maxHttpConnections, 7);
    QCOMPARE(c.httpMaxOutput, 64 * 1024);
    QCOMPARE(c.httpMaxInFlight, 3);
    QCOMPARE(c.httpRequestTimeoutMs, 1500);
    QCOMPARE(c.httpIdleTimeoutMs, 2 * 60 * 1000);

    // The same from an INI file, where a list is split by QSettings.
    QTemporaryDir dir;
    QFile ini(dir.filePath(QStringLiteral("pushconsole.ini")));
    QVERIFY(ini.open(QIODevice::WriteOnly));
    ini.write("[pushconsole]\nhttp-allow-origin=https://a.example, https://b.example:8443\n"
              "http-host=api.example.com\nhttp-test-page=true\nhttp-public-metrics=false\n"
              "max-http-conns=9\nhttp-request-timeout=3s\n");
    ini.close();
    const auto fromIni = ConfigLoader::load(
        {QStringLiteral("pushconsole"), QStringLiteral("--config"), ini.fileName()});
    QCOMPARE(fromIni.action, ConfigLoader::Action::Run);
    QCOMPARE(fromIni.config.httpAllowOrigins,
        QStringList(
            {QStringLiteral("https://a.example"), QStringLiteral("https://b.example:8443")}));
    QCOMPARE(fromIni.config.httpHosts, QStringList {QStringLiteral("api.example.com")});
    QVERIFY(fromIni.config.httpTestPage);
    QVERIFY(!fromIni.config.httpPublicMetrics);
    QCOMPARE(fromIni.config.maxHttpConnections, 9);
    QCOMPARE(fromIni.config.httpRequestTimeoutMs, 3000);

    const Config defaults;
    QVERIFY(defaults.httpAllowOrigins.isEmpty());
    QVERIFY(defaults.httpHosts.isEmpty());
    QVERIFY(!defaults.httpPublicMetrics);
    QVERIFY(!defaults.httpTestPage);
}

void tst_HttpHeadless::badHttpOptionsFailClearly()
{
    QFETCH(QString, option);
    QFETCH(QByteArray, message);
    const Run r = runBinary(basicArgs() << option);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(message), r.err.constData());
}

void tst_HttpHeadless::keyFileFromIniIsUsed()
{
    QTemporaryDir dir;
    QFile key(dir.filePath(QStringLiteral("api.key")));
    QVERIFY(key.open(QIODevice::WriteOnly));
    key.write("ini-key\n");
    key.close();
    QFile ini(dir.filePath(QStringLiteral("pushconsole.ini")));
    QVERIFY(ini.open(QIODevice::WriteOnly));
    ini.write("[pushconsole]\nhttp-bind=127.0.0.1\nhttp-port=2121\nhttp-api-key-file="
        + key.fileName().toUtf8() + "\n");
    ini.close();
    Gateway g;
    // The command line's --http-port=0 (added by Gateway) wins over the INI's 2121.
    QVERIFY2(
        g.start({QStringLiteral("--config=") + ini.fileName(), QStringLiteral("--http-port=0")}),
        g.output() + g.errors());
    const QString url = QStringLiteral("http://127.0.0.1:%1/api/online").arg(g.httpPort());
    QCOMPARE(request("GET", url).status, 401);
    QCOMPARE(request("GET", url, {}, {{"Authorization", "Bearer ini-key"}}).status, 200);
    QVERIFY(g.stop());
    QVERIFY(g.output().contains(" warning reject peer=127.0.0.1:"));
}

void tst_HttpHeadless::helpListsTheHttpOptions()
{
    const Run r = runBinary({QStringLiteral("--help"), QStringLiteral("--lang=en")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("--http-bind <address>"));
    QVERIFY(r.out.contains("--http-port <port>"));
    QVERIFY(r.out.contains("--http-api-key-file <file>"));
    for (const char *option : {"--http-host <names>", "--http-allow-origin <origins>",
             "--http-public-metrics", "--http-test-page", "--max-http-conns <count>",
             "--http-max-output <size>", "--http-max-in-flight <count>",
             "--http-request-timeout <duration>", "--http-idle-timeout <duration>"})
        QVERIFY2(r.out.contains(option), option);
}

PUSHCONSOLE_TEST_MAIN(tst_HttpHeadless)
#include "tst_httpheadless.moc"
