#pragma once

#include "Config.h"
#include "Heartbeat.h"
#include "Listener.h"
#include "ProxyIntake.h"
#include "RefusalReporter.h"
#include "WsConnection.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

struct Metrics;
struct WsHandshake;
class EventLog;
class TlsContext;
class TokenVerifier;
class SessionRegistry;
class SocketThreads;

// The WebSocket side: accepts connections, binds each to the uid its first
// message names, keeps the registry and the heartbeat up to date, and
// reports every step to the event log.
//
// Per-address limits apply to the client: for a connection from a trusted
// proxy (--trusted-proxies) that is the address its PROXY header or
// X-Forwarded-For names, so such a connection is counted once that is
// known (after the PROXY header, or at the HTTP handshake) and refused then
// if its client is over the limit.
class WsGateway final : public QObject, private WsConnection::Owner, private Heartbeat::Handler
{
    Q_OBJECT
public:
    WsGateway(const Config &config, SessionRegistry *registry, EventLog *log, Metrics *metrics,
        QObject *parent = nullptr);
    ~WsGateway() override;

    // A copy: a change applies from the next listen() on; connected clients
    // keep theirs.
    void setConfig(const Config &config) { m_config = config; }
    // A reload: the limits, timeouts and checks take effect now, for new
    // connections and for every later decision about the ones there are
    // (a connection keeps the --max-output it was accepted with).
    void applyLive(const Config &config);
    const Config &config() const override { return m_config; }
    // wss:// from the next connection on; nullptr for plain ws://.
    void setTlsContext(const TlsContext *tls) { m_tls = tls; }
    bool isSecure() const { return m_tls != nullptr; }
    // Signed uid tokens as first message instead of a plain uid; nullptr: off.
    void setTokenVerifier(const TokenVerifier *verifier) { m_verifier = verifier; }
    bool listen(QString *error);
    void stopListening();
    bool isListening() const { return m_listener.isListening(); }
    quint16 port() const { return m_listener.port(); }
    QString addressString() const { return m_listener.addressString(); }

    int connectionCount() const { return int(m_connections.size()); }
    // Threads in use (--threads resolved), the main thread included: known
    // from listen() on.
    int threadCount() const;
    const SocketThreads *socketThreads() const { return m_threads.get(); }
    SocketThreads *socketThreads() { return m_threads.get(); }
    // --threads 0: PUSHCONSOLE_THREADS when it holds a count, else the
    // cores this process may run on.
    static int resolveThreads(int configured);
    // Connections from trusted proxies still waiting for their PROXY header.
    int proxyHeadersPending() const { return m_intake.size(); }
    // Closes every connection of uid; returns how many there were.
    int kick(const QByteArray &uid, const QString &reason);
    // Shutdown: no more pushes for anyone; each client still gets what is
    // queued for it, then the close handshake. Whoever is left after
    // drainMs is aborted (what it did not get is logged and counted as
    // shutdown). allClosed() follows.
    void closeAll(quint16 code, const QByteArray &reason, qint64 drainMs = 0);

    Heartbeat &heartbeat() { return m_heartbeat; }

Q_SIGNALS:
    void allClosed();

private:
    void applyDerived();
    void accepted(int fd, const PeerAddress &peer);
    void proxyHeaderRead(int fd, const PeerAddress &proxy, ProxyIntake::Outcome outcome,
        const ProxyHeader &header, const char *reason);
    void open(int fd, const PeerAddress &peer, bool countPerIp);
    // Before the 101: resolves the client behind a trusted proxy and counts
    // it; false when that client is over --max-conns-per-ip.
    bool admitHandshake(WsConnection *c, const WsHandshake &handshake) override;
    void connectionOpened(WsConnection *c, const WsHandshake &handshake) override;
    void connectionActive(WsConnection *c) override;
    void messageReceived(WsConnection *c, quint8 opcode, QByteArrayView data) override;
    void connectionClosing(WsConnection *c) override;
    void connectionAborting(WsConnection *c) override;
    void connectionFinished(WsConnection *c, const QString &reason, int code) override;
    void handshakeRefused(WsConnection *c, const QString &reason) override;
    void protocolError(WsConnection *c, const QString &reason) override;
    void evictIdle(WsConnection *c, qint64 idleMs) override;
    void bindTimedOut(WsConnection *c) override;
    void drainTimedOut();
    void bind(WsConnection *c, QByteArrayView message);
    // With tokens: room for c under uid, made by closing the oldest
    // connection of c's own token if needed; false when there is none to
    // close and the uid is full.
    bool makeRoomForToken(WsConnection *c, const QByteArray &uid);
    void slowConsumer(WsConnection *c) override;
    // At accept; checkAddress false for a trusted proxy, whose client is
    // not known yet.
    bool admit(const PeerAddress &peer, bool checkAddress);
    bool admitAddress(const PeerAddress &client);
    bool isExempt(const PeerAddress &peer) const;
    bool isTrustedProxy(const PeerAddress &peer) const;
    void countPerIp(WsConnection *c);
    void warnForwardedFor(const WsConnection *c, const char *error);
    void checkAllClosed();

    Config m_config;
    SessionRegistry *m_registry;
    EventLog *m_log;
    Metrics *m_metrics;
    Listener m_listener;
    Heartbeat m_heartbeat;
    RefusalReporter m_refusals;
    ProxyIntake m_intake;
    RefusalReporter m_evictions; // unbound connections evicted for new ones
    QTimer m_drainDeadline;
    const TlsContext *m_tls = nullptr;
    const TokenVerifier *m_verifier = nullptr;
    std::unique_ptr<SocketThreads> m_threads; // none with --threads 1
    QSet<WsConnection *> m_connections;
    QHash<PeerAddress::Host, int> m_perIp;
    int m_maxConnections = 0; // resolved at listen()
    quint64 m_nextId = 1;
    qint64 m_forwardedForWarnedAt = 0; // monotonic ms: one warning a second at most
    bool m_closingAll = false;
    bool m_allClosedSignalled = false;
    // What the shutdown did, for its last log line.
    int m_drainClients = 0;
    int m_drainAborted = 0;
    qint64 m_drainLost = 0;
};
