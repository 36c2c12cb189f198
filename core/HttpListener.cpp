#include "HttpListener.h"

#include "Logging.h"
#include "MonotonicClock.h"

#include <QTcpSocket>

#include <sys/socket.h>
#include <unistd.h>

// Sits in front of QHttpServer on one connection. It reads nothing itself:
// it peeks at the bytes QHttpServer is about to read. QHttpServer reads a
// request inside a socket transaction that it commits once the request is
// complete, so "no transaction open" means the bytes start a new request.
class HttpConnectionGuard final : public QObject
{
public:
    HttpConnectionGuard(QTcpSocket *socket, HttpListener *listener)
        : QObject(socket)
        , m_socket(socket)
        , m_listener(listener)
        , m_lastActivity(MonotonicClock::nowMs())
    { }

    ~HttpConnectionGuard() override
    {
        if (m_listener)
            m_listener->m_guards.remove(m_socket);
    }

    void detach() { m_listener = nullptr; }
    bool closeRequested() const { return m_closeRequested; }
    qint64 lastActivity() const { return m_lastActivity; }
    QTcpSocket *socket() const { return m_socket; }

    void beforeRead()
    {
        m_lastActivity = MonotonicClock::nowMs();
        const qint64 fresh = m_socket->bytesAvailable();
        if (fresh <= 0 || !m_listener)
            return;
        const HttpListener::Limits &limits = m_listener->limits();
        if (!m_socket->isTransactionStarted()) {
            m_inHead = true;
            m_head.clear();
            m_received = 0;
        }
        m_received += fresh;
        if (m_inHead) {
            const qint64 room = limits.maxHeader + 4 - m_head.size();
            m_head += m_socket->peek(qMin(fresh, room));
            const qsizetype end = m_head.indexOf("\r\n\r\n");
            if (end < 0) {
                if (m_head.size() > limits.maxHeader) {
                    refuse(431, "Request Header Fields Too Large",
                        "request head too large (limit " + QByteArray::number(limits.maxHeader)
                            + " bytes)",
                        {});
                }
                return;
            }
            m_inHead = false;
            if (!inspectHead(end, limits))
                return;
        }
        // Chunked bodies carry no length up front: the raw byte count bounds them.
        if (m_received > limits.maxBody + limits.maxHeader)
            refuse(413, "Payload Too Large", tooLarge(limits), {});
    }

private:
    // Returns false when the request was refused.
    bool inspectHead(qsizetype end, const HttpListener::Limits &limits)
    {
        qint64 contentLength = -1;
        bool expectContinue = false;
        bool closeToken = false;
        bool keepAliveToken = false;
        const QByteArrayView head = QByteArrayView(m_head).first(end);
        qsizetype pos = head.indexOf("\r\n");
        const bool http10 = (pos < 0 ? head : head.first(pos)).trimmed().endsWith("HTTP/1.0");
        while (pos >= 0 && pos < head.size()) {
            const qsizetype start = pos + 2;
            qsizetype next = head.indexOf("\r\n", start);
            const QByteArrayView field =
                head.sliced(start, (next < 0 ? head.size() : next) - start);
            pos = next;
            const qsizetype colon = field.indexOf(':');
            if (colon <= 0)
                continue;
            const QByteArrayView name = field.first(colon).trimmed();
            const QByteArrayView value = field.sliced(colon + 1).trimmed();
            if (name.compare("content-length", Qt::CaseInsensitive) == 0) {
                bool ok = false;
                const qint64 n = value.toLongLong(&ok);
                if (ok)
                    contentLength = n;
            } else if (name.compare("expect", Qt::CaseInsensitive) == 0) {
                expectContinue = value.compare("100-continue", Qt::CaseInsensitive) == 0;
            } else if (name.compare("connection", Qt::CaseInsensitive) == 0) {
                for (const QByteArray &token : value.toByteArray().split(',')) {
                    closeToken |= token.trimmed().compare("close", Qt::CaseInsensitive) == 0;
                    keepAliveToken |=
                        token.trimmed().compare("keep-alive", Qt::CaseInsensitive) == 0;
                }
            }
        }
        m_closeRequested = http10 ? !keepAliveToken : closeToken;
        const bool bodyStarted = m_head.size() > end + 4;
        m_head = QByteArray();
        if (contentLength > limits.maxBody) {
            refuse(413, "Payload Too Large", tooLarge(limits),
                QByteArray::number(contentLength) + " bytes announced");
            return false;
        }
        // The client waits for this before it sends the body (chunked when
        // there is no length).
        if (expectContinue && contentLength != 0 && !bodyStarted)
            m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
        return true;
    }

    static QByteArray tooLarge(const HttpListener::Limits &limits)
    {
        return "body too large (limit " + QByteArray::number(limits.maxBody) + " bytes)";
    }

