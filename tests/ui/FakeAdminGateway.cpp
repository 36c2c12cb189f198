#include "FakeAdminGateway.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpSocket>

#include <cctype>

using namespace Qt::StringLiterals;

// Plain TCP, or TLS when given a configuration: the HTTP parsing and the
// hand-over to QWebSocketServer see decrypted bytes either way.
class FakeAdminGateway::Listener final : public QTcpServer
{
public:
    bool tls = false;
    QSslConfiguration config;

protected:
    void incomingConnection(qintptr descriptor) override
    {
        if (!tls) {
            QTcpServer::incomingConnection(descriptor);
            return;
        }
        auto *socket = new QSslSocket(this);
        socket->setSocketDescriptor(descriptor);
        socket->setSslConfiguration(config);
        socket->startServerEncryption();
        addPendingConnection(socket);
    }
};

FakeAdminGateway::FakeAdminGateway(const QString &certFile, const QString &keyFile)
    : m_tcp(new Listener)
    , m_ws(QStringLiteral("fake gateway"), QWebSocketServer::NonSecureMode)
{
    m_tcp->setParent(this);
    if (!certFile.isEmpty()) {
        QFile key(keyFile);
        key.open(QIODevice::ReadOnly);
        m_tcp->tls = true;
        m_tcp->config = QSslConfiguration::defaultConfiguration();
        m_tcp->config.setLocalCertificateChain(QSslCertificate::fromPath(certFile));
        m_tcp->config.setPrivateKey(QSslKey(&key, QSsl::Ec));
        m_tcp->config.setPeerVerifyMode(QSslSocket::VerifyNone);
    }
    m_ws.setSupportedSubprotocols({QStringLiteral("pushconsole.admin.v1")});
    connect(&m_ws, &QWebSocketServer::newConnection, this, [this] {
        while (QWebSocket *s = m_ws.nextPendingConnection()) {
            s->setParent(this);
            streams.append(s);
            Q_EMIT streamOpened(s);
        }
    });
    connect(m_tcp, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *s = m_tcp->nextPendingConnection()) {
            s->setParent(this);
            connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadyRead(s); });
        }
    });
    m_tcp->listen(QHostAddress::LocalHost, 0);
}

quint16 FakeAdminGateway::port() const
{
    return m_tcp->serverPort();
}

QString FakeAdminGateway::url() const
{
    return QStringLiteral("%1://127.0.0.1:%2")
        .arg(m_tcp->tls ? QStringLiteral("https") : QStringLiteral("http"))
        .arg(port());
}

void FakeAdminGateway::close()
{
    m_tcp->close();
    for (const QPointer<QWebSocket> &s : std::as_const(streams)) {
        if (s)
            s->abort();
    }
}

void FakeAdminGateway::onReadyRead(QTcpSocket *socket)
{
    // Peek only: an upgrade is handed to QWebSocketServer unread.
    const QByteArray head = socket->peek(64 * 1024);
    // Not HTTP (a TLS ClientHello, say): a 400 and closed, as HTTP servers do.
    if (!head.isEmpty() && !std::isupper(uchar(head.at(0)))) {
        socket->readAll();
        respond(socket, 400, R"({"error":"bad request"})");
        return;
    }
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    Request r;
    const QList<QByteArray> lines = head.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    r.method = requestLine.value(0);
    r.path = requestLine.value(1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines.at(i).indexOf(':');
        if (colon > 0)
            r.headers.insert(
                lines.at(i).left(colon).trimmed().toLower(), lines.at(i).mid(colon + 1).trimmed());
    }
    const qsizetype length = r.headers.value("content-length").toLongLong();
    if (head.size() < end + 4 + length)
        return;
    r.body = head.mid(end + 4, length);
    requests.append(r);

    const bool upgrade = r.headers.value("upgrade").toLower() == "websocket";
    if (!key.isEmpty() && r.headers.value("authorization") != "Bearer " + key) {
        socket->read(end + 4 + length);
        respond(socket, 401, R"({"error":"unauthorized"})", !upgrade || closeAfterRefusal);
        return;
    }
    if (upgrade) {
        if (upgradeStatus != 101) {
            socket->read(end + 4 + length);
            respond(socket, upgradeStatus, R"({"error":"refused"})", closeAfterRefusal);
            return;
        }
        socket->disconnect(this);
        socket->setParent(nullptr);
        m_ws.handleConnection(socket);
        return;
    }
    socket->read(end + 4 + length);
    const Answer a = answers.value(r.method + ' ' + r.path);
    respond(socket, a.status, a.body);
}

