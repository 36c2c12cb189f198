#include "RawWsClient.h"
#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "ConfigLoader.h"
#include "EventLog.h"
#include "TextPushServer.h"
#include "TlsContext.h"
#include "WsFrame.h"
#include "WsGateway.h"

#include <QDateTime>
#include <QMessageAuthenticationCode>
#include <QNetworkInterface>
#include <QProcess>
#include <QSignalSpy>
#include <QSslKey>
#include <QTemporaryDir>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace TestSupport;

// TLS, the push port's allow list and the limits that protect the process.
class tst_Security : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void wssBindAndPush();
    void plainClientOnTlsPortIsRefused();
    void wssBurstIsReadToTheEnd();
    void tlsFileErrors_data();
    void tlsFileErrors();
    void tlsOptionsGoTogether();
    void tlsCipherPolicy_data();
    void tlsCipherPolicy();

    void tokenFromPhpBinds();
    void plainUidRefusedWhenTokensAreOn();
    void tokenFileErrorsStopTheStart();
    void tokenEvictsOnlyItsOwnConnections();
    void tokenWithoutJtiIsNamedBySignature();

    void perIpLimit();
    void loopbackIsExemptByDefault();
    void totalLimit();
    void unboundCapEvictsTheOldest();
    void textAllowList_data();
    void textAllowList();
    void textPortRefusesForeignSource();
    void textConnectionLimit();
    void pendingRepliesStopReading();
    void slowConsumerIsCountedAndLogged();
    void pushFloodLeavesOthersServed();
    void connectionFloodLeavesOthersServed();

private:
    static bool openssl(const QStringList &args);
    QSslConfiguration clientTls() const;
    QString writeSecret(const QString &name, const QByteArray &secret);
    static QByteArray hs256Token(const QByteArray &claims, const QByteArray &secret);
    QTemporaryDir m_dir;
    QString m_cert, m_key, m_otherKey, m_garbage, m_rsaCert, m_rsaKey;
};

bool tst_Security::openssl(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    return p.waitForFinished(30000) && p.exitCode() == 0;
}

void tst_Security::initTestCase()
{
    QVERIFY(m_dir.isValid());
    REQUIRE_PROGRAM("openssl"); // the certificates and keys of most tests
    m_cert = m_dir.filePath(QStringLiteral("cert.pem"));
    m_key = m_dir.filePath(QStringLiteral("key.pem"));
    m_otherKey = m_dir.filePath(QStringLiteral("other.pem"));
    m_garbage = m_dir.filePath(QStringLiteral("garbage.pem"));
    // A throwaway self-signed certificate, valid for 127.0.0.1.
    QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
        QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
        QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
        QStringLiteral("-keyout"), m_key, QStringLiteral("-out"), m_cert, QStringLiteral("-subj"),
        QStringLiteral("/CN=localhost"), QStringLiteral("-days"), QStringLiteral("2"),
        QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1,DNS:localhost")}));
    QVERIFY(openssl({QStringLiteral("genpkey"), QStringLiteral("-algorithm"), QStringLiteral("EC"),
        QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
        QStringLiteral("-out"), m_otherKey}));
    // RSA as well: ECDHE-RSA suites need an RSA certificate.
    m_rsaCert = m_dir.filePath(QStringLiteral("rsa-cert.pem"));
    m_rsaKey = m_dir.filePath(QStringLiteral("rsa-key.pem"));
    QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
        QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-keyout"), m_rsaKey,
        QStringLiteral("-out"), m_rsaCert, QStringLiteral("-subj"), QStringLiteral("/CN=localhost"),
        QStringLiteral("-days"), QStringLiteral("2")}));
    QFile garbage(m_garbage);
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
}

QSslConfiguration tst_Security::clientTls() const
{
    QSslConfiguration c = QSslConfiguration::defaultConfiguration();
    c.setCaCertificates(QSslCertificate::fromPath(m_cert));
    return c;
}

