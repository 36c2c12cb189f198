#include "RawWsClient.h"

#include <QRandomGenerator>
#include <QTest>

RawWsClient::RawWsClient(quint16 port)
{
    m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    [[maybe_unused]] const bool connected = QTest::qWaitFor(
        [this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 5000);
}

bool RawWsClient::handshake(const QByteArray &path)
{
    sendRaw("GET " + path
        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    QByteArray response;
    [[maybe_unused]] const bool complete = QTest::qWaitFor(
        [&] {
            response += m_socket.readAll();
            return response.contains("\r\n\r\n");
        },
        5000);
    // The accept value for the RFC 6455 sample key, as the RFC gives it.
    return response.startsWith("HTTP/1.1 101")
        && response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

QByteArray RawWsClient::frame(quint8 opcode, const QByteArray &payload, bool fin, bool masked)
{
    QByteArray f;
    f.append(char((fin ? 0x80 : 0) | opcode));
    const quint8 maskBit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
        f.append(char(maskBit | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        f.append(char(maskBit | 126));
        f.append(char(payload.size() >> 8));
        f.append(char(payload.size() & 0xFF));
    } else {
        f.append(char(maskBit | 127));
        for (int i = 7; i >= 0; --i)
            f.append(char((quint64(payload.size()) >> (8 * i)) & 0xFF));
    }
    if (!masked)
        return f + payload;
    quint8 mask[4];
    const quint32 r = QRandomGenerator::global()->generate();
    for (int i = 0; i < 4; ++i)
        mask[i] = quint8(r >> (8 * i));
    f.append(reinterpret_cast<const char *>(mask), 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(char(payload[i] ^ mask[i % 4]));
    return f;
}

void RawWsClient::sendFrame(quint8 opcode, const QByteArray &payload, bool fin)
{
    sendRaw(frame(opcode, payload, fin));
}

void RawWsClient::sendRaw(const QByteArray &bytes)
{
    m_socket.write(bytes);
    m_socket.flush();
}

bool RawWsClient::waitForDisconnected(int timeoutMs)
{
    return QTest::qWaitFor(
        [this] { return m_socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
}
