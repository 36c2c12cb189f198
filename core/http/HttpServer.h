#pragma once

#include "HttpConnection.h"
#include "Listener.h"
#include "RefusalReporter.h"

#include <QMap>
#include <QObject>
#include <QSet>
#include <QTimer>

struct Metrics;
class EventLog;
class HttpRequest;
class TlsContext;

// A small HTTP/1.1 server on the core's own listener and sockets, so that
// every byte it holds is bounded and counted: per connection one request
// being read, a bounded number of requests in flight, a bounded output
// queue, a deadline for each request and for idleness; and connections in
// all. Answers may come later than the request (a push waiting for Redis)
// and still leave in request order.
class HttpServer final : public QObject, private HttpConnection::Owner
{
    Q_OBJECT
public:
    using Limits = HttpConnection::Limits;

    // Who answers: the API.
    class Handler
    {
    public:
        // Once per request, in order. Answer through responder, at once or
        // later; every request must be answered exactly once.
        virtual void handleRequest(
            HttpRequest &request, const HttpResponder &responder, const QString &peer) = 0;
        // The server answered by itself (a malformed request, a limit, a
        // timeout); status is what it answered, 0 when nothing could be
        // (a failed TLS handshake).
        virtual void requestRefused(int status, const QString &peer, const QString &reason) = 0;

    protected:
        ~Handler() = default;
    };

    // SO_SNDBUF and SO_RCVBUF of each connection (the kernel doubles them).
    static constexpr int KernelSendBuffer = 128 * 1024;
    static constexpr int KernelReceiveBuffer = 64 * 1024;

    HttpServer(Handler *handler, Metrics *metrics, EventLog *log, QObject *parent = nullptr);
    ~HttpServer() override;

    void setLimits(const Limits &limits);
    // https from the next connection on; nullptr: plain HTTP. The context
    // must outlive the server or be replaced first; a connection copies
    // what it needs, so a new certificate applies to new connections only.
    void setTlsContext(const TlsContext *tls) { m_tls = tls; }
    bool isSecure() const { return m_tls != nullptr; }
    const Limits &limits() const override { return m_limits; }

    bool listen(const QHostAddress &address, quint16 port, QString *error);
    void close(); // stops listening; connections stay
    // Every connection: no new requests, the ones read are answered, then
    // it closes.
    void closeAll();
    bool isListening() const { return m_listener.isListening(); }
    quint16 port() const { return m_listener.port(); }
    QHostAddress address() const { return m_listener.address(); }
    QString addressString() const { return m_listener.addressString(); }

    int connectionCount() const { return int(m_connections.size()); }
    // Memory held for clients (buffers, queued answers, bookkeeping), bytes.
    qint64 bufferedBytes() const;
    // Connections not read because of their unsent answers or requests in flight.
    int pausedCount() const;
    // Answers sent (or queued), by status code.
    const QMap<int, quint64> &responseCounts() const { return m_responses; }
    quint64 requestTimeouts() const { return m_requestTimeouts; }
    quint64 idleTimeouts() const { return m_idleTimeouts; }
    quint64 stalledOutputs() const { return m_stalledOutputs; }
    // TLS handshakes that failed or did not finish in time.
    quint64 tlsFailures() const { return m_tlsFailures; }

private:
    void accepted(int fd, const PeerAddress &peer);
    void handleRequest(
        HttpRequest &request, const HttpResponder &responder, const QString &peer) override;
    void requestRefused(int status, const QString &peer, const QString &reason) override;
    void answered(int status) override;
    void timedOut(HttpConnection::Deadline deadline) override;
    void tlsFailed(const QString &peer, const QString &reason) override;
    void finished(HttpConnection *c, const QString &reason) override;
    void sweep();

    Handler *m_handler;
    Metrics *m_metrics;
    Limits m_limits;
    const TlsContext *m_tls = nullptr;
    Listener m_listener;
    RefusalReporter m_refusals;
    QSet<HttpConnection *> m_connections;
    QTimer m_sweep;
    QMap<int, quint64> m_responses;
    quint64 m_requestTimeouts = 0;
    quint64 m_idleTimeouts = 0;
    quint64 m_stalledOutputs = 0;
    quint64 m_tlsFailures = 0;
};
