#pragma once

#include "IntrusiveList.h"
#include "Metrics.h"
#include "PeerAddress.h"
#include "RemoteSocket.h"
#include "StreamSocket.h"
#include "Transport.h"
#include "WsFrame.h"

#include <QByteArray>
#include <QObject>

#include <memory>
#include <optional>
#include <variant>

struct Config;
struct WsHandshake;
class SocketThreads;
class TlsContext;
class TlsStream;

// One client: the RFC 6455 server side over a StreamSocket. It parses the
// handshake and frames, answers pings and close frames itself, and reports
// everything else to its gateway. It only keeps bytes it could not parse
// yet, so an idle connection holds no buffer.
class WsConnection final : public QObject, private Transport::Handler
{
    Q_OBJECT
public:
    enum class State : quint8 { Handshake, Open, Closing, Closed };

    // What a connection reports to, and asks of, whoever accepted it (the
    // WsGateway): an interface, so the connection knows nothing of the
    // gateway's registry, heartbeat and limits.
    class Owner
    {
    public:
        // The limits that apply to this connection (--max-output, ...).
        virtual const Config &config() const = 0;
        // Before the 101: false refuses the client (over a per-address limit).
        virtual bool admitHandshake(WsConnection *c, const WsHandshake &handshake) = 0;
        virtual void connectionOpened(WsConnection *c, const WsHandshake &handshake) = 0;
        virtual void connectionActive(WsConnection *c) = 0;
        virtual void messageReceived(WsConnection *c, quint8 opcode, QByteArrayView data) = 0;
        virtual void connectionClosing(WsConnection *c) = 0;
        // Gone from every timer list now; finished later.
        virtual void connectionAborting(WsConnection *c) = 0;
        virtual void connectionFinished(WsConnection *c, const QString &reason, int code) = 0;
        virtual void handshakeRefused(WsConnection *c, const QString &reason) = 0;
        virtual void protocolError(WsConnection *c, const QString &reason) = 0;
        virtual void slowConsumer(WsConnection *c) = 0;

    protected:
        ~Owner() = default;
    };

    // With tls set the connection speaks wss:// on fd. parent owns it (as
    // a QObject); owner hears of everything it does. With threads the
    // socket itself goes to one of them (--threads) and the connection
    // keeps only its protocol and state here.
    WsConnection(int fd, const PeerAddress &peer, quint64 id, Owner *owner, QObject *parent,
        const TlsContext *tls = nullptr, SocketThreads *threads = nullptr);
    ~WsConnection() override;

    quint64 id() const { return m_id; }
    // The client's address: the socket's, or what a trusted proxy said.
    const PeerAddress &peer() const { return m_peer; }
    void setPeer(const PeerAddress &peer) { m_peer = peer; }
    // Whether the gateway counts this connection against peer()'s
    // --max-conns-per-ip yet: not while a trusted proxy has still to say
    // whom it is relaying.
    bool isPerIpCounted() const { return m_perIpCounted; }
    void setPerIpCounted(bool counted) { m_perIpCounted = counted; }
    State state() const { return m_state; }
    const QByteArray &uid() const { return m_uid; }
    void setUid(const QByteArray &uid) { m_uid = uid; }
    bool isBound() const { return !m_uid.isEmpty(); }
    // The token this connection bound with (TokenVerifier::Result::tokenKey); 0: none.
    quint64 tokenKey() const { return m_tokenKey; }
    void setTokenKey(quint64 key) { m_tokenKey = key; }
    // Made room for a newer connection; its close is reported in bulk.
    void setEvicted() { m_evicted = true; }
    bool isEvicted() const { return m_evicted; }
    // The newest sliced fan-out (FanOut) this connection has had its turn
    // in, or that started before it was bound: the fan-outs it is owed
    // are the ones after it.
    quint64 fanOutMark() const { return m_fanOutMark; }
    void setFanOutMark(quint64 mark) { m_fanOutMark = mark; }