void tst_Security::wssBindAndPush()
{
    Config config = loopbackConfig();
    config.tlsCertificate = m_cert;
    config.tlsKey = m_key;
    auto server = startServer(config);
    QVERIFY(server);
    QVERIFY(server->gateway()->isSecure());

    QWebSocket socket;
    socket.setSslConfiguration(clientTls()); // verification on: the chain must be right
    QList<QString> received;
    connect(
        &socket, &QWebSocket::textMessageReceived, this, [&](const QString &m) { received << m; });
    socket.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(server->wsPort())));
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.sendTextMessage(QStringLiteral("secure"));
    WAIT_VERIFY(server->registry()->isOnline("secure"));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("secure", "over tls")), QByteArray("ok\n"));
    WAIT_COMPARE(received.size(), 1);
    QCOMPARE(received.front().toUtf8(), pushLine("secure", "over tls"));
    socket.close();
    WAIT_VERIFY(!server->registry()->isOnline("secure"));
}

// TLS hands over decrypted input once per arrival, not level-triggered like
// a plain socket: a burst larger than one wake-up's read budget, sent all
// at once, must still be read to its end with nothing more arriving.
void tst_Security::wssBurstIsReadToTheEnd()
{
    Config config = loopbackConfig();
    config.tlsCertificate = m_cert;
    config.tlsKey = m_key;
    auto server = startServer(config);
    QVERIFY(server);
    QWebSocket socket;
    socket.setSslConfiguration(clientTls());
    socket.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(server->wsPort())));
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.sendTextMessage(QStringLiteral("burst"));
    WAIT_VERIFY(server->registry()->isOnline("burst"));
    const quint64 before = server->metrics().messagesIn;
    constexpr int Messages = 1500; // about 1.5 MiB, six read budgets
    const QString message(1000, QLatin1Char('m'));
    for (int i = 0; i < Messages; ++i)
        socket.sendTextMessage(message);
    socket.flush();
    WAIT_COMPARE(server->metrics().messagesIn - before, quint64(Messages));
}

void tst_Security::plainClientOnTlsPortIsRefused()
{
    Config config = loopbackConfig();
    config.tlsCertificate = m_cert;
    config.tlsKey = m_key;
    config.bindTimeoutMs = 1000;
    auto server = startServer(config);
    QVERIFY(server);
    RawWsClient plain(server->wsPort());
    QVERIFY(!plain.handshake()); // plaintext HTTP is not a TLS hello
    QVERIFY(plain.waitForDisconnected(5000));
    QCOMPARE(server->gateway()->connectionCount(), 0);
}

void tst_Security::tlsFileErrors_data()
{
    QTest::addColumn<QString>("cert");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing cert") << QStringLiteral("/nonexistent/cert.pem") << QString()
                                  << QStringLiteral(
                                         "cannot read certificate file \"/nonexistent/cert.pem\"");
    QTest::newRow("missing key") << QString() << QStringLiteral("/nonexistent/key.pem")
                                 << QStringLiteral("cannot read key file \"/nonexistent/key.pem\"");
    QTest::newRow("directory") << QStringLiteral("/") << QString()
                               << QStringLiteral("cannot read certificate file \"/\"");
    QTest::newRow("garbage cert") << QStringLiteral("garbage") << QString()
                                  << QStringLiteral("holds no PEM certificate");
    QTest::newRow("cert as key") << QString() << QStringLiteral("cert")
                                 << QStringLiteral("holds no unencrypted PEM private key");
    QTest::newRow("mismatched key") << QString() << QStringLiteral("other")
                                    << QStringLiteral("does not belong to the certificate");
}

void tst_Security::tlsFileErrors()
{
    QFETCH(QString, cert);
    QFETCH(QString, key);
    QFETCH(QString, message);
    const auto resolve = [&](const QString &name, const QString &fallback) {
        if (name.isEmpty())
            return fallback;
        if (name == QLatin1String("garbage"))
            return m_garbage;
        if (name == QLatin1String("cert"))
            return m_cert;
        if (name == QLatin1String("other"))
            return m_otherKey;
        return name;
    };
    Config config = loopbackConfig();
    config.tlsCertificate = resolve(cert, m_cert);
    config.tlsKey = resolve(key, m_key);
    PushServer server(config);
    QString error;
    QVERIFY(!server.start(&error));
    QVERIFY2(error.contains(message), qPrintable(error));
    QVERIFY(!server.isListening()); // nothing half-started
}

