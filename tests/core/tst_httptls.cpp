#include "TestMain.h"
#include "TestSupport.h"

#include "ConfigLoader.h"
#include "EventLog.h"
#include "HttpApi.h"
#include "HttpServer.h"
#include "SessionRegistry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

using namespace Qt::StringLiterals;

using namespace TestSupport;

// The HTTP API over TLS (--http-tls): https requests, the admin stream on
// wss:// surviving the takeover of the TLS session, plain HTTP refused at
// the handshake, the handshake's deadline, and a renewed certificate.
class tst_HttpTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void httpsGetOnline();
    void adminStreamOverWss();
    void plainHttpOnTlsPortIsDropped();
    void stalledHandshakeIsDropped();
    void plainHttpWithoutTheOption();
    void renewedCertificate();
    void optionNeedsCertificate();

private:
    static bool makeCertificate(const QString &cert, const QString &key, const QString &name);
    Config tlsConfig() const;
    QSslConfiguration trusting(const QString &certFile) const;
    // GET path over https; the status (0: no answer), the body and the
    // certificate the server showed.
    int get(quint16 port, const QString &path, const QSslConfiguration &tls,
        QByteArray *body = nullptr, QSslCertificate *peer = nullptr);

    QTemporaryDir m_dir;
    QString m_cert, m_key;
};

namespace {

constexpr char Protocol[] = "pushconsole.admin.v1";

// An attached console over wss://, as the console's remote source opens it.
class AdminClient final
{
public:
    AdminClient(quint16 port, const QSslConfiguration &tls)
    {
        QObject::connect(
            &socket, &QWebSocket::textMessageReceived, &socket, [this](const QString &text) {
                const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
                messages.append(o);
                types.append(o.value(u"t").toString());
            });
        QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] { closed = true; });
        socket.setSslConfiguration(tls);
        QNetworkRequest request(QUrl(QStringLiteral("wss://127.0.0.1:%1/api/events").arg(port)));
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({QString::fromLatin1(Protocol)});
        socket.open(request, options);
    }

    // Every uid some presence message named as online.
    bool sawOnline(const QString &uid) const
    {
        for (const QJsonObject &m : messages) {
            if (m.value(u"t").toString() != u"presence")
                continue;
            for (const QJsonValue &v : m.value(u"uids").toArray()) {
                if (v.toObject().value(u"uid").toString() == uid)
                    return true;
            }
        }
        return false;
    }

    QWebSocket socket;
    QList<QJsonObject> messages;
    QStringList types;
    bool closed = false;
};

} // namespace

bool tst_HttpTls::makeCertificate(const QString &cert, const QString &key, const QString &name)
{
    QProcess p;
    p.start(QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
            QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
            QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-subj"),
            QStringLiteral("/CN=") + name, QStringLiteral("-days"), QStringLiteral("2"),
            QStringLiteral("-addext"),
            QStringLiteral("subjectAltName=IP:127.0.0.1,DNS:localhost")});
    return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

void tst_HttpTls::initTestCase()
{
    QVERIFY(m_dir.isValid());
    REQUIRE_PROGRAM("openssl");
    m_cert = m_dir.filePath(QStringLiteral("cert.pem"));
    m_key = m_dir.filePath(QStringLiteral("key.pem"));
    QVERIFY(makeCertificate(m_cert, m_key, QStringLiteral("localhost")));
}

Config tst_HttpTls::tlsConfig() const
{
    Config config = loopbackConfig();
    config.tlsCertificate = m_cert;
    config.tlsKey = m_key;
    config.httpTls = true;
    return config;
}

QSslConfiguration tst_HttpTls::trusting(const QString &certFile) const
{
    // Verification on: the chain and the name must be right.
    QSslConfiguration c = QSslConfiguration::defaultConfiguration();
    c.setCaCertificates(QSslCertificate::fromPath(certFile));
    return c;
}

int tst_HttpTls::get(quint16 port, const QString &path, const QSslConfiguration &tls,
    QByteArray *body, QSslCertificate *peer)
{
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(port).arg(path)));
    request.setSslConfiguration(tls);
    QNetworkReply *reply = manager.get(request);
    if (!waitFor([&] { return reply->isFinished(); }))
        return 0;
    if (body)
        *body = reply->readAll();
    if (peer)
        *peer = reply->sslConfiguration().peerCertificate();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return status;
}

