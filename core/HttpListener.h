#pragma once

#include <QHash>
#include <QTcpServer>
#include <QTimer>

class HttpConnectionGuard;
class QTcpSocket;

// The listening socket of the HTTP API, handed to QHttpServer with bind().
// QHttpServer 6.4 reads a request into memory whatever its size, does not
// answer "Expect: 100-continue" (curl and PHP's curl then wait a second
// before sending a body over 1 KiB) and keeps idle connections forever.
// Each connection accepted here gets a guard that sees every read before
// QHttpServer does and fixes those three.
class HttpListener final : public QTcpServer
{
    Q_OBJECT
public:
    struct Limits
    {
        qint64 maxBody = 1024 * 1024; // larger request bodies get 413
        qint64 maxHeader = 16 * 1024; // longer request heads get 431
        qint64 idleTimeoutMs = 60 * 1000; // a connection silent this long is closed
        qint64 lingerMs = 2000; // a refused client gets this long to read the answer
    };

    explicit HttpListener(const Limits &limits, QObject *parent = nullptr);
    ~HttpListener() override;

    void setLimits(const Limits &limits);
    const Limits &limits() const { return m_limits; }
    int connectionCount() const { return int(m_guards.size()); }

    // Whether the request being answered on socket asked for the connection
    // to end after the answer (HTTP/1.0 without keep-alive, or "Connection:
    // close"), which QHttpServer 6.4 ignores.
    bool closeRequested(const QTcpSocket *socket) const;

    // "1.2.3.4:5" or "[::1]:5"; IPv4-mapped addresses shown as IPv4.
    static QString peerString(const QTcpSocket *socket);

Q_SIGNALS:
    // A guard answered by itself (413, 431) and is closing the connection.
    void requestRefused(int status, const QString &peer, const QString &reason);

protected:
    void incomingConnection(qintptr fd) override;

private:
    friend class HttpConnectionGuard;
    void sweepIdle();

    Limits m_limits;
    QHash<const QTcpSocket *, HttpConnectionGuard *> m_guards;
    QTimer m_sweep;
};