void tst_Security::tlsOptionsGoTogether()
{
    const auto r =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--tls-cert"), m_cert});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY(r.error.contains(QLatin1String("--tls-cert and --tls-key go together")));
}

// A real `openssl s_client` against the wss:// port: only TLS 1.2 ECDHE
// with AES-GCM or ChaCha20 (Mozilla "intermediate"), and TLS 1.3.
void tst_Security::tlsCipherPolicy_data()
{
    QTest::addColumn<bool>("rsa");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("cipher"); // empty: the handshake must fail

    const auto row = [](const char *name, bool rsa, const QStringList &args, const char *cipher) {
        QTest::newRow(name) << rsa << args << QString::fromLatin1(cipher);
    };
    const QString tls12 = QStringLiteral("-tls1_2");
    const QString cipher = QStringLiteral("-cipher");
    row("RSA: CBC with SHA-1 refused", true,
        {tls12, cipher, QStringLiteral("ECDHE-RSA-AES128-SHA")}, "");
    row("RSA: CBC with SHA-256 refused", true,
        {tls12, cipher, QStringLiteral("ECDHE-RSA-AES128-SHA256")}, "");
    row("RSA: RSA key exchange refused", true, {tls12, cipher, QStringLiteral("AES128-GCM-SHA256")},
        "");
    row("RSA: DHE refused", true, {tls12, cipher, QStringLiteral("DHE-RSA-AES128-GCM-SHA256")}, "");
    row("RSA: AES-GCM accepted", true,
        {tls12, cipher, QStringLiteral("ECDHE-RSA-AES128-GCM-SHA256")},
        "ECDHE-RSA-AES128-GCM-SHA256");
    row("RSA: ChaCha20 accepted", true,
        {tls12, cipher, QStringLiteral("ECDHE-RSA-CHACHA20-POLY1305")},
        "ECDHE-RSA-CHACHA20-POLY1305");
    row("EC: CBC with SHA-1 refused", false,
        {tls12, cipher, QStringLiteral("ECDHE-ECDSA-AES256-SHA")}, "");
    row("EC: AES-256-GCM accepted", false,
        {tls12, cipher, QStringLiteral("ECDHE-ECDSA-AES256-GCM-SHA384")},
        "ECDHE-ECDSA-AES256-GCM-SHA384");
    row("TLS 1.3 with its defaults", true, {QStringLiteral("-tls1_3")}, "TLS_AES_256_GCM_SHA384");
    row("TLS 1.1 refused", true,
        {QStringLiteral("-tls1_1"), cipher, QStringLiteral("ALL:@SECLEVEL=0")}, "");
}

void tst_Security::tlsCipherPolicy()
{
    QFETCH(bool, rsa);
    QFETCH(QStringList, args);
    QFETCH(QString, cipher);
    Config config = loopbackConfig();
    config.tlsCertificate = rsa ? m_rsaCert : m_cert;
    config.tlsKey = rsa ? m_rsaKey : m_key;
    auto server = startServer(config);
    QVERIFY(server);
    QProcess client;
    client.start(QStringLiteral("openssl"),
        QStringList {QStringLiteral("s_client"), QStringLiteral("-connect"),
            QStringLiteral("127.0.0.1:%1").arg(server->wsPort())}
            + args);
    client.closeWriteChannel(); // end of input: s_client says goodbye after the handshake
    WAIT_COMPARE(client.state(), QProcess::NotRunning, 30000);
    const QByteArray out = client.readAllStandardOutput() + client.readAllStandardError();
    const QByteArray line =
        "Cipher is " + (cipher.isEmpty() ? QByteArray("(NONE)") : cipher.toLatin1());
    QVERIFY2(out.contains(line), out.constData());
    QCOMPARE(client.exitCode() == 0, !cipher.isEmpty());
}