    qint64 connectedAtMs() const { return m_connectedAt; } // monotonic
    qint64 lastActivityMs() const { return m_lastActivity; } // monotonic
    quint64 messagesIn() const { return m_messagesIn; }
    quint64 messagesOut() const { return m_messagesOut; }
    quint64 bytesIn() const { return m_bytesIn; }
    quint64 bytesOut() const { return m_bytesOut; }
    qint64 pendingBytes() const { return m_io->pendingBytes(); }
    qint64 queuedMemory() const { return m_io->queuedMemory(); }
    // Bytes it never got because the connection was dropped with them
    // queued, and why; 0 when nothing was lost.
    qint64 discardedBytes() const { return m_discarded; }
    DropReason dropReason() const { return m_dropReason; }

    // One frame, header prepared by the caller so a broadcast builds it once.
    // False when the frame was not queued: the connection is closing, or it
    // is condemned (over --max-output, or failed) and dropped.
    bool sendFrame(QByteArrayView header, const QByteArray &payload);
    void sendPing();
    // Close handshake: a close frame, then wait (bounded by the gateway) for
    // the peer's answer.
    void close(quint16 code, QByteArrayView reason);
    // Shutdown: no more frames; what is queued still goes out, then the
    // close handshake starts.
    void closeWhenDrained(quint16 code, const QByteArray &reason);
    // Drop now: reset, no close frame. Whatever was still queued counts as
    // discarded for `why`.
    void abort(const QString &reason, DropReason why);
    void setCloseReason(const QString &reason, int code);

Q_SIGNALS:
    // Everything queued was handed to the kernel. A stored backlog is sent
    // at this pace (PushRouter) and acknowledged to its store on it.
    void outputDrained();

private:
    friend class Heartbeat;
    friend class SessionRegistry; // m_boundHook

    void socketReadable() override;
    void socketDrained() override;
    bool sendPong(QByteArrayView payload);
    // A write the transport refused: the peer failed or is over its cap.
    void writeRefused(const QString &slowReason);
    void noteDiscarded(DropReason why);
    void consume(char *data, qint64 size);
    qint64 processHandshake(char *data, qint64 size);
    qint64 processFrames(char *data, qint64 size);
    bool handleFrame(const WsFrame::Header &header, char *payload);
    void handleClose(QByteArrayView payload);
    void failProtocol(quint16 code, const char *reason);
    void startClosing();
    void abortLater(const QString &reason, DropReason why);
    void finish(const QString &reason, int code = 0);

    // A plain socket lives inside the connection (one object, one cache
    // line less per push), and so does the near side of one on a socket
    // thread (--threads); TLS on this thread goes through a heap-allocated
    // QSslSocket.
    std::variant<std::monostate, StreamSocket, RemoteSocket> m_socket;
    std::unique_ptr<TlsStream> m_tls;
    Transport *m_io = nullptr;
    Owner *m_owner;
    QByteArray m_in; // bytes received but not parsed yet
    QByteArray m_message; // a fragmented message being assembled
    QByteArray m_uid;
    QByteArray m_pong; // payload of the latest ping not answered yet
    QByteArray m_drainReason;
    QString m_closeReason; // why the close handshake started, if it did
    PeerAddress m_peer;
    quint64 m_id;
    qint64 m_connectedAt;
    qint64 m_lastActivity;
    qint64 m_lastPing;
    qint64 m_closingSince = 0;
    quint64 m_messagesIn = 0;
    quint64 m_messagesOut = 0;
    quint64 m_bytesIn = 0;
    quint64 m_bytesOut = 0;
    quint64 m_tokenKey = 0;
    quint64 m_fanOutMark = 0;
    qint64 m_discarded = 0;
    int m_closeCode = 0;
    quint16 m_drainCode = 0;
    ListHook<WsConnection> m_idleHook;
    ListHook<WsConnection> m_pingHook;
    ListHook<WsConnection> m_deadlineHook; // bind timeout, then close timeout
    ListHook<WsConnection> m_boundHook; // the registry's bind order
    State m_state = State::Handshake;
    quint8 m_messageOpcode = 0; // opcode of the message in m_message, 0 if none
    DropReason m_dropReason = DropReason::PeerGone;
    bool m_pongDue = false;
    bool m_draining = false; // shutting down: close once the queue is empty
    bool m_evicted = false;
    bool m_finished = false;
    bool m_perIpCounted = false;
};
