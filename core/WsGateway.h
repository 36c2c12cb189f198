#pragma once

#include "Heartbeat.h"
#include "Listener.h"
#include "RefusalReporter.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

struct Config;
struct Metrics;
struct WsHandshake;
class EventLog;
class TlsContext;
class TokenVerifier;
class SessionRegistry;
class WsConnection;

// The WebSocket side: accepts connections, binds each to the uid its first
// message names, keeps the registry and the heartbeat up to date, and
// reports every step to the event log.
class WsGateway final : public QObject
{
    Q_OBJECT
public:
    WsGateway(const Config &config, SessionRegistry *registry, EventLog *log, Metrics *metrics,
        QObject *parent = nullptr);
    ~WsGateway() override;

    const Config &config() const { return m_config; }
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
    friend class WsConnection;
    friend class Heartbeat;

    void accepted(int fd, const PeerAddress &peer);
    void connectionOpened(WsConnection *c, const WsHandshake &handshake);
    void connectionActive(WsConnection *c);
    void messageReceived(WsConnection *c, quint8 opcode, QByteArrayView data);
    void connectionClosing(WsConnection *c);
    void connectionFinished(WsConnection *c, const QString &reason, int code);
    void handshakeRefused(WsConnection *c, const QString &reason);
    void protocolError(WsConnection *c, const QString &reason);
    void evictIdle(WsConnection *c, qint64 idleMs);
    void bindTimedOut(WsConnection *c);
    void drainTimedOut();
    void bind(WsConnection *c, QByteArrayView message);
    void slowConsumer(WsConnection *c);
    bool admit(const PeerAddress &peer);
    bool isExempt(const PeerAddress &peer) const;
    void checkAllClosed();

    const Config &m_config;
    SessionRegistry *m_registry;
    EventLog *m_log;
    Metrics *m_metrics;
    Listener m_listener;
    Heartbeat m_heartbeat;
    RefusalReporter m_refusals;
    RefusalReporter m_evictions; // unbound connections evicted for new ones
    QTimer m_drainDeadline;
    const TlsContext *m_tls = nullptr;
    const TokenVerifier *m_verifier = nullptr;
    QSet<WsConnection *> m_connections;
    QHash<PeerAddress::Host, int> m_perIp;
    int m_maxConnections = 0; // resolved at listen()
    quint64 m_nextId = 1;
    bool m_closingAll = false;
    bool m_allClosedSignalled = false;
    // What the shutdown did, for its last log line.
    int m_drainClients = 0;
    int m_drainAborted = 0;
    qint64 m_drainLost = 0;
};
