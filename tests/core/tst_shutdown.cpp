#include "GatewayProcess.h"
#include "StalledWsClient.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "WsFrame.h"

#include <QElapsedTimer>
#include <QRegularExpression>
#include <QThread>

#include <csignal>
#include <pthread.h>

using namespace TestSupport;

// SIGTERM on the real binary: it stops at whatever moment it comes, and
// what was answered ok still reaches every client that reads.
class tst_Shutdown : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sigtermWhileStarting_data();
    void sigtermWhileStarting();
    void drainDeliversEverythingAnsweredOk();
    void drainTimeoutAbortsAndSaysWhatWasLost();
};

namespace {

// A push of `size` bytes of payload for uid and the bytes of its frame.
QByteArray bigLine(const QByteArray &uid, int index, int size)
{
    return pushLine(uid, QByteArray::number(index) + QByteArray(size, 'd'));
}

qint64 frameSize(const QByteArray &payload)
{
    return payload.size() + (payload.size() < 126 ? 2 : payload.size() <= 0xFFFF ? 4 : 10);
}

} // namespace

void tst_Shutdown::sigtermWhileStarting_data()
{
    QTest::addColumn<int>("delayMs");
    for (int ms : {0, 1, 2, 3, 5, 8, 12, 20, 30, 50, 75, 100, 150, 200, 250, 300})
        QTest::addRow("%d ms after spawn", ms) << ms;
    QTest::addRow("right after listening") << -1;
}

void tst_Shutdown::sigtermWhileStarting()
{
    QFETCH(int, delayMs);
    QProcess p;
    p.setProcessEnvironment(headlessEnvironment());
    if (delayMs >= 0) {
        // Before main() has run no handler can exist: a SIGTERM that early
        // would kill by the default action, which proves nothing. Blocked
        // from the fork on (as a supervisor may leave it), it waits instead,
        // so every delay below reaches the program at a different moment of
        // its start: before, during or after the handler's installation,
        // the config, the listeners, the event loop.
        p.setChildProcessModifier([] {
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGTERM);
            pthread_sigmask(SIG_BLOCK, &set, nullptr);
        });
    }
    p.start(GatewayProcess::binary(),
        {QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
            QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0"),
            QStringLiteral("--http-port=0")});
    QVERIFY(p.waitForStarted(10000));
    if (delayMs > 0) {
        // The moment of the signal is what each row varies.
        QThread::msleep(ulong(delayMs));
    } else if (delayMs < 0) {
        QByteArray out;
        WAIT_UNTIL(
            [&] {
                out += p.readAllStandardOutput();
                return out.contains(" listening ");
            },
            out, 10000);
    }
    ::kill(pid_t(p.processId()), SIGTERM);
    QElapsedTimer clock;
    clock.start();
    QVERIFY2(waitFor([&] { return p.state() == QProcess::NotRunning; }, 15000),
        "still running 15 s after SIGTERM");
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(clock.elapsed() < 15000);
}

void tst_Shutdown::drainDeliversEverythingAnsweredOk()
{
    GatewayProcess g;
    QVERIFY(g.start({QStringLiteral("--max-output=32M")}));
    StalledWsClient client;
    QVERIFY(client.open(g.wsPort(), "reader"));
    TextClient backend(g.textPort());
    // The bind is not acknowledged: the first probe answered ok is the
    // first frame the client will read.
    const QByteArray probe = pushLine("reader", "probe");
    WAIT_COMPARE(backend.request(probe), QByteArray("ok\n"));
    QList<QByteArray> expected {probe};
    // Far more than the kernel holds: most of it waits in the gateway.
    for (int i = 0; i < 8; ++i) {
        expected.append(bigLine("reader", i, 1000 * 1000));
        QCOMPARE(backend.request(expected.back()), QByteArray("ok\n"));
    }

    g.process().terminate(); // SIGTERM
    // The client does not read for longer than the close timeout: time
    // passing is the point. The drain must wait for it all the same.
    QTest::qWait(int(Config().closeTimeoutMs) + 1000);
    QVERIFY(g.isRunning());
    bool closed = false;
    const QList<StalledWsClient::Frame> frames = client.readUntilClosed(&closed);
    QVERIFY(closed);
    QList<QByteArray> texts;
    for (const auto &f : frames) {
        if (f.opcode == WsFrame::Text)
            texts.append(f.payload);
    }
    QCOMPARE(texts.size(), expected.size());
    QVERIFY(texts == expected);
    QCOMPARE(frames.back().opcode, quint8(WsFrame::Close));
    QCOMPARE(frames.back().payload.left(2), QByteArray("\x03\xe9", 2)); // 1001

    WAIT_VERIFY(!g.isRunning(), 15000);
    QCOMPARE(g.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(g.process().exitCode(), 0);
    const QByteArray log = g.output();
    QVERIFY2(log.contains(" info stopped clients=1 aborted=0 undelivered-bytes=0\n"),
        log.right(2000).constData());
}

void tst_Shutdown::drainTimeoutAbortsAndSaysWhatWasLost()
{
    GatewayProcess g;
    QVERIFY(g.start({QStringLiteral("--max-output=32M"), QStringLiteral("--shutdown-timeout=1s")}));
    StalledWsClient client;
    QVERIFY(client.open(g.wsPort(), "never"));
    TextClient backend(g.textPort());
    const QByteArray probe = pushLine("never", "probe");
    qint64 okBytes = 0;
    WAIT_COMPARE(backend.request(probe), QByteArray("ok\n"));
    okBytes += frameSize(probe);
    for (int i = 0; i < 6; ++i) {
        const QByteArray line = bigLine("never", i, 1000 * 1000);
        QCOMPARE(backend.request(line), QByteArray("ok\n"));
        okBytes += frameSize(line);
    }

    QElapsedTimer clock;
    clock.start();
    g.process().terminate(); // SIGTERM; the client never reads
    WAIT_VERIFY(!g.isRunning(), 10000);
    QVERIFY2(clock.elapsed() >= 900, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(g.process().exitStatus(), QProcess::NormalExit);
    QCOMPARE(g.process().exitCode(), 0);

    // Everything answered ok is accounted for: lost, less what the client's
    // own kernel took before the reset.
    const QString log = QString::fromUtf8(g.output());
    const QRegularExpression closeLine(QStringLiteral(
        R"( warning close conn=\d+ uid=never .*reason="shutdown timeout" discarded=(\d+)\n)"));
    const auto m = closeLine.match(log);
    QVERIFY2(m.hasMatch(), qPrintable(log.right(2000)));
    const qint64 lost = m.captured(1).toLongLong();
    QVERIFY2(lost <= okBytes && lost >= okBytes - 64 * 1024,
        qPrintable(QStringLiteral("ok %1, lost %2").arg(okBytes).arg(lost)));
    QVERIFY2(
        log.contains(QStringLiteral(" warning stopped clients=1 aborted=1 undelivered-bytes=%1\n")
                         .arg(lost)),
        qPrintable(log.right(2000)));
}

PUSHCONSOLE_TEST_MAIN(tst_Shutdown)
#include "tst_shutdown.moc"