void tst_Security::tokenFromPhpBinds()
{
    REQUIRE_PROGRAM("php");
    const QString secretFile = m_dir.filePath(QStringLiteral("secret"));
    QFile secret(secretFile);
    QVERIFY(secret.open(QIODevice::WriteOnly));
    secret.write("0123456789abcdef0123456789abcdef-test-secret\n");
    secret.close();
    Config config = loopbackConfig();
    config.authSecretFile = secretFile;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);

    // What a PHP backend does: tests/php/mint_token.php, run with php-cli.
    QProcess php;
    php.start(QStringLiteral("php"),
        {QStringLiteral(PUSHCONSOLE_PHP_DIR "/mint_token.php"), secretFile,
            QStringLiteral("rider@example.com")});
    WAIT_COMPARE(php.state(), QProcess::NotRunning, 15000);
    QCOMPARE(php.exitCode(), 0);
    const QByteArray token = php.readAllStandardOutput().trimmed();
    QVERIFY(token.count('.') == 2);

    WsClient rider(server->wsPort());
    QVERIFY(rider.bind(token, server.get()));
    QVERIFY(server->registry()->isOnline("rider@example.com"));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("rider@example.com", "hi")), QByteArray("ok\n"));
    QVERIFY(rider.waitForMessages(1));
    // The token is in no event, the bind's included (so there is one to look at).
    bool sawBind = false;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        sawBind = sawBind || (e.type == Event::Type::Bound && e.uid == "rider@example.com");
        QVERIFY(!e.text.contains(token) && !e.englishDetail().toUtf8().contains(token));
    }
    QVERIFY(sawBind);
}

void tst_Security::plainUidRefusedWhenTokensAreOn()
{
    const QString secretFile = m_dir.filePath(QStringLiteral("secret2"));
    QFile secret(secretFile);
    QVERIFY(secret.open(QIODevice::WriteOnly));
    secret.write(QByteArray(40, 's'));
    secret.close();
    Config config = loopbackConfig();
    config.authSecretFile = secretFile;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    WsClient claimer(server->wsPort());
    QVERIFY(claimer.waitConnected());
    claimer.socket.sendTextMessage(QStringLiteral("1001")); // the seed's way: refused
    QVERIFY(claimer.waitForDisconnected());
    QCOMPARE(int(claimer.socket.closeCode()), 1008);
    QCOMPARE(claimer.socket.closeReason(), QStringLiteral("malformed token"));
    QVERIFY(!server->registry()->isOnline("1001"));
    bool logged = false;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        if (e.type == Event::Type::Rejected) {
            logged = e.englishDetail() == QLatin1String("malformed token") && !e.peer.isEmpty()
                && e.text.isEmpty();
        }
    }
    QVERIFY(logged);
}

void tst_Security::tokenFileErrorsStopTheStart()
{
    Config config = loopbackConfig();
    config.authSecretFile = QStringLiteral("/nonexistent/secret");
    PushServer server(config);
    QString error;
    QVERIFY(!server.start(&error));
    QVERIFY2(error.contains(QLatin1String("/nonexistent/secret")), qPrintable(error));
    QVERIFY(!server.isListening());
    const auto both = ConfigLoader::load({QStringLiteral("pushconsole"),
        QStringLiteral("--auth-secret-file=a"), QStringLiteral("--auth-public-key=b")});
    QCOMPARE(both.action, ConfigLoader::Action::Fail);
}

QString tst_Security::writeSecret(const QString &name, const QByteArray &secret)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(secret) != secret.size())
        qWarning() << "cannot write" << path;
    return path;
}

QByteArray tst_Security::hs256Token(const QByteArray &claims, const QByteArray &secret)
{
    const auto b64 = [](const QByteArray &bytes) {
        return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
    };
    const QByteArray input = b64(R"({"alg":"HS256","typ":"JWT"})") + '.' + b64(claims);
    return input + '.'
        + b64(QMessageAuthenticationCode::hash(input, secret, QCryptographicHash::Sha256));
}

