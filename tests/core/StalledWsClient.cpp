#include "StalledWsClient.h"

#include <QRandomGenerator>
#include <QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

StalledWsClient::~StalledWsClient()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

QByteArray StalledWsClient::frame(quint8 opcode, const QByteArray &payload)
{
    QByteArray f;
    f.append(char(0x80 | opcode));
    if (payload.size() < 126) {
        f.append(char(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        f.append(char(0x80 | 126));
        f.append(char(payload.size() >> 8));
        f.append(char(payload.size() & 0xFF));
    } else {
        f.append(char(0x80 | 127));
        for (int i = 7; i >= 0; --i)
            f.append(char((quint64(payload.size()) >> (8 * i)) & 0xFF));
    }
    const quint32 mask = QRandomGenerator::global()->generate();
    const char *m = reinterpret_cast<const char *>(&mask);
    f.append(m, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(char(payload[i] ^ m[i % 4]));
    return f;
}

bool StalledWsClient::open(
    quint16 port, const QByteArray &uid, const QByteArray &path, const QByteArray &extraHeaders)
{
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return false;
    // Before connect: the window offered to the server is fixed then.
    const int small = 4096;
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in to = {};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(m_fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0
        && errno != EINPROGRESS)
        return false;
    if (!sendAll("GET " + path
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                + extraHeaders + "\r\n",
            5000))
        return false;
    const bool answered = QTest::qWaitFor(
        [&] {
            readSome();
            return m_in.contains("\r\n\r\n") || m_gone;
        },
        5000);
    if (!answered || !m_in.startsWith("HTTP/1.1 101"))
        return false;
    m_in.remove(0, m_in.indexOf("\r\n\r\n") + 4);
    return uid.isEmpty() || sendAll(frame(0x1, uid));
}

bool StalledWsClient::sendAll(const QByteArray &bytes, int timeoutMs)
{
    qsizetype sent = 0;
    return QTest::qWaitFor(
               [&] {
                   while (sent < bytes.size()) {
                       const ssize_t n = ::send(m_fd, bytes.constData() + sent,
                           size_t(bytes.size() - sent), MSG_NOSIGNAL);
                       if (n < 0) {
                           if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)
                               return false; // the event loop gets its turn
                           m_gone = true;
                           return true;
                       }
                       sent += n;
                   }
                   return true;
               },
               timeoutMs)
        && !m_gone;
}

void StalledWsClient::sendFrame(quint8 opcode, const QByteArray &payload)
{
    sendAll(frame(opcode, payload));
}

int StalledWsClient::unsent() const
{
    int n = 0;
    ::ioctl(m_fd, TIOCOUTQ, &n);
    return n;
}

bool StalledWsClient::readSome()
{
    char buffer[65536];
    bool any = false;
    for (;;) {
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            m_in.append(buffer, n);
            any = true;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            m_gone = true;
        return any;
    }
}

QList<StalledWsClient::Frame> StalledWsClient::readFrames()
{
    readSome();
    QList<Frame> frames;
    for (;;) {
        if (m_in.size() < 2)
            break;
        const auto *p = reinterpret_cast<const uchar *>(m_in.constData());
        quint64 length = p[1] & 0x7F;
        qsizetype head = 2;
        if (length == 126) {
            if (m_in.size() < 4)
                break;
            length = (quint64(p[2]) << 8) | p[3];
            head = 4;
        } else if (length == 127) {
            if (m_in.size() < 10)
                break;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = (length << 8) | p[2 + i];
            head = 10;
        }
        if (quint64(m_in.size() - head) < length)
            break;
        frames.append({quint8(p[0] & 0x0F), m_in.mid(head, qsizetype(length))});
        m_in.remove(0, head + qsizetype(length));
    }
    return frames;
}

QList<StalledWsClient::Frame> StalledWsClient::readUntilClosed(bool *ok, int timeoutMs)
{
    QList<Frame> frames;
    *ok = QTest::qWaitFor(
        [&] {
            frames += readFrames();
            if (!frames.isEmpty() && frames.back().opcode == 0x8) {
                // Answer the close as a browser does.
                sendAll(frame(0x8, frames.back().payload.left(2)), 1000);
                return true;
            }
            return m_gone;
        },
        timeoutMs);
    return frames;
}
