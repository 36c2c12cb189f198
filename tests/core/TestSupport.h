#pragma once

#include "Config.h"
#include "PushServer.h"

#include <QByteArray>
#include <QList>
#include <QProcessEnvironment>
#include <QTcpSocket>
#include <QWebSocket>

#include <memory>

// Shared by the core tests: a gateway on loopback port 0 and the clients
// that talk to it. Everything waits by spinning the event loop (the server
// runs in the test's thread), never with blocking socket calls.
namespace TestSupport {

Config loopbackConfig();

// Starts a PushServer; returns nullptr (and fails the test) if it cannot.
std::unique_ptr<PushServer> startServer(const Config &config = loopbackConfig());

bool waitFor(const std::function<bool()> &predicate, int timeoutMs = 5000);

// A backend on the text port.
class TextClient final
{
public:
    explicit TextClient(quint16 port);
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void send(const QByteArray &bytes);
    // Waits for count reply lines; empty list on timeout.
    QList<QByteArray> readLines(int count, int timeoutMs = 5000);
    QByteArray request(const QByteArray &line); // send line + "\n", read one reply
    bool waitForDisconnected(int timeoutMs = 5000);
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
};

// A real QWebSocket client that binds a uid and records what it receives.
class WsClient final
{
public:
    explicit WsClient(quint16 port, const QString &path = QStringLiteral("/"));
    ~WsClient();
    bool waitConnected(int timeoutMs = 5000);
    // Sends uid and waits until the server lists it online (when given).
    bool bind(const QByteArray &uid, PushServer *server = nullptr);
    bool waitForMessages(int count, int timeoutMs = 5000);
    bool waitForDisconnected(int timeoutMs = 5000);

    QWebSocket socket;
    QList<QString> messages;
    bool disconnected = false;
};

QByteArray pushLine(const QByteArray &uid, const QByteArray &message);

// For the real binary started by a test: no display (so it runs headless
// whatever the test's own environment) and the C locale (the messages the
// tests check are the English ones).
QProcessEnvironment headlessEnvironment();

// Connects a plain socket (from `source` when given) and reports whether the
// server refuses it, i.e. resets or closes it without a word. QTcpSocket is
// not used: it can miss a reset that comes right after the connect.
bool isRefused(quint16 port,
    const QHostAddress &destination = QHostAddress(QHostAddress::LocalHost),
    const QHostAddress &source = QHostAddress());

} // namespace TestSupport