// Without tokens anyone may bind any uid, and the per-uid cap closes the
// oldest connection whoever it belongs to: that is inherent (README). With
// tokens a copy of one token (a leaked one, replayed) can only displace the
// connections made with that same token.
void tst_Security::tokenEvictsOnlyItsOwnConnections()
{
    const QByteArray secret(40, 'k');
    Config config = loopbackConfig();
    config.authSecretFile = writeSecret(QStringLiteral("cap-secret"), secret);
    config.maxConnsPerUid = 2;
    config.maxConnsPerToken = 1;
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray exp = QByteArray::number(QDateTime::currentSecsSinceEpoch() + 300);
    const auto token = [&](const char *jti) {
        return hs256Token(
            R"({"sub":"victim","exp":)" + exp + R"(,"jti":")" + QByteArray(jti) + R"("})", secret);
    };

    WsClient victim(server->wsPort());
    QVERIFY(victim.bind(token("victim-page"), server.get()));
    WsClient replay1(server->wsPort());
    QVERIFY(replay1.bind(token("leaked"), server.get()));
    QCOMPARE(server->registry()->connectionCount(), 2);

    // The uid is full: the same token again replaces its own connection...
    WsClient replay2(server->wsPort());
    QVERIFY(replay2.waitConnected());
    replay2.socket.sendTextMessage(QString::fromLatin1(token("leaked")));
    QVERIFY(replay1.waitForDisconnected());
    QCOMPARE(int(replay1.socket.closeCode()), 4001);
    QCOMPARE(replay1.socket.closeReason(), QStringLiteral("too many connections for this token"));
    WAIT_COMPARE(server->registry()->connectionCount(), 2);
    // ...and a token with no connection here cannot make room at all.
    WsClient stranger(server->wsPort());
    QVERIFY(stranger.waitConnected());
    stranger.socket.sendTextMessage(QString::fromLatin1(token("another")));
    QVERIFY(stranger.waitForDisconnected());
    QCOMPARE(int(stranger.socket.closeCode()), 4001);
    QCOMPARE(stranger.socket.closeReason(), QStringLiteral("too many connections for this uid"));
    QCOMPARE(server->metrics().refusedUidFull, quint64(1));
    QCOMPARE(server->metrics().replacedByCap, quint64(1));

    // The victim's page was never touched: a push reaches it.
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("victim", "still here")), QByteArray("ok\n"));
    QVERIFY(victim.waitForMessages(1));
    QVERIFY(!victim.disconnected);
    QCOMPARE(server->registry()->connectionCount(), 2);
}

void tst_Security::tokenWithoutJtiIsNamedBySignature()
{
    const QByteArray secret(40, 'n');
    Config config = loopbackConfig();
    config.authSecretFile = writeSecret(QStringLiteral("nojti-secret"), secret);
    config.maxConnsPerToken = 2;
    auto server = startServer(config);
    QVERIFY(server);
    const QByteArray exp = QByteArray::number(QDateTime::currentSecsSinceEpoch() + 300);
    const QByteArray same = hs256Token(R"({"sub":"u","exp":)" + exp + "}", secret);
    const QByteArray other = hs256Token(R"({"sub":"u","exp":)" + exp + R"(,"x":1})", secret);
    WsClient a(server->wsPort()), b(server->wsPort()), c(server->wsPort());
    QVERIFY(a.bind(same, server.get()));
    QVERIFY(b.bind(same, server.get()));
    QVERIFY(c.bind(other, server.get()));
    // A third use of the same token string displaces its oldest; the other
    // token's connection stays.
    WsClient d(server->wsPort());
    QVERIFY(d.waitConnected());
    d.socket.sendTextMessage(QString::fromLatin1(same));
    QVERIFY(a.waitForDisconnected());
    QCOMPARE(int(a.socket.closeCode()), 4001);
    WAIT_COMPARE(server->registry()->connectionCount(), 3);
    // b and c are still served, and no close came before the probe.
    QVERIFY(probe(server->textPort(), b, "u"));
    WAIT_VERIFY2(c.messages.contains(probeMessage("u")), c.messages);
    QVERIFY(!b.disconnected && !c.disconnected);
}

void tst_Security::perIpLimit()
{
    Config config = loopbackConfig();
    config.maxConnsPerIp = 3;
    config.perIpExempt.clear(); // loopback is exempt by default
    auto server = startServer(config);
    QVERIFY(server);
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<WsClient>(server->wsPort()));
        QVERIFY(clients.back()->bind("ip" + QByteArray::number(i), server.get()));
    }
    QVERIFY(isRefused(server->wsPort()));
    QCOMPARE(server->metrics().refusedPerIp, quint64(1));
    // The first three are untouched; a slot frees when one leaves.
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("ip2", "x")), QByteArray("ok\n"));
    clients.front()->socket.close();
    WAIT_COMPARE(server->gateway()->connectionCount(), 2);
    WsClient again(server->wsPort());
    QVERIFY(again.bind("again", server.get()));
}

