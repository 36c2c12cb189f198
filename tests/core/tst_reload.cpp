#include "ExternalPrograms.h"
#include "GatewayProcess.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <csignal>

using namespace TestSupport;

// SIGHUP (systemctl reload) on the real binary: the INI file is read again,
// what can change while running does, connected clients stay; a bad file
// changes nothing; a renewed certificate needs no restart.
class tst_Reload : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void limitsApplyWithoutDroppingClients();
    void badFileChangesNothing();
    void portsNeedARestart();
    void renewedCertificateAndRotatedKey();
    void logLevel();

private:
    void writeIni(const QByteArray &body);
    bool reload(GatewayProcess &gateway, const QByteArray &expected);
    static bool openssl(const QStringList &args);
    bool makeCertificate(const QString &cert, const QString &key, const QString &name);

    QTemporaryDir m_dir;
    QString m_ini;
};

void tst_Reload::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_ini = m_dir.filePath(QStringLiteral("pushconsole.ini"));
}

void tst_Reload::writeIni(const QByteArray &body)
{
    QFile file(m_ini);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("[pushconsole]\n" + body);
}

// Sends SIGHUP and waits for the reload line that says `expected`.
bool tst_Reload::reload(GatewayProcess &gateway, const QByteArray &expected)
{
    const qsizetype before = gateway.output().count(" reload ");
    ::kill(pid_t(gateway.process().processId()), SIGHUP);
    const bool logged = waitFor([&] { return gateway.output().count(" reload ") > before; });
    if (!logged)
        qWarning("no reload line; output:\n%s", gateway.output().constData());
    const QByteArray out = gateway.output();
    const QByteArray line = out.mid(out.lastIndexOf(" reload "));
    if (logged && !line.contains(expected))
        qWarning("reload line without \"%s\": %s", expected.constData(), line.constData());
    return logged && line.contains(expected);
}

void tst_Reload::limitsApplyWithoutDroppingClients()
{
    writeIni("max-conns-per-uid=16\n");
    GatewayProcess gateway;
    QVERIFY(gateway.start({QStringLiteral("--config=") + m_ini}));
    WsClient first(gateway.wsPort()), second(gateway.wsPort());
    // Bound in this order (with --threads two binds may reach the registry
    // in either order when sent together): the cap closes the oldest.
    QVERIFY(first.bind("rider"));
    QVERIFY(gateway.waitUntilBound("rider", 1));
    QVERIFY(second.bind("rider"));
    QVERIFY(gateway.waitUntilBound("rider", 2));
    TextClient backend(gateway.textPort());
    QCOMPARE(backend.request(pushLine("rider", "before")), QByteArray("ok\n"));
    QVERIFY(first.waitForMessages(1));
    QVERIFY(second.waitForMessages(1));

    writeIni("max-conns-per-uid=1\nheartbeat=2m\n");
    QVERIFY(reload(gateway, "result=ok applied=heartbeat,max-conns-per-uid "));
    // Both stay connected and served: a reload closes nobody...
    QCOMPARE(backend.request(pushLine("rider", "after")), QByteArray("ok\n"));
    QVERIFY(first.waitForMessages(2));
    QVERIFY(second.waitForMessages(2));
    QVERIFY(!first.disconnected && !second.disconnected);
    // ...but the new cap decides from now on: one more closes the oldest.
    WsClient third(gateway.wsPort());
    QVERIFY(third.bind("rider"));
    QVERIFY(first.waitForDisconnected());
    QCOMPARE(int(first.socket.closeCode()), 4001); // not a Qt enumerator: compared as a number
    QVERIFY(gateway.stop());
}

void tst_Reload::badFileChangesNothing()
{
    writeIni("max-conns-per-uid=1\n");
    GatewayProcess gateway;
    QVERIFY(gateway.start({QStringLiteral("--config=") + m_ini}));
    // An unknown key, a bad value: refused, the running settings kept.
    for (const QByteArray &bad : {QByteArray("max-conns-per-uid=16\nno-such-option=1\n"),
             QByteArray("max-conns-per-uid=lots\n")}) {
        writeIni(bad);
        QVERIFY(reload(gateway, "result=refused"));
        QVERIFY(gateway.output().contains(" error reload result=refused"));
    }
    WsClient first(gateway.wsPort()), second(gateway.wsPort());
    QVERIFY(first.bind("rider"));
    QVERIFY(gateway.waitUntilBound("rider", 1));
    QVERIFY(second.bind("rider"));
    QVERIFY(first.waitForDisconnected()); // the cap is still 1
    // A missing file named by an option: refused as well.
    writeIni("max-conns-per-uid=16\nhttp-api-key-file=");
    {
        QFile file(m_ini);
        QVERIFY(file.open(QIODevice::Append));
        file.write(m_dir.filePath(QStringLiteral("no-such.key")).toUtf8() + "\n");
    }
    QVERIFY(reload(gateway, "result=refused"));
    WsClient third(gateway.wsPort());
    QVERIFY(third.bind("rider"));
    QVERIFY(second.waitForDisconnected());
    QVERIFY(gateway.isRunning());
    QVERIFY(gateway.stop());
}

