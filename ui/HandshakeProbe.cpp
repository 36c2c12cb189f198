#include "HandshakeProbe.h"

#include <QRandomGenerator>
#include <QSslConfiguration>
#include <QSslSocket>

namespace {
constexpr int TimeoutMs = 10000;
constexpr int MaxStatusLine = 1024;
} // namespace

HandshakeProbe::HandshakeProbe(const QUrl &streamUrl, const QByteArray &key,
    const QByteArray &subprotocol, const QList<QSslCertificate> &ca,
    std::function<void(int status)> done, QObject *parent)
    : QObject(parent)
    , m_socket(new QSslSocket(this))
    , m_done(std::move(done))
{
    const bool tls = streamUrl.scheme() == QLatin1String("wss");
    const quint16 port = quint16(streamUrl.port(tls ? 443 : 80));
    QByteArray nonce(16, Qt::Uninitialized);
    for (char &c : nonce)
        c = char(QRandomGenerator::global()->generate());
    QByteArray request = "GET " + streamUrl.path(QUrl::FullyEncoded).toLatin1()
        + " HTTP/1.1\r\nHost: " + streamUrl.host(QUrl::FullyEncoded).toLatin1() + ':'
        + QByteArray::number(port)
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: "
        + nonce.toBase64() + "\r\nSec-WebSocket-Protocol: " + subprotocol + "\r\n";
    if (!key.isEmpty())
        request += "Authorization: Bearer " + key + "\r\n";
    request += "\r\n";

    connect(m_socket, &QSslSocket::readyRead, this, [this] {
        m_received += m_socket->read(MaxStatusLine - m_received.size());
        const qsizetype end = m_received.indexOf("\r\n");
        if (end < 0 && m_received.size() < MaxStatusLine)
            return;
        // "HTTP/1.1 400 Bad Request"
        const QList<QByteArray> parts = m_received.left(end).split(' ');
        bool ok = false;
        const int status = parts.value(1).toInt(&ok);
        finish(ok && parts.value(0).startsWith("HTTP/") ? status : 0);
    });
    connect(m_socket, &QSslSocket::errorOccurred, this, [this] { finish(0); });
    connect(m_socket, &QSslSocket::disconnected, this, [this] { finish(0); });
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] { finish(0); });
    m_timeout.start(TimeoutMs);
    if (tls) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!ca.isEmpty())
            ssl.addCaCertificates(ca);
        m_socket->setSslConfiguration(ssl);
        connect(
            m_socket, &QSslSocket::encrypted, this, [this, request] { m_socket->write(request); });
        m_socket->connectToHostEncrypted(streamUrl.host(), port);
    } else {
        connect(
            m_socket, &QSslSocket::connected, this, [this, request] { m_socket->write(request); });
        m_socket->connectToHost(streamUrl.host(), port);
    }
}

void HandshakeProbe::finish(int status)
{
    if (!m_done)
        return;
    m_timeout.stop();
    m_socket->disconnect(this);
    m_socket->abort();
    const auto done = std::move(m_done);
    m_done = nullptr;
    done(status);
}