void tst_Security::loopbackIsExemptByDefault()
{
    Config config = loopbackConfig();
    config.maxConnsPerIp = 2;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient a(server->wsPort()), b(server->wsPort()), c(server->wsPort());
    QVERIFY(a.bind("a", server.get()));
    QVERIFY(b.bind("b", server.get()));
    QVERIFY(c.bind("c", server.get()));
    QCOMPARE(server->metrics().refusedPerIp, quint64(0));
    const auto none =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--per-ip-exempt=none")});
    QCOMPARE(none.action, ConfigLoader::Action::Run);
    QVERIFY(none.config.perIpExempt.isEmpty());
}

void tst_Security::totalLimit()
{
    Config config = loopbackConfig();
    config.maxConnections = 2;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient a(server->wsPort()), b(server->wsPort());
    QVERIFY(a.bind("a", server.get()));
    QVERIFY(b.bind("b", server.get()));
    QVERIFY(isRefused(server->wsPort()));
    QCOMPARE(server->metrics().refusedTotal, quint64(1));
    // The two inside are untouched: still served, no close before the probe.
    QVERIFY(probe(server->textPort(), a, "a"));
    QVERIFY(probe(server->textPort(), b, "b"));
    QVERIFY(!a.disconnected && !b.disconnected);
}

void tst_Security::unboundCapEvictsTheOldest()
{
    Config config = loopbackConfig();
    config.maxUnbound = 2;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    WsClient a(server->wsPort());
    QVERIFY(a.waitConnected());
    WsClient b(server->wsPort());
    QVERIFY(b.waitConnected());
    // A third client is let in: the oldest without a uid makes room.
    WsClient c(server->wsPort());
    QVERIFY(c.bind("c", server.get()));
    QVERIFY(a.waitForDisconnected());
    // b stays: it can still bind and be served.
    QVERIFY(b.bind("b", server.get()));
    QVERIFY(probe(server->textPort(), b, "b"));
    QVERIFY(!b.disconnected);
    QCOMPARE(server->metrics().evictedUnbound, quint64(1));
    QCOMPARE(server->metrics().refusedUnbound, quint64(0));

    // Silent sockets by the hundred cannot lock anyone out, nor flood the
    // log: one line for the first eviction of a second, one summary after.
    // Plain descriptors: QTcpSocket would connect again after the reset.
    std::vector<int> flood;
    for (int i = 0; i < 200; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in to = {};
        to.sin_family = AF_INET;
        to.sin_port = htons(server->wsPort());
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to);
        flood.push_back(fd);
    }
    // a, and all flood sockets but the last two (b is bound now).
    WAIT_COMPARE(server->metrics().evictedUnbound, 199, 10000);
    WsClient d(server->wsPort());
    QVERIFY(d.bind("d", server.get()));
    for (int fd : flood)
        ::close(fd);
    WAIT_UNTIL(
        [&] {
            for (const auto &args : events) {
                const Event e = args.front().value<Event>();
                if (e.englishDetail().contains(
                        QLatin1String("more connections without a uid evicted")))
                    return true;
            }
            return false;
        },
        QByteArray::number(events.size()) + " events");
    int lines = 0;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        lines += e.englishDetail().contains(QLatin1String("evicted")) ? 1 : 0;
    }
    QVERIFY2(lines <= 4, qPrintable(QString::number(lines)));
}

void tst_Security::textAllowList_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QString>("allow");
    QTest::addColumn<bool>("allowed");
    QTest::newRow("loopback, no list") << QStringLiteral("127.0.0.1") << QString() << true;
    QTest::newRow("loopback 127.8.8.8") << QStringLiteral("127.8.8.8") << QString() << true;
    QTest::newRow("ipv6 loopback") << QStringLiteral("::1") << QString() << true;
    QTest::newRow("foreign, no list") << QStringLiteral("10.1.2.3") << QString() << false;
    QTest::newRow("in subnet") << QStringLiteral("10.1.2.3") << QStringLiteral("10.0.0.0/8")
                               << true;
    QTest::newRow("outside subnet")
        << QStringLiteral("11.1.2.3") << QStringLiteral("10.0.0.0/8") << false;
    QTest::newRow("single host") << QStringLiteral("192.168.1.5")
                                 << QStringLiteral("192.168.1.4,192.168.1.5") << true;
    QTest::newRow("single host miss")
        << QStringLiteral("192.168.1.6") << QStringLiteral("192.168.1.5") << false;
    QTest::newRow("ipv6 subnet") << QStringLiteral("fd00::7") << QStringLiteral("fd00::/8") << true;
}

