#include "HttpServer.h"

#include "EventLog.h"
#include "Events.h"
#include "HttpConnection.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "StreamSocket.h"

#include <sys/socket.h>

HttpServer::HttpServer(Handler *handler, Metrics *metrics, EventLog *log, QObject *parent)
    : QObject(parent)
    , m_handler(handler)
    , m_metrics(metrics)
    , m_listener([this](int fd, const PeerAddress &peer) { accepted(fd, peer); })
    , m_refusals(log)
{
    m_listener.setOverloadHandler([log] {
        log->append(Events::error(Event::Level::Warning, Events::why(Event::Reason::OutOfFdsHttp)));
    });
    connect(&m_sweep, &QTimer::timeout, this, &HttpServer::sweep);
    setLimits(m_limits);
}

HttpServer::~HttpServer()
{
    // No handler calls on the way out.
    const QList<HttpConnection *> all = m_connections.values();
    m_connections.clear();
    qDeleteAll(all);
}

void HttpServer::setLimits(const Limits &limits)
{
    m_limits = limits;
    // Fine enough that a deadline is met within a quarter of the shortest
    // one (at most 250 ms late), coarse enough to cost nothing.
    const qint64 shortest =
        qMin(qMin(m_limits.requestTimeoutMs, m_limits.idleTimeoutMs), m_limits.lingerMs);
    m_sweep.setInterval(int(qBound(qint64(20), shortest / 4, qint64(250))));
}

bool HttpServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    return m_listener.listen(address, port, error);
}

void HttpServer::close()
{
    m_listener.close();
}

void HttpServer::closeAll()
{
    const QList<HttpConnection *> all = m_connections.values();
    for (HttpConnection *c : all)
        c->closeGracefully();
}

qint64 HttpServer::bufferedBytes() const
{
    qint64 sum = 0;
    for (const HttpConnection *c : m_connections)
        sum += c->bufferedBytes();
    return sum;
}

int HttpServer::pausedCount() const
{
    int n = 0;
    for (const HttpConnection *c : m_connections)
        n += c->isPaused() ? 1 : 0;
    return n;
}

void HttpServer::accepted(int fd, const PeerAddress &peer)
{
    if (m_connections.size() >= m_limits.maxConnections) {
        ++m_metrics->refusedHttp;
        m_refusals.report(Events::wrap(Event::Reason::HttpApiRefused, {},
                              Events::why(Event::Reason::ConnectionLimit, m_limits.maxConnections)),
            peer.toString());
        StreamSocket::resetAndClose(fd);
        return;
    }
    // The kernel's buffers count too: left to autotuning, a client that
    // stops reading could park megabytes there in each direction. What an
    // API answer needs is far less (the kernel doubles these values).
    const int sendBuffer = KernelSendBuffer;
    const int receiveBuffer = KernelReceiveBuffer;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    m_connections.insert(new HttpConnection(fd, peer, this, this, m_tls));
    if (!m_sweep.isActive())
        m_sweep.start();
    qCDebug(lcHttp) << "HTTP connection from" << peer.toString();
}

void HttpServer::handleRequest(
    HttpRequest &request, const HttpResponder &responder, const QString &peer)
{
    m_handler->handleRequest(request, responder, peer);
}

void HttpServer::requestRefused(int status, const QString &peer, const QString &reason)
{
    m_handler->requestRefused(status, peer, reason);
}

void HttpServer::answered(int status)
{
    ++m_responses[status];
}

void HttpServer::timedOut(HttpConnection::Deadline deadline)
{
    switch (deadline) {
    case HttpConnection::Deadline::Request:
        ++m_requestTimeouts;
        break;
    case HttpConnection::Deadline::Idle:
        ++m_idleTimeouts;
        break;
    case HttpConnection::Deadline::UnreadAnswers:
        ++m_stalledOutputs;
        break;
    }
}

void HttpServer::tlsFailed(const QString &peer, const QString &reason)
{
    ++m_tlsFailures;
    m_handler->requestRefused(0, peer, QStringLiteral("TLS handshake failed: %1").arg(reason));
}

void HttpServer::finished(HttpConnection *c, const QString &reason)
{
    m_connections.remove(c);
    qCDebug(lcHttp) << "HTTP connection closed" << c->peerString() << reason;
    c->deleteLater();
    if (m_connections.isEmpty())
        m_sweep.stop();
}

void HttpServer::sweep()
{
    const qint64 now = MonotonicClock::nowMs();
    // A copy: a connection that times out leaves the set.
    const QList<HttpConnection *> all = m_connections.values();
    for (HttpConnection *c : all) {
        if (m_connections.contains(c))
            c->checkDeadlines(now);
    }
}
