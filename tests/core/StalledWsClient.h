#pragma once

#include <QByteArray>
#include <QList>

// A WebSocket client on a plain descriptor whose receive buffer is a few KiB
// and which reads only when told: the slow consumer, the client that pings
// without reading. Everything waits by spinning the event loop, so the
// server may run in the test's own thread.
class StalledWsClient final
{
public:
    StalledWsClient() = default;
    ~StalledWsClient();
    StalledWsClient(const StalledWsClient &) = delete;
    StalledWsClient &operator=(const StalledWsClient &) = delete;

    // Connects, does the handshake (GET path, with extraHeaders: lines
    // ending in CRLF) and sends uid as the first message (nothing when uid
    // is empty).
    bool open(quint16 port, const QByteArray &uid, const QByteArray &path = "/",
        const QByteArray &extraHeaders = QByteArray());
    // Writes all of bytes, waiting while the server's window is full.
    bool sendAll(const QByteArray &bytes, int timeoutMs = 20000);
    void sendFrame(quint8 opcode, const QByteArray &payload);
    // The client's own bytes the server's kernel has not acknowledged yet.
    int unsent() const;

    struct Frame
    {
        quint8 opcode = 0;
        QByteArray payload;
    };
    // Reads (now, at last) until a close frame arrives or the server hangs
    // up; returns every frame in order. ok is false on a timeout.
    QList<Frame> readUntilClosed(bool *ok, int timeoutMs = 20000);
    // Reads whatever has arrived and returns the frames complete so far.
    QList<Frame> readFrames();
    // True once the server reset or closed the connection.
    bool peerGone() const { return m_gone; }

    static QByteArray frame(quint8 opcode, const QByteArray &payload);

private:
    bool readSome();

    int m_fd = -1;
    QByteArray m_in;
    bool m_gone = false;
};