void tst_Reload::portsNeedARestart()
{
    writeIni("");
    GatewayProcess gateway;
    QVERIFY(gateway.start({QStringLiteral("--config=") + m_ini}));
    const quint16 port = gateway.textPort();
    // (The ports the test gives on the command line win over the file.)
    writeIni("log-buffer=500\nmax-line=2K\n");
    QVERIFY(reload(gateway, "applied=max-line reloaded=none restart-needed=log-buffer"));
    QVERIFY(gateway.output().contains(" warning reload "));
    // Still on its port, with the new line limit.
    TextClient backend(port);
    QCOMPARE(backend.request(pushLine("nobody", "x")), QByteArray("fail\n"));
    QCOMPARE(backend.request(pushLine("nobody", QByteArray(3000, 'x'))),
        QByteArray("error: line too long\n"));
    QVERIFY(gateway.stop());
}

bool tst_Reload::openssl(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

bool tst_Reload::makeCertificate(const QString &cert, const QString &key, const QString &name)
{
    return openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
        QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
        QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
        QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-subj"),
        QStringLiteral("/CN=") + name, QStringLiteral("-days"), QStringLiteral("2"),
        QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1")});
}

void tst_Reload::renewedCertificateAndRotatedKey()
{
    REQUIRE_PROGRAM("openssl");
    // The paths the service is configured with; certbot renews in place.
    const QString cert = m_dir.filePath(QStringLiteral("cert.pem"));
    const QString key = m_dir.filePath(QStringLiteral("key.pem"));
    const QString apiKey = m_dir.filePath(QStringLiteral("api.key"));
    QVERIFY(makeCertificate(cert, key, QStringLiteral("first")));
    const QSslCertificate first = QSslCertificate::fromPath(cert).value(0);
    QVERIFY(!first.isNull());
    {
        QFile file(apiKey);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("old-key\n");
    }
    writeIni("tls-cert=" + cert.toUtf8() + "\ntls-key=" + key.toUtf8()
        + "\nhttp-api-key-file=" + apiKey.toUtf8() + "\n");
    GatewayProcess gateway;
    QVERIFY(gateway.start({QStringLiteral("--config=") + m_ini}));

    const auto connect = [&](QWebSocket &socket, const QSslCertificate &trusted) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates({trusted});
        socket.setSslConfiguration(tls);
        socket.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(gateway.wsPort())));
        return waitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; });
    };
    QWebSocket old;
    QStringList oldMessages;
    QObject::connect(&old, &QWebSocket::textMessageReceived, &old,
        [&](const QString &m) { oldMessages.append(m); });
    QVERIFY(connect(old, first));
    QCOMPARE(old.sslConfiguration().peerCertificate(), first);
    old.sendTextMessage(QStringLiteral("old-rider"));
    QVERIFY(gateway.waitUntilBound("old-rider"));

    // Renewed: new key pair and certificate at the same paths; a rotated API key.
    QVERIFY(makeCertificate(cert, key, QStringLiteral("second")));
    const QSslCertificate second = QSslCertificate::fromPath(cert).value(0);
    QVERIFY(!second.isNull() && second != first);
    {
        QFile file(apiKey);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write("new-key\n");
    }
    QVERIFY(reload(gateway, "result=ok applied=none reloaded=tls-cert,http-api-key "));

    // A new client is served the new certificate...
    QWebSocket fresh;
    QVERIFY(connect(fresh, second));
    QCOMPARE(fresh.sslConfiguration().peerCertificate(), second);
    // ...the connected one stays and is still pushed to.
    TextClient backend(gateway.textPort());
    QCOMPARE(backend.request(pushLine("old-rider", "after renewal")), QByteArray("ok\n"));
    WAIT_COMPARE(oldMessages.size(), 1);
    // The HTTP API takes the new key only.
    const auto status = [&](const QByteArray &bearer) {
        QTcpSocket http;
        http.connectToHost(QHostAddress::LocalHost, gateway.httpPort());
        if (!http.waitForConnected(5000))
            return QByteArray();
        http.write("GET /api/online HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + bearer
            + "\r\nConnection: close\r\n\r\n");
        QByteArray answer;
        waitFor([&] {
            answer += http.readAll();
            return answer.contains("\r\n");
        });
        return answer.left(12);
    };
    QCOMPARE(status("old-key"), QByteArray("HTTP/1.1 401"));
    QCOMPARE(status("new-key"), QByteArray("HTTP/1.1 200"));
    QVERIFY(gateway.stop());
}

void tst_Reload::logLevel()
{
    // In process: the program applies the level to its headless logger
    // (GatewayApp); what the server reports is what it applies.
    Config config = loopbackConfig();
    config.logLevel = Event::Level::Info;
    auto server = startServer(config);
    QVERIFY(server);
    Config next = server->config();
    next.logLevel = Event::Level::Debug;
    next.wsPort = 1; // needs a restart: reported, not applied
    const PushServer::ReloadResult result = server->reload(next);
    QVERIFY2(result.ok, qPrintable(result.error));
    QCOMPARE(result.applied, QStringList {QStringLiteral("log-level")});
    QCOMPARE(result.needRestart, QStringList {QStringLiteral("ws-port")});
    QCOMPARE(server->config().logLevel, Event::Level::Debug);
    QCOMPARE(server->config().wsPort, config.wsPort);
    const Event last = server->eventLog()->snapshot().back();
    QCOMPARE(last.type, Event::Type::Reloaded);
    QCOMPARE(last.level, Event::Level::Warning);
}

PUSHCONSOLE_TEST_MAIN(tst_Reload)
#include "tst_reload.moc"
