#include "HttpTestSupport.h"
#include "TestMain.h"
#include "TestSupport.h"

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
        QVERIFY(waitFor(
            [&] {
                out += p.readAllStandardOutput();
                return out.contains(" max-fds=") || p.state() == QProcess::NotRunning;
            },
            10000));
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
}

PUSHCONSOLE_TEST_MAIN(tst_HttpHeadless)
#include "tst_httpheadless.moc"
