#include "TestMain.h"
#include "TestSupport.h"

#include <QProcess>

using namespace TestSupport;

// The promise that matters most: a backend written for the seed works
// unchanged. This runs the seed article's own PHP callback with php-cli.
class tst_SeedPhp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void callbackDelivers_data();
    void callbackDelivers();
    void callbackForOfflineUidLogsFail();

private:
    struct Run
    {
        QByteArray logged; // what Log::notice got
        QByteArray sent; // json_encode($row)
        int exitCode = -1;
    };
    Run runCallback(const QByteArray &rowJson, quint16 port);
    QString m_php;
};

void tst_SeedPhp::initTestCase()
{
    REQUIRE_PROGRAM("php");
    m_php = programPath(QStringLiteral("php"));
}

tst_SeedPhp::Run tst_SeedPhp::runCallback(const QByteArray &rowJson, quint16 port)
{
    QProcess php;
    php.start(m_php,
        {QStringLiteral(PUSHCONSOLE_PHP_DIR "/run_seed_callback.php"), QString::fromUtf8(rowJson),
            QString::number(port)});
    Run run;
    // php runs in its own process while our event loop serves it.
    if (!waitFor([&] { return php.state() == QProcess::NotRunning; }, 15000)) {
        php.kill();
        return run;
    }
    run.logged = php.readAllStandardOutput();
    run.sent = php.readAllStandardError();
    run.exitCode = php.exitCode();
    return run;
}

void tst_SeedPhp::callbackDelivers_data()
{
    QTest::addColumn<QByteArray>("row");
    QTest::addColumn<QByteArray>("boundUid");
    // Rows as a PHP backend builds them: a PDO row (string uid) with Chinese
    // text json_encode turns into \u escapes, and an integer uid.
    QTest::newRow("string uid") << QByteArray(
        R"({"uid":"1001","order_sn":"B20200113001","status":"锁已关闭","url":"https://x/y"})")
                                << QByteArray("1001");
    QTest::newRow("integer uid") << QByteArray(R"({"uid":1002,"fee":1.5,"lock":true})")
                                 << QByteArray("1002");
}

void tst_SeedPhp::callbackDelivers()
{
    QFETCH(QByteArray, row);
    QFETCH(QByteArray, boundUid);
    auto server = startServer();
    QVERIFY(server);
    WsClient rider(server->wsPort());
    QVERIFY(rider.bind(boundUid, server.get()));

    const Run run = runCallback(row, server->textPort());
    QCOMPARE(run.exitCode, 0);
    // fread() returns the reply with its line ending, as with Workerman.
    QCOMPARE(run.logged, QByteArray("订单消息推送ok\n"));
    QVERIFY(rider.waitForMessages(1));
    QCOMPARE(rider.messages.front().toUtf8(), run.sent);
    QVERIFY(run.sent.contains(boundUid));
}

void tst_SeedPhp::callbackForOfflineUidLogsFail()
{
    auto server = startServer();
    QVERIFY(server);
    const Run run = runCallback(R"({"uid":"404"})", server->textPort());
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.logged, QByteArray("订单消息推送fail\n"));
}

PUSHCONSOLE_TEST_MAIN(tst_SeedPhp)
#include "tst_seedphp.moc"
