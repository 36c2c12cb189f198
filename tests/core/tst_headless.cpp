#include "TestMain.h"
#include "TestSupport.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>

#include <csignal>

using namespace TestSupport;

// The real binary, started as an operator would: --no-gui, ports 0, driven
// end to end, stopped with a signal.
class tst_Headless : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void endToEndThenSigterm();
    void sigintAlsoExitsCleanly();
    void busyPortFailsClearly();
    void badOptionFailsClearly();
    void noDisplayRunsHeadless();
    void exampleConfigIsValid();
    void helpAndVersion();

private:
    struct Gateway
    {
        std::unique_ptr<QProcess> process;
        quint16 wsPort = 0;
        quint16 textPort = 0;
        QByteArray output;
    };
    Gateway launch(const QStringList &args, const QProcessEnvironment &env = headlessEnvironment());
};

tst_Headless::Gateway tst_Headless::launch(const QStringList &args, const QProcessEnvironment &env)
{
    Gateway g;
    g.process = std::make_unique<QProcess>();
    g.process->setProcessEnvironment(env);
    // The HTTP API too on any free port, never its fixed default.
    g.process->start(
        QStringLiteral(PUSHCONSOLE_BINARY), args + QStringList {QStringLiteral("--http-port=0")});
    const QRegularExpression listening(
        QStringLiteral(R"(listening ws=127\.0\.0\.1:(\d+) text=127\.0\.0\.1:(\d+))"));
    waitFor(
        [&] {
            g.output += g.process->readAllStandardOutput();
            const auto m = listening.match(QString::fromUtf8(g.output));
            if (m.hasMatch()) {
                g.wsPort = quint16(m.captured(1).toUInt());
                g.textPort = quint16(m.captured(2).toUInt());
            }
            return m.hasMatch() || g.process->state() == QProcess::NotRunning;
        },
        10000);
    return g;
}

void tst_Headless::endToEndThenSigterm()
{
    Gateway g = launch({QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
        QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0"),
        QStringLiteral("--log-level=debug")});
    QVERIFY2(g.wsPort && g.textPort, g.output.constData());

    WsClient rider(g.wsPort);
    QVERIFY(rider.bind("1001"));
    TextClient backend(g.textPort);
    // The bind is not acknowledged; retry until the gateway has read it.
    QByteArray reply;
    WAIT_UNTIL(
        [&] {
            reply = backend.request(pushLine("1001", "lock closed"));
            return reply == "ok\n";
        },
        reply);
    QVERIFY(rider.waitForMessages(1));
    QCOMPARE(rider.messages.back(), QString::fromUtf8(pushLine("1001", "lock closed")));

    g.process->terminate(); // SIGTERM
    QVERIFY(rider.waitForDisconnected());
    QCOMPARE(int(rider.socket.closeCode()), 1001);
    WAIT_COMPARE(g.process->state(), QProcess::NotRunning, 10000);
    QCOMPARE(g.process->exitStatus(), QProcess::NormalExit);
    QCOMPARE(g.process->exitCode(), 0);

    g.output += g.process->readAllStandardOutput();
    const QList<QByteArray> lines = g.output.trimmed().split('\n');
    const QRegularExpression format(QStringLiteral(
        R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warning|error) [a-z]+( [a-z-]+=\S+)*)"));
    for (const QByteArray &line : lines)
        QVERIFY2(format.match(QString::fromUtf8(line)).hasMatch(), line.constData());
    QVERIFY(g.output.contains(" info bind conn=1 uid=1001 peer=127.0.0.1:"));
    QVERIFY(g.output.contains(" debug push source=text result=ok delivered=1 uid=1001 "));
    QVERIFY(g.output.contains(" info close conn=1 uid=1001 "));
    QVERIFY(g.output.contains(" info stopped"));
}

void tst_Headless::sigintAlsoExitsCleanly()
{
    Gateway g = launch({QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
        QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0")});
    QVERIFY2(g.wsPort, g.output.constData());
    ::kill(pid_t(g.process->processId()), SIGINT);
    WAIT_COMPARE(g.process->state(), QProcess::NotRunning, 10000);
    QCOMPARE(g.process->exitStatus(), QProcess::NormalExit);
    QCOMPARE(g.process->exitCode(), 0);
}

void tst_Headless::busyPortFailsClearly()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    QProcess p;
    p.setProcessEnvironment(headlessEnvironment());
    p.start(QStringLiteral(PUSHCONSOLE_BINARY),
        {QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
            QStringLiteral("--ws-port=%1").arg(squatter.serverPort()),
            QStringLiteral("--text-port=0"), QStringLiteral("--http-port=0")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 1);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("cannot listen for WebSocket clients on 127.0.0.1:"
                 + QByteArray::number(squatter.serverPort()) + ": Address already in use"),
        err.constData());
}

void tst_Headless::badOptionFailsClearly()
{
    QProcess p;
    p.setProcessEnvironment(headlessEnvironment());
    p.start(QStringLiteral(PUSHCONSOLE_BINARY),
        {QStringLiteral("--no-gui"), QStringLiteral("--heartbeat=soon")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 2);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("--heartbeat: invalid value \"soon\" for heartbeat"), err.constData());
    QVERIFY(err.contains("pushconsole --help"));
}

void tst_Headless::noDisplayRunsHeadless()
{
    // No --no-gui, no display: it must not try to open a window.
    Gateway g = launch({QStringLiteral("--ws-bind=127.0.0.1"), QStringLiteral("--ws-port=0"),
        QStringLiteral("--text-port=0"), QStringLiteral("--lang=en")});
    QVERIFY2(g.wsPort, g.output.constData());
    QVERIFY(g.output.startsWith("No display found: running headless (as with --no-gui).\n"));
    g.process->terminate();
    WAIT_COMPARE(g.process->state(), QProcess::NotRunning, 10000);
    QCOMPARE(g.process->exitCode(), 0);
}

void tst_Headless::exampleConfigIsValid()
{
    // The documented example must start as it is (ports overridden).
    Gateway g = launch(
        {QStringLiteral("--config=" PUSHCONSOLE_SOURCE_DIR "/resources/pushconsole.example.ini"),
            QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
            QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0")});
    QVERIFY2(g.wsPort, g.output.constData());
    g.process->terminate();
    WAIT_COMPARE(g.process->state(), QProcess::NotRunning, 10000);
    QCOMPARE(g.process->exitCode(), 0);
}

void tst_Headless::helpAndVersion()
{
    QProcess p;
    p.setProcessEnvironment(headlessEnvironment());
    p.start(QStringLiteral(PUSHCONSOLE_BINARY),
        {QStringLiteral("--help"), QStringLiteral("--lang=en")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    const QByteArray help = p.readAllStandardOutput();
    QVERIFY(help.contains("--text-port <port>"));
    p.start(QStringLiteral(PUSHCONSOLE_BINARY), {QStringLiteral("--version")});
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(p.readAllStandardOutput().startsWith("pushconsole "));
}

PUSHCONSOLE_TEST_MAIN(tst_Headless)
#include "tst_headless.moc"
