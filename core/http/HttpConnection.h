#pragma once

#include "HttpParser.h"
#include "HttpResponder.h"
#include "PeerAddress.h"
#include "StreamSocket.h"

#include <QObject>

#include <deque>
#include <memory>
#include <optional>

struct HttpResponse;
class TlsContext;
class TlsStream;

// One client of the HTTP API: requests in, one answer per request out, in
// request order, answers possibly given later than their requests. What it
// holds is bounded: the parser's one request, one socket read not parsed yet
// while it is paused, the slots of requests in flight and the answers the
// client has not read; past the limits it stops reading the client.
class HttpConnection final : public QObject,
                             private Transport::Handler,
                             private HttpResponder::Target
{
    Q_OBJECT
public:
    struct Limits
    {
        qint64 maxHead = 16 * 1024; // request line and fields: 431 past it
        qint64 maxBody = 1024 * 1024; // 413 past it, before the body when announced
        int maxConnections = 256; // refused (reset) at accept past it
        qint64 maxOutput = 1024 * 1024; // unsent answers before a client is not read
        int maxInFlight = 32; // requests read but not answered before it is not read
        qint64 requestTimeoutMs = 10 * 1000; // first byte of a request to its last
        qint64 idleTimeoutMs = 60 * 1000; // between requests; also unread answers
        qint64 lingerMs = 2000; // after the last answer, for the client to read it
    };
    enum class Deadline : quint8 { Request, Idle, UnreadAnswers };

    // What a connection needs from the server that accepted it.
    class Owner
    {
    public:
        virtual const Limits &limits() const = 0;
        // Once per request, in order; answered through responder, at once
        // or later.
        virtual void handleRequest(
            HttpRequest &request, const HttpResponder &responder, const QString &peer) = 0;
        // The connection answered by itself (a malformed request, a limit).
        virtual void requestRefused(int status, const QString &peer, const QString &reason) = 0;
        virtual void answered(int status) = 0;
        virtual void timedOut(Deadline deadline) = 0;
        // A TLS handshake failed or did not finish by the request deadline
        // (a plain-HTTP client on an https port, a client refusing our
        // certificate, a stalled hello); the connection is dropped.
        virtual void tlsFailed(const QString &peer, const QString &reason) = 0;
        // Closed; the owner frees it (deleteLater).
        virtual void finished(HttpConnection *c, const QString &reason) = 0;

    protected:
        ~Owner() = default;
    };

    // With tls: https, the TLS handshake starts at once.
    HttpConnection(int fd, const PeerAddress &peer, Owner *owner, QObject *parent,
        const TlsContext *tls = nullptr);
    ~HttpConnection() override;

    const PeerAddress &peer() const { return m_peer; }
    const QString &peerString() const { return m_peerString; }

    // The answer to request number `request` (see HttpResponder).
    void respond(quint64 request, const HttpResponse &response) override;
    bool takeOver(quint64 request, const std::function<void(TakenSocket &)> &adopt) override;
    // No new requests; those read are answered, then the connection closes.
    void closeGracefully();

    qint64 bufferedBytes() const;
    bool isPaused() const;
    // Enforces the deadlines; called by the server's sweep.
    void checkDeadlines(qint64 now);

    // What a slot costs beyond its answer's bytes: the slot, the byte
    // array's header and the allocator's own.
    static constexpr qint64 SlotOverhead = 64;

private:
    enum class State : quint8 {
        Open, // reading requests
        Closing, // no more requests; answering those read
        Lingering, // last answer queued, FIN after it; dropping what arrives
        Closed,
    };
    struct Slot
    {
        QByteArray bytes; // the answer on the wire, once ready
        bool ready = false;
        bool head = false; // a HEAD request: no body in the answer
        bool close = false; // the last request: "Connection: close"
    };

    void socketReadable() override;
    void socketDrained() override;
    // Parses and dispatches from data; returns the bytes used (all of them
    // unless it stopped taking requests).
    qint64 process(const char *data, qint64 size);
    void dispatch(HttpRequest &&request);
    // The server answers by itself and closes after the answer.
    void refuse(int status, const QByteArray &message, const QString &detail = QString());
    void flush();
    // Parses what was read while paused, as far as the limits allow.
    void processBuffered();
    void resume();
    bool canTakeRequest() const;
    qint64 outputBytes() const;
    void updateReading();
    void peerClosed();
    void startLinger();
    void finish(const QString &reason);
    bool handshaking() const;

    // One of them: m_io is the one in use (null once taken over).
    std::optional<StreamSocket> m_plain;
    std::unique_ptr<TlsStream> m_tls;
    Transport *m_io = nullptr;
    Owner *m_server;
    HttpParser m_parser;
    QByteArray m_in; // read but not parsed: what arrived while paused
    std::deque<Slot> m_slots; // requests in flight, oldest first
    quint64 m_firstSlot = 0; // request number of m_slots.front()
    quint64 m_nextRequest = 0;
    qint64 m_heldBytes = 0; // ready answers waiting behind one that is not
    int m_unanswered = 0; // slots not ready
    QString m_peerString;
    PeerAddress m_peer;
    qint64 m_requestStarted = 0; // monotonic ms: first byte of the current request
    qint64 m_idleSince = 0; // nothing to read, answer or send since then
    qint64 m_outputSince = 0; // unsent output since then, 0 when none
    qint64 m_lingerSince = 0;
    qint64 m_acceptedAt = 0; // the TLS handshake's deadline runs from here
    State m_state = State::Open;
    bool m_reading = true; // the read notifier is on
    bool m_processing = false; // in process(): answers are flushed after it
    bool m_peerEof = false;
    bool m_continueOwed = false; // "100 Continue" once the answers before it are out
};
