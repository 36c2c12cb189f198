#pragma once

#include "AdminStreamParser.h"
#include "AttachTarget.h"
#include "GatewaySource.h"

#include <QAbstractSocket>
#include <QHash>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QTimer>

class HandshakeProbe;
class QNetworkReply;
class QWebSocket;

// A gateway on another machine, seen through the console's one interface:
// the admin stream (GET /api/events, docs/admin-stream.md) keeps a mirror
// that every read answers from, and the HTTP API does the actions. The link
// is Resyncing until the first snapshot is complete, Connected after it,
// Lost when the stream drops; then it reconnects after a growing, jittered
// delay and takes a fresh snapshot (presenceReset()). A wrong key, an
// incompatible gateway or a TLS failure stop the retries: they will not
// heal by themselves. It cannot control the listeners or edit settings.
class RemoteGatewaySource final : public GatewaySource
{
    Q_OBJECT
public:
    // Why the link is not up, each with its own message.
    enum class Failure { None, Unauthorized, Unreachable, Tls, Incompatible, Busy, Protocol, Lost };
    Q_ENUM(Failure)

    static constexpr const char *Subprotocol = "pushconsole.admin.v1";

    explicit RemoteGatewaySource(const AttachTarget &target, QObject *parent = nullptr);
    ~RemoteGatewaySource() override;

    // Opens the stream; call once the signals are connected.
    void open();
    const AttachTarget &target() const { return m_target; }
    Failure failure() const { return m_failure; }
    // The last failure in one translated sentence; empty while connected.
    QString linkError() const override { return m_error; }
    QString nodeName() const override { return m_gateway.node; }

    LinkState linkState() const override { return m_link; }
    QString location() const override { return m_target.display(); }
    QString version() const override { return m_gateway.version; }
    bool isListening() const override { return m_gateway.listening; }
    QDateTime startedAt() const override { return m_gateway.startedAt; }
    QString wsAddress() const override { return m_gateway.ws; }
    QString textAddress() const override { return m_gateway.text; }
    QString httpAddress() const override { return m_gateway.http; }
    ClusterState cluster() const override;
    OfflineState offline() const override { return m_gateway.offline; }

    QList<QByteArray> onlineUids() const override { return m_presence.keys(); }
    PresenceEntry presence(const QByteArray &uid) const override;
    void requestSessions(const QByteArray &uid, QObject *context, SessionsHandler done) override;

    QList<Event> recentEvents() const override { return m_recent; }
    int eventCapacity() const override { return m_capacity; }
    CounterSample counters() const override { return m_counters; }

    void push(const QByteArray &line, QObject *context, PushHandler done) override;
    void kick(const QByteArray &uid, QObject *context, KickHandler done) override;
    // The gateway routes DELETE /api/uids/{uid} to every node holding it.
    bool kicksAcrossCluster() const override { return true; }

    bool canControlListeners() const override { return false; }
    bool canEditSettings() const override { return false; }
    bool startListeners(QString *error) override;
    void stopListeners() override { }

    // Tuning, for tests: the first and the largest reconnect delay, and how
    // long a silent stream (no counters, which come every second) is
    // trusted before it counts as lost.
    void setReconnectDelays(int firstMs, int maxMs);
    void setStallTimeout(int ms) { m_stall.setInterval(ms); }
    // How long an upgrade may go unanswered before its status is read on
    // a second connection (see onSlowHandshake()).
    void setSlowHandshake(int ms) { m_slowHandshake.setInterval(ms); }
    int reconnects() const { return m_reconnects; }
    // Messages that could not be read, since the start.
    int protocolErrors() const { return m_protocolErrors; }

    // Bounds on the mirror: no gateway makes the console hold more.
    static constexpr int MaxUids = 2000000;
    static constexpr int MaxEventCapacity = 100000;
    static constexpr qint64 MaxFrameBytes = 64 * 1024 * 1024;
    static constexpr qint64 MaxReplyBytes = 4 * 1024 * 1024;

Q_SIGNALS:
    // A snapshot is complete (each "ready"): for tests and the status bar.
    void synced();

private:
    void connectStream();
    void onConnected();
    void onDisconnected();
    void onMessage(const QString &text);
    void handle(const AdminMessage &m);
    void applyState(const AdminGatewayState &s, bool hello);
    void applyPresence(const QList<PresenceEntry> &entries, bool live);
    void deliver(QList<Event> events);
    QList<Event> unseen(const QList<Event> &snapshot) const;
    void setLink(LinkState state);
    void fail(Failure failure, const QString &message, bool retry);
    void scheduleReconnect();
    void refused(int httpStatus);
    void probe(std::function<void(int httpStatus)> done);
    void onSlowHandshake();
    QString describeSocketError(QAbstractSocket::SocketError code, const QString &text) const;

    QNetworkReply *send(const QByteArray &verb, const QString &path, const QByteArray &body);
    // Runs handle(reply status, body, error) once the reply is complete,
    // unless context is gone.
    void whenDone(QNetworkReply *reply, QObject *context,
        std::function<void(int status, const QByteArray &body, const QString &error)> handle);

    AttachTarget m_target;
    QNetworkAccessManager m_http;
    QWebSocket *m_socket = nullptr;
    QTimer m_reconnect;
    QTimer m_stall;
    QTimer m_handshake;
    QTimer m_slowHandshake;
    int m_firstDelayMs = 500;
    int m_maxDelayMs = 30000;
    int m_attempt = 0;
    int m_reconnects = 0;
    int m_protocolErrors = 0;
    QStringList m_sslErrors;
    HandshakeProbe *m_probe = nullptr;
    bool m_open = false; // the handshake succeeded on m_socket
    bool m_greeted = false; // and a hello came

    LinkState m_link = LinkState::Resyncing;
    Failure m_failure = Failure::None;
    QString m_error;

    AdminGatewayState m_gateway;
    int m_capacity = 10000;
    QHash<QByteArray, PresenceEntry> m_presence;
    // A presence reset in progress: the table that replaces m_presence at
    // the next "ready".
    QHash<QByteArray, PresenceEntry> m_incoming;
    bool m_resetting = false;
    // Between hello and ready: the snapshot's events wait, so that what
    // the console already shows is not shown twice.
    bool m_snapshotting = false;
    QList<Event> m_snapshotEvents;
    QList<Event> m_recent;
    CounterSample m_counters;
};