    // `message` goes to the client, `detail` only to the log.
    void refuse(
        int status, const char *statusText, const QByteArray &message, const QByteArray &detail)
    {
        // From now on QHttpServer sees nothing of this connection; its
        // half-read request is freed with the socket.
        QObject::disconnect(m_socket, &QTcpSocket::readyRead, nullptr, nullptr);
        if (m_socket->isTransactionStarted())
            m_socket->commitTransaction();
        m_socket->skip(m_socket->bytesAvailable());
        connect(m_socket, &QTcpSocket::readyRead, this,
            [this] { m_socket->skip(m_socket->bytesAvailable()); });

        const QByteArray body = "{\"error\":\"" + message + "\"}";
        m_socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        // Closing a socket that still has unread input makes the kernel send
        // a reset, which can destroy the answer before the client reads it:
        // half-close once the answer is out and keep dropping what arrives.
        connect(m_socket, &QTcpSocket::bytesWritten, this, [this] {
            if (m_socket->bytesToWrite() == 0)
                shutdownWrite();
        });
        m_socket->flush();
        if (m_socket->bytesToWrite() == 0)
            shutdownWrite();
        const qint64 linger = m_listener ? m_listener->limits().lingerMs : 0;
        QTimer::singleShot(linger, this, [this] { m_socket->abort(); });

        if (m_listener) {
            const QByteArray reason = detail.isEmpty() ? message : message + ", " + detail;
            Q_EMIT m_listener->requestRefused(
                status, HttpListener::peerString(m_socket), QString::fromUtf8(reason));
        }
    }

    void shutdownWrite()
    {
        if (m_writeShut || m_socket->socketDescriptor() < 0)
            return;
        m_writeShut = true;
        ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    }

    QTcpSocket *m_socket;
    HttpListener *m_listener;
    QByteArray m_head; // the current request's head, until its end is found
    qint64 m_received = 0; // bytes of the current request so far
    qint64 m_lastActivity;
    bool m_inHead = true;
    bool m_writeShut = false;
    bool m_closeRequested = false;
};

HttpListener::HttpListener(const Limits &limits, QObject *parent)
    : QTcpServer(parent)
{
    setLimits(limits);
    connect(&m_sweep, &QTimer::timeout, this, &HttpListener::sweepIdle);
    m_sweep.start();
    // Out of descriptors QTcpServer stops accepting for good; try again a
    // little later, when some connections may have gone.
    connect(this, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError error) {
        qCWarning(lcHttp) << "accept failed:" << error << errorString();
        QTimer::singleShot(1000, this, [this] {
            if (isListening())
                resumeAccepting();
        });
    });
}

HttpListener::~HttpListener()
{
    // The sockets, and with them the guards, go in QObject's destructor,
    // after this object's members.
    for (HttpConnectionGuard *guard : std::as_const(m_guards))
        guard->detach();
}

bool HttpListener::closeRequested(const QTcpSocket *socket) const
{
    const HttpConnectionGuard *guard = m_guards.value(socket);
    return guard && guard->closeRequested();
}

QString HttpListener::peerString(const QTcpSocket *socket)
{
    QHostAddress address = socket->peerAddress();
    bool mapped = false;
    const quint32 v4 = address.toIPv4Address(&mapped);
    if (mapped)
        address = QHostAddress(v4);
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
        : address.toString();
    return host + QLatin1Char(':') + QString::number(socket->peerPort());
}

void HttpListener::setLimits(const Limits &limits)
{
    m_limits = limits;
    m_sweep.setInterval(int(qBound(qint64(50), m_limits.idleTimeoutMs / 4, qint64(1000))));
}

void HttpListener::incomingConnection(qintptr fd)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(fd)) {
        qCWarning(lcHttp) << "cannot adopt an accepted socket:" << socket->errorString();
        delete socket;
        ::close(int(fd));
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto *guard = new HttpConnectionGuard(socket, this);
    m_guards.insert(socket, guard);
    // Connected before addPendingConnection() hands the socket to
    // QHttpServer (which connects its own reader there), so the guard runs
    // first on every read.
    connect(socket, &QTcpSocket::readyRead, guard, &HttpConnectionGuard::beforeRead);
    addPendingConnection(socket);
}

void HttpListener::sweepIdle()
{
    const qint64 now = MonotonicClock::nowMs();
    QList<QTcpSocket *> idle;
    for (const HttpConnectionGuard *guard : std::as_const(m_guards)) {
        if (now - guard->lastActivity() > m_limits.idleTimeoutMs)
            idle.append(guard->socket());
    }
    // QHttpServer deletes a socket once it is disconnected.
    for (QTcpSocket *socket : std::as_const(idle))
        socket->abort();
}
