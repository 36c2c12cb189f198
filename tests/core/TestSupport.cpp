#include "TestSupport.h"

#include <QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace TestSupport {

Config loopbackConfig()
{
    Config c;
    c.wsBind = QHostAddress(QHostAddress::LocalHost);
    c.wsPort = 0;
    c.textBind = QHostAddress(QHostAddress::LocalHost);
    c.textPort = 0;
    c.httpBind = QHostAddress(QHostAddress::LocalHost);
    c.httpPort = 0;
    return c;
}

std::unique_ptr<PushServer> startServer(const Config &config)
{
    auto server = std::make_unique<PushServer>(config);
    QString error;
    if (!server->start(&error)) {
        qWarning("cannot start server: %s", qPrintable(error));
        return nullptr;
    }
    return server;
}

TextClient::TextClient(quint16 port)
{
    m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    waitFor([this] { return isConnected(); });
}

void TextClient::send(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.flush();
}

QList<QByteArray> TextClient::readLines(int count, int timeoutMs)
{
    QList<QByteArray> lines;
    const bool ok = waitFor(
        [&] {
            while (m_socket.canReadLine())
                lines.append(m_socket.readLine());
            return lines.size() >= count;
        },
        timeoutMs);
    if (!ok) {
        qWarning("TextClient: waited %d ms for %d reply lines, got %s (socket %s)", timeoutMs,
            count, describe(lines).constData(), describe(m_socket.state()).constData());
    }
    return ok ? lines : QList<QByteArray>();
}

QByteArray TextClient::request(const QByteArray &line)
{
    send(line + '\n');
    const QList<QByteArray> lines = readLines(1);
    return lines.isEmpty() ? QByteArray() : lines.front();
}

bool TextClient::waitForDisconnected(int timeoutMs)
{
    const bool ok = waitFor(
        [this] { return m_socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
    if (!ok)
        qWarning("TextClient: still connected after %d ms", timeoutMs);
    return ok;
}

WsClient::WsClient(quint16 port, const QString &path)
{
    QObject::connect(&socket, &QWebSocket::textMessageReceived, &socket,
        [this](const QString &m) { messages.append(m); });
    QObject::connect(&socket, &QWebSocket::disconnected, &socket, [this] { disconnected = true; });
    socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(port).arg(path)));
}

WsClient::~WsClient()
{
    socket.abort();
}

bool WsClient::waitConnected(int timeoutMs)
{
    const bool ok =
        waitFor([this] { return socket.state() == QAbstractSocket::ConnectedState; }, timeoutMs);
    if (!ok) {
        qWarning("WsClient: not connected after %d ms (state %d, %s)", timeoutMs,
            int(socket.state()), qPrintable(socket.errorString()));
    }
    return ok;
}

bool WsClient::bind(const QByteArray &uid, PushServer *server)
{
    if (!waitConnected())
        return false;
    const int before = server ? server->registry()->connectionCount() : 0;
    socket.sendTextMessage(QString::fromUtf8(uid));
    if (!server)
        return true;
    const bool ok = waitFor([&] { return server->registry()->connectionCount() > before; });
    if (!ok) {
        qWarning("WsClient: %s not bound after %d ms (bound connections: %d, close code %d %s)",
            uid.constData(), DefaultWaitMs, server->registry()->connectionCount(),
            int(socket.closeCode()), qPrintable(socket.closeReason()));
    }
    return ok;
}

bool WsClient::waitForMessages(int count, int timeoutMs)
{
    const bool ok = waitFor([&] { return messages.size() >= count; }, timeoutMs);
    if (!ok) {
        qWarning("WsClient: waited %d ms for %d messages, have %s%s", timeoutMs, count,
            describe(messages).constData(), disconnected ? " (disconnected)" : "");
    }
    return ok;
}

bool WsClient::waitForDisconnected(int timeoutMs)
{
    const bool ok = waitFor([this] { return disconnected; }, timeoutMs);
    if (!ok)
        qWarning("WsClient: still connected after %d ms", timeoutMs);
    return ok;
}

QByteArray pushLine(const QByteArray &uid, const QByteArray &message)
{
    return "{\"uid\":\"" + uid + "\",\"msg\":\"" + message + "\"}";
}

QString probeMessage(const QByteArray &uid)
{
    return QString::fromUtf8(pushLine(uid, "probe"));
}

bool probe(quint16 textPort, WsClient &client, const QByteArray &uid)
{
    const qsizetype before = client.messages.size();
    TextClient backend(textPort);
    const QByteArray reply = backend.request(pushLine(uid, "probe"));
    if (reply != "ok\n" && reply != "queued\n") {
        qWarning(
            "probe: the push to %s was answered %s", uid.constData(), describe(reply).constData());
        return false;
    }
    if (!waitFor([&] { return client.messages.mid(before).contains(probeMessage(uid)); })) {
        qWarning("probe: never came; received %s", describe(client.messages).constData());
        return false;
    }
    // Anything behind the probe would be a frame pushed after it.
    if (client.messages.back() != probeMessage(uid)) {
        qWarning("probe: not last; received %s", describe(client.messages).constData());
        return false;
    }
    return true;
}

bool isRefused(quint16 port, const QHostAddress &destination, const QHostAddress &source)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    auto address = [](const QHostAddress &host, quint16 p) {
        sockaddr_in in = {};
        in.sin_family = AF_INET;
        in.sin_port = htons(p);
        in.sin_addr.s_addr = htonl(host.toIPv4Address());
        return in;
    };
    if (!source.isNull()) {
        const sockaddr_in from = address(source, 0);
        ::bind(fd, reinterpret_cast<const sockaddr *>(&from), sizeof from);
    }
    const sockaddr_in to = address(destination, port);
    // The kernel completes the handshake from the listen backlog, so a
    // blocking connect does not need our event loop.
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0) {
        ::close(fd);
        return true;
    }
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    bool refused = false;
    waitFor([&] {
        char byte;
        const ssize_t n = ::recv(fd, &byte, 1, 0);
        refused = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        return refused || n > 0;
    });
    ::close(fd);
    return refused;
}

QProcessEnvironment headlessEnvironment()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    env.insert(QStringLiteral("LANG"), QStringLiteral("C"));
    return env;
}

} // namespace TestSupport