namespace {

// The start line of the log, as the journal shows it.
QString listeningLine(PushServer *server)
{
    for (const Event &e : server->eventLog()->snapshot()) {
        if (e.type == Event::Type::Listening)
            return e.englishDetail();
    }
    return {};
}

} // namespace

void tst_HttpTls::httpsGetOnline()
{
    auto server = startServer(tlsConfig());
    QVERIFY(server);
    QVERIFY(server->httpApi()->httpServer()->isSecure());
    QVERIFY2(listeningLine(server.get()).contains(u" tls=on"_s),
        qPrintable(listeningLine(server.get())));
    QVERIFY2(listeningLine(server.get()).endsWith(u" http-tls=on"_s),
        qPrintable(listeningLine(server.get())));
    QWebSocket client;
    client.setSslConfiguration(trusting(m_cert));
    client.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(server->wsPort())));
    WAIT_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    client.sendTextMessage(QStringLiteral("alice"));
    WAIT_VERIFY(server->registry()->isOnline("alice"));

    QByteArray body;
    QCOMPARE(get(server->httpPort(), QStringLiteral("/api/online"), trusting(m_cert), &body), 200);
    const QJsonObject online = QJsonDocument::fromJson(body).object();
    QVERIFY2(QJsonDocument::fromJson(body).toJson().contains("alice"), body);
    Q_UNUSED(online);
    // An untrusted certificate is refused by the client: really TLS.
    QCOMPARE(get(server->httpPort(), QStringLiteral("/api/online"),
                 QSslConfiguration::defaultConfiguration()),
        0);
}

void tst_HttpTls::adminStreamOverWss()
{
    auto server = startServer(tlsConfig());
    QVERIFY(server);
    AdminClient console(server->httpPort(), trusting(m_cert));
    WAIT_VERIFY(console.types.contains(QStringLiteral("ready")));
    QCOMPARE(console.types.value(0), QStringLiteral("hello"));
    QCOMPARE(console.socket.subprotocol(), QString::fromLatin1(Protocol));
    QCOMPARE(server->metrics().adminStreamsOpen, 1);
    QCOMPARE(server->httpApi()->httpServer()->connectionCount(), 0); // taken over

    // Live after the takeover: the TLS session still carries the stream.
    QWebSocket client;
    client.setSslConfiguration(trusting(m_cert));
    client.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(server->wsPort())));
    WAIT_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    client.sendTextMessage(QStringLiteral("bob"));
    WAIT_VERIFY(console.sawOnline(QStringLiteral("bob")));
    // Pings from the console are answered through the same session.
    bool pong = false;
    QObject::connect(&console.socket, &QWebSocket::pong, &console.socket, [&] { pong = true; });
    console.socket.ping("are you there");
    WAIT_VERIFY(pong);

    console.socket.close();
    WAIT_VERIFY(console.closed);
    WAIT_COMPARE(server->metrics().adminStreamsOpen, 0);
}