void tst_Security::textAllowList()
{
    QFETCH(QString, peer);
    QFETCH(QString, allow);
    QFETCH(bool, allowed);
    QStringList args {QStringLiteral("pushconsole")};
    if (!allow.isEmpty())
        args << QStringLiteral("--text-allow") << allow;
    const auto r = ConfigLoader::load(args);
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(TextPushServer::isAllowed(QHostAddress(peer), r.config.textAllow), allowed);
    const auto bad = ConfigLoader::load(
        {QStringLiteral("pushconsole"), QStringLiteral("--text-allow=10.0.0.0/99")});
    QCOMPARE(bad.action, ConfigLoader::Action::Fail);
}

void tst_Security::textPortRefusesForeignSource()
{
    // A real refusal needs a source address that is not loopback: this
    // machine's own non-loopback address, connecting to itself.
    QHostAddress own;
    for (const QHostAddress &a : QNetworkInterface::allAddresses()) {
        if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback()) {
            own = a;
            break;
        }
    }
    Config config = loopbackConfig();
    config.textBind = QHostAddress(QHostAddress::AnyIPv4);
    auto server = startServer(config);
    QVERIFY(server);
    if (own.isNull()) {
        // No non-loopback address here: the decision itself is covered by
        // textAllowList; check at least that loopback is admitted.
        TextClient local(server->textPort());
        QCOMPARE(local.request(R"({"uid":"x"})"), QByteArray("fail\n"));
        return;
    }
    QVERIFY(isRefused(server->textPort(), own, own));
    QCOMPARE(server->metrics().refusedText, quint64(1));
    TextClient local(server->textPort());
    QCOMPARE(local.request(R"({"uid":"x"})"), QByteArray("fail\n"));
}

void tst_Security::textConnectionLimit()
{
    Config config = loopbackConfig();
    config.maxTextConnections = 2;
    auto server = startServer(config);
    QVERIFY(server);
    TextClient a(server->textPort()), b(server->textPort());
    QCOMPARE(a.request(R"({"uid":"x"})"), QByteArray("fail\n"));
    QCOMPARE(b.request(R"({"uid":"x"})"), QByteArray("fail\n"));
    QVERIFY(isRefused(server->textPort()));
    QCOMPARE(server->metrics().refusedText, quint64(1));
    QCOMPARE(a.request(R"({"uid":"x"})"), QByteArray("fail\n"));
}

void tst_Security::pendingRepliesStopReading()
{
    Config config = loopbackConfig();
    config.maxPendingReplies = 100;
    auto server = startServer(config);
    QVERIFY(server);
    QTcpSocket backend;
    // Small buffers on our side, and Qt must not drain the kernel for us: a
    // backend that writes and never reads.
    backend.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
    backend.setReadBufferSize(1);
    backend.connectToHost(QHostAddress::LocalHost, server->textPort());
    WAIT_COMPARE(backend.state(), QAbstractSocket::ConnectedState);
    constexpr int Lines = 300000;
    QByteArray flood;
    for (int i = 0; i < Lines; ++i)
        flood += "x\n"; // each answered with a 50-byte error line
    backend.write(flood);
    // The server answers until the kernel and then its queue are full, then
    // stops reading: bytes wait in its receive queue while its event loop
    // (ours) has nothing to do. A server that read on would be busy with
    // them in that pass.
    WAIT_VERIFY2(unreadByPeer(backend) > 0 && eventLoopIdle(),
        QByteArray::number(server->metrics().pushesWith(PushStatus::Error)) + " handled", 30000);
    const quint64 handled = server->metrics().pushesWith(PushStatus::Error);
    QVERIFY2(handled < quint64(Lines), qPrintable(QString::number(handled)));
    // Reading the replies lets it go on; every line gets its answer.
    backend.setReadBufferSize(0);
    qint64 replies = 0;
    WAIT_UNTIL(
        [&] {
            while (backend.canReadLine()) {
                const QByteArray line = backend.readLine();
                if (!line.startsWith("error: "))
                    return true;
                ++replies;
            }
            return replies == Lines;
        },
        QByteArray::number(replies) + " error replies", 30000);
    QCOMPARE(replies, qint64(Lines));
}