void FakeAdminGateway::respond(QTcpSocket *socket, int status, const QByteArray &body, bool close)
{
    socket->write("HTTP/1.1 " + QByteArray::number(status) + " Status\r\n"
        + "Content-Type: application/json\r\n" + (close ? "Connection: close\r\n" : "")
        + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    if (close)
        socket->disconnectFromHost();
}

void FakeAdminGateway::send(QWebSocket *stream, const QJsonObject &message)
{
    send(stream, QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void FakeAdminGateway::send(QWebSocket *stream, const QByteArray &text)
{
    stream->sendTextMessage(QString::fromUtf8(text));
}

QJsonObject AdminMessages::hello(const QString &node, bool cluster)
{
    QJsonObject clusterState {{u"enabled"_s, cluster}};
    if (cluster) {
        clusterState.insert(u"up"_s, true);
        clusterState.insert(u"redis"_s, u"redis://10.0.0.9:6379/0"_s);
        clusterState.insert(u"nodes"_s,
            QJsonArray {QJsonObject {{u"id"_s, node}, {u"uids"_s, 2}, {u"self"_s, true}},
                QJsonObject {{u"id"_s, u"gw-b"_s}, {u"uids"_s, 1}}});
    }
    return {{u"t"_s, u"hello"_s}, {u"protocol"_s, 1}, {u"version"_s, u"7.7.7"_s}, {u"node"_s, node},
        {u"startedAt"_s, u"2026-12-02T08:00:01.004Z"_s}, {u"listening"_s, true},
        {u"listeners"_s,
            QJsonObject {{u"ws"_s, u"0.0.0.0:8013"_s}, {u"text"_s, u"127.0.0.1:5678"_s},
                {u"http"_s, u"10.0.0.5:2121"_s}}},
        {u"cluster"_s, clusterState}, {u"offline"_s, QJsonObject {{u"enabled"_s, false}}},
        {u"eventCapacity"_s, 500}};
}

QJsonObject AdminMessages::presence(const QList<QJsonObject> &uids, bool reset)
{
    QJsonArray list;
    for (const QJsonObject &u : uids)
        list.append(u);
    QJsonObject o {{u"t"_s, u"presence"_s}, {u"uids"_s, list}};
    if (reset)
        o.insert(u"reset"_s, true);
    return o;
}

QJsonObject AdminMessages::uid(const QString &uid, int connections, const QStringList &otherNodes)
{
    QJsonArray peers;
    for (int i = 0; i < connections; ++i)
        peers.append(u"10.1.0.%1:4000"_s.arg(i + 1));
    QJsonObject o {{u"uid"_s, uid}, {u"connections"_s, connections}, {u"peers"_s, peers},
        {u"connectedAt"_s, u"2026-12-02T08:00:02.000Z"_s},
        {u"lastActivity"_s, u"2026-12-02T08:00:03.000Z"_s}, {u"messagesIn"_s, 1},
        {u"messagesOut"_s, 2}};
    if (!otherNodes.isEmpty())
        o.insert(u"otherNodes"_s, QJsonArray::fromStringList(otherNodes));
    return o;
}

QJsonObject AdminMessages::events(const QList<QJsonObject> &events)
{
    QJsonArray list;
    for (const QJsonObject &e : events)
        list.append(e);
    return {{u"t"_s, u"events"_s}, {u"events"_s, list}};
}

QJsonObject AdminMessages::message(const QString &uid, const QString &text, int ms)
{
    const QDateTime t = QDateTime(QDate(2026, 12, 2), QTime(9, 0), Qt::UTC).addMSecs(ms);
    return {{u"time"_s, t.toString(Qt::ISODateWithMs)}, {u"type"_s, u"message"_s},
        {u"level"_s, u"info"_s}, {u"conn"_s, 3}, {u"uid"_s, uid}, {u"peer"_s, u"10.1.0.1:4000"_s},
        {u"size"_s, text.size()}, {u"text"_s, text}};
}

QJsonObject AdminMessages::counters(int uids, int connections, int ok)
{
    return {{u"t"_s, u"counters"_s}, {u"time"_s, u"2026-12-02T09:00:00.000Z"_s},
        {u"steadyMs"_s, 1000 + ok}, {u"uids"_s, uids}, {u"connections"_s, connections},
        {u"pushes"_s,
            QJsonObject {{u"ok"_s, ok}, {u"fail"_s, 1}, {u"error"_s, 0}, {u"queued"_s, 0}}},
        {u"cluster"_s, QJsonObject {{u"sent"_s, 0}, {u"received"_s, 0}, {u"linkLosses"_s, 0}}},
        {u"offline"_s,
            QJsonObject {
                {u"stored"_s, 0}, {u"delivered"_s, 0}, {u"dropped"_s, 0}, {u"expired"_s, 0}}}};
}

QJsonObject AdminMessages::ready()
{
    return {{u"t"_s, u"ready"_s}};
}

void AdminMessages::snapshot(QWebSocket *stream, const QList<QJsonObject> &uids,
    const QList<QJsonObject> &events, const QString &node)
{
    FakeAdminGateway::send(stream, hello(node));
    FakeAdminGateway::send(stream, presence(uids, true));
    FakeAdminGateway::send(stream, AdminMessages::events(events));
    FakeAdminGateway::send(stream, counters(int(uids.size()), int(uids.size()), 5));
    FakeAdminGateway::send(stream, ready());
}
