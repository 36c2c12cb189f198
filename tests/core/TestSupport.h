#pragma once

#include "Config.h"
#include "ExternalPrograms.h"
#include "PushServer.h"
#include "Waiting.h"

#include <QByteArray>
#include <QList>
#include <QProcessEnvironment>
#include <QTcpSocket>
#include <QWebSocket>

#include <memory>

// Shared by the core tests: a gateway on loopback port 0 and the clients
// that talk to it. Everything waits by spinning the event loop (the server
// runs in the test's thread), never with blocking socket calls. A helper's
// wait that times out says what it waited for and what it saw (a warning
// just before the test's failure).
namespace TestSupport {

Config loopbackConfig();

// Starts a PushServer; returns nullptr (and fails the test) if it cannot.
std::unique_ptr<PushServer> startServer(const Config &config = loopbackConfig());

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
    WsClient(const WsClient &) = delete;
    WsClient &operator=(const WsClient &) = delete;
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

// A sync point for "nothing more arrives": pushes a probe to uid through a
// fresh connection to the text port and waits until client received it.
// The server handles pushes in order and a WebSocket client receives frames
// in order, so whatever was pushed to client before (answered before this
// call) has arrived by then, and what has not will never come. The probe
// stays in client.messages, last; probeMessage() is its text. A reply of
// "queued" (a gateway with offline delivery, the client's backlog still
// going) is fine too: the probe then comes behind the backlog.
bool probe(quint16 textPort, WsClient &client, const QByteArray &uid);
QString probeMessage(const QByteArray &uid);

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
