#pragma once

#include <QByteArray>
#include <QTcpSocket>

// A hand-driven WebSocket client over a plain QTcpSocket, for what QWebSocket
// will not do: send malformed frames, ignore pings, never read.
class RawWsClient final
{
public:
    explicit RawWsClient(quint16 port);

    bool handshake(const QByteArray &path = "/"); // true on "101"
    static QByteArray frame(
        quint8 opcode, const QByteArray &payload, bool fin = true, bool masked = true);
    void sendFrame(quint8 opcode, const QByteArray &payload, bool fin = true);
    void sendRaw(const QByteArray &bytes);
    bool waitForDisconnected(int timeoutMs = 5000);
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
};