void tst_Security::slowConsumerIsCountedAndLogged()
{
    Config config = loopbackConfig();
    config.maxOutput = 128 * 1024;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    RawWsClient slow(server->wsPort());
    slow.socket().setReadBufferSize(1);
    QVERIFY(slow.handshake());
    slow.sendFrame(WsFrame::Text, "slow");
    WAIT_VERIFY(server->registry()->isOnline("slow"));
    const QByteArray line = "{\"uid\":\"slow\",\"x\":\"" + QByteArray(60000, 'p') + "\"}";
    PushResult r;
    r.status = PushStatus::Ok;
    int delivered = 0;
    for (; r.status == PushStatus::Ok && delivered < 400; ++delivered)
        r = server->router()->push(line, PushSource::TextPort);
    QCOMPARE(r.status, PushStatus::Fail);
    QVERIFY(delivered > 2);
    WAIT_VERIFY(!server->registry()->isOnline("slow"));
    QCOMPARE(server->metrics().droppedSlow, quint64(1));
    bool logged = false;
    for (const auto &args : events) {
        const Event e = args.front().value<Event>();
        logged = logged
            || (e.type == Event::Type::Closed
                && e.englishDetail().startsWith(QLatin1String("slow consumer")));
    }
    QVERIFY(logged);
}

void tst_Security::pushFloodLeavesOthersServed()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient sink(server->wsPort());
    QVERIFY(sink.bind("sink", server.get()));
    TextClient flooder(server->textPort());
    TextClient other(server->textPort());
    constexpr int Flood = 100000;
    QByteArray flood;
    for (int i = 0; i < Flood; ++i)
        flood += R"({"uid":"sink","i":)" + QByteArray::number(i) + "}\n";
    flooder.send(flood);
    // While the flood is being worked through (its first pushes are done),
    // the other backend's single push is answered: reads are bounded per
    // connection and wake-up.
    WAIT_VERIFY(server->metrics().pushesWith(PushStatus::Ok) > 0);
    other.send(R"({"uid":"sink","from":"other"})"
               "\n");
    QList<QByteArray> floodReplies;
    WAIT_UNTIL(
        [&] {
            while (flooder.socket().canReadLine())
                floodReplies << flooder.socket().readLine();
            return other.socket().canReadLine();
        },
        QByteArray::number(floodReplies.size()) + " flood replies", 20000);
    QCOMPARE(other.socket().readLine(), QByteArray("ok\n"));
    QVERIFY2(floodReplies.size() < Flood, qPrintable(QString::number(floodReplies.size())));
    WAIT_UNTIL(
        [&] {
            while (flooder.socket().canReadLine())
                floodReplies << flooder.socket().readLine();
            return floodReplies.size() == Flood;
        },
        QByteArray::number(floodReplies.size()) + " flood replies", 30000);
}

void tst_Security::connectionFloodLeavesOthersServed()
{
    Config config = loopbackConfig();
    config.maxConnsPerIp = 100000;
    auto server = startServer(config);
    QVERIFY(server);
    WsClient rider(server->wsPort());
    QVERIFY(rider.bind("rider", server.get()));
    std::vector<std::unique_ptr<QTcpSocket>> flood;
    for (int i = 0; i < 1000; ++i) {
        flood.push_back(std::make_unique<QTcpSocket>());
        flood.back()->connectToHost(QHostAddress::LocalHost, server->wsPort());
    }
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("rider", "during the flood")), QByteArray("ok\n"));
    QVERIFY(rider.waitForMessages(1));
    WAIT_COMPARE_GE(server->gateway()->connectionCount(), 1001, 20000);
}

PUSHCONSOLE_TEST_MAIN(tst_Security)
#include "tst_security.moc"