void tst_HttpTls::plainHttpOnTlsPortIsDropped()
{
    auto server = startServer(tlsConfig());
    QVERIFY(server);
    server->eventLog()->setCaptureLevel(Event::Level::Debug);
    QTcpSocket plain;
    plain.connectToHost(QHostAddress::LocalHost, server->httpPort());
    QVERIFY(plain.waitForConnected(5000));
    plain.write("GET /api/online HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray answer;
    WAIT_VERIFY((answer += plain.readAll(), plain.state() == QAbstractSocket::UnconnectedState));
    answer += plain.readAll();
    QVERIFY2(!answer.contains("HTTP/1.1"), answer); // no plaintext answer, whatever TLS sent
    HttpServer *http = server->httpApi()->httpServer();
    WAIT_COMPARE(http->connectionCount(), 0);
    QCOMPARE(http->tlsFailures(), quint64(1));
    bool logged = false;
    for (const Event &e : server->eventLog()->snapshot())
        logged = logged || e.englishDetail().contains(QLatin1String("TLS handshake failed"));
    QVERIFY(logged);
    // The port still serves https.
    QCOMPARE(get(server->httpPort(), QStringLiteral("/healthz"), trusting(m_cert)), 200);
}

void tst_HttpTls::stalledHandshakeIsDropped()
{
    Config config = tlsConfig();
    config.httpRequestTimeoutMs = 300;
    auto server = startServer(config);
    QVERIFY(server);
    QTcpSocket silent; // connects and never says hello
    silent.connectToHost(QHostAddress::LocalHost, server->httpPort());
    QVERIFY(silent.waitForConnected(5000));
    HttpServer *http = server->httpApi()->httpServer();
    WAIT_COMPARE(http->connectionCount(), 1);
    WAIT_COMPARE(silent.state(), QAbstractSocket::UnconnectedState);
    WAIT_COMPARE(http->connectionCount(), 0);
    QCOMPARE(http->tlsFailures(), quint64(1));
}

void tst_HttpTls::plainHttpWithoutTheOption()
{
    // wss:// alone leaves the HTTP API as it was: plain.
    Config config = tlsConfig();
    config.httpTls = false;
    auto server = startServer(config);
    QVERIFY(server);
    QVERIFY(!server->httpApi()->httpServer()->isSecure());
    QVERIFY2(listeningLine(server.get()).contains(u" tls=on"_s),
        qPrintable(listeningLine(server.get())));
    QVERIFY2(!listeningLine(server.get()).contains(u"http-tls"_s),
        qPrintable(listeningLine(server.get())));
    QTcpSocket plain;
    plain.connectToHost(QHostAddress::LocalHost, server->httpPort());
    QVERIFY(plain.waitForConnected(5000));
    plain.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    WAIT_VERIFY((answer += plain.readAll(), answer.contains("\r\n")));
    QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer);
}

void tst_HttpTls::renewedCertificate()
{
    // Renewed in place, as certbot does; a reload (SIGHUP) reads it again.
    const QString cert = m_dir.filePath(QStringLiteral("renewed-cert.pem"));
    const QString key = m_dir.filePath(QStringLiteral("renewed-key.pem"));
    QVERIFY(makeCertificate(cert, key, QStringLiteral("first")));
    const QSslCertificate first = QSslCertificate::fromPath(cert).value(0);
    Config config = tlsConfig();
    config.tlsCertificate = cert;
    config.tlsKey = key;
    auto server = startServer(config);
    QVERIFY(server);
    QSslCertificate seen;
    QCOMPARE(
        get(server->httpPort(), QStringLiteral("/healthz"), trusting(cert), nullptr, &seen), 200);
    QCOMPARE(seen, first);
    AdminClient console(server->httpPort(), trusting(cert));
    WAIT_VERIFY(console.types.contains(QStringLiteral("ready")));

    QVERIFY(makeCertificate(cert, key, QStringLiteral("second")));
    const QSslCertificate second = QSslCertificate::fromPath(cert).value(0);
    QVERIFY(second != first);
    const PushServer::ReloadResult result = server->reload(server->config());
    QVERIFY2(result.ok, qPrintable(result.error));
    QVERIFY(result.reloaded.contains(QStringLiteral("tls-cert")));
    QCOMPARE(
        get(server->httpPort(), QStringLiteral("/healthz"), trusting(cert), nullptr, &seen), 200);
    QCOMPARE(seen, second);
    // The attached console keeps its session and still hears the gateway.
    QWebSocket client;
    client.setSslConfiguration(trusting(cert));
    client.open(QUrl(QStringLiteral("wss://127.0.0.1:%1/").arg(server->wsPort())));
    WAIT_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    client.sendTextMessage(QStringLiteral("carol"));
    WAIT_VERIFY(console.sawOnline(QStringLiteral("carol")));
    QVERIFY(!console.closed);
}

void tst_HttpTls::optionNeedsCertificate()
{
    const ConfigLoader::Result r =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--http-tls")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(r.error.contains(QLatin1String("--http-tls needs --tls-cert")), qPrintable(r.error));
    // A reload cannot take the certificate away from an https port either.
    auto server = startServer(tlsConfig());
    QVERIFY(server);
    Config next = server->config();
    next.tlsCertificate.clear();
    next.tlsKey.clear();
    const PushServer::ReloadResult result = server->reload(next);
    QVERIFY(!result.ok);
    QVERIFY(server->httpApi()->httpServer()->isSecure());
}

PUSHCONSOLE_TEST_MAIN(tst_HttpTls)
#include "tst_httptls.moc"
