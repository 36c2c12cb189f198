#pragma once

#include "HttpResponse.h"

#include <QPointer>

#include <functional>
#include <memory>

class TlsStream;

// The connection of an upgraded request, handed to its new owner: a plain
// descriptor, or the TLS session itself (it cannot be rebuilt on the bare
// descriptor). Exactly one of them is set.
struct TakenSocket
{
    TakenSocket();
    TakenSocket(TakenSocket &&) noexcept;
    TakenSocket &operator=(TakenSocket &&) noexcept;
    ~TakenSocket();

    int fd = -1;
    std::unique_ptr<TlsStream> tls;
};

// The one answer a request is owed. A copyable handle: keep it to answer
// later (a push waiting for Redis). Answers leave in request order whatever
// order they are given in; once the connection is gone, send() does nothing.
class HttpResponder final
{
public:
    // Whoever keeps the request's place in line (the HttpConnection).
    class Target
    {
    public:
        virtual void respond(quint64 request, const HttpResponse &response) = 0;
        // Hands the connection's socket to adopt instead of answering (see
        // HttpResponder::takeOver).
        virtual bool takeOver(quint64 request, const std::function<void(TakenSocket &)> &adopt) = 0;

    protected:
        ~Target() = default;
    };

    HttpResponder() = default;
    // target lives as long as alive (the connection object itself).
    HttpResponder(QObject *alive, Target *target, quint64 request);

    // Only the first call for a request counts.
    void send(const HttpResponse &response) const;
    bool isConnected() const { return !m_alive.isNull(); }
    // An Upgrade: instead of an answer, the socket itself goes to adopt
    // (which takes it out of the TakenSocket, writes the 101 and everything
    // after it), and the HTTP connection ends. Only for the one request in flight with nothing
    // unsent before it; false otherwise, and the request is still owed an
    // answer.
    bool takeOver(const std::function<void(TakenSocket &)> &adopt) const;

private:
    QPointer<QObject> m_alive;
    Target *m_target = nullptr;
    quint64 m_request = 0;
};
