#pragma once

#include "Config.h"
#include "EventLog.h"
#include "HttpApi.h"
#include "Metrics.h"
#include "PushRouter.h"
#include "SessionRegistry.h"

#include <QDateTime>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>

class AdminHub;
class ClusterLink;
class OfflineStore;
class TextPushServer;
class TlsContext;
class TokenVerifier;
class WsGateway;

// The whole gateway behind one object: what the headless main, the console
// and the tests create. It owns the parts and wires them together.
class PushServer final : public QObject
{
    Q_OBJECT
public:
    explicit PushServer(const Config &config, QObject *parent = nullptr);
    ~PushServer() override;

    // Opens the listeners (WebSocket, push port, HTTP API unless its port is
    // -1); on failure none stays open and error says why.
    bool start(QString *error);
    // Closes the listeners; connected clients stay.
    void stopListening();
    bool isListening() const;
    // Closes the listeners, stops reading pushes, lets every WebSocket
    // client that reads receive what was queued for it, then closes it
    // (code 1001); whoever is left after --shutdown-timeout is aborted and
    // what it did not get is logged and counted. shutdownFinished() follows
    // once all clients, push connections included, are gone.
    void shutdown();

    // Takes effect at the next start(); connected clients are kept.
    void setConfig(const Config &config);

    // What a reload did: the options applied now, those that differ but
    // need a restart (kept as they run), files read again whose content
    // changed (a renewed certificate, a rotated key). ok false: a file could
    // not be read (error says which) and nothing changed at all.
    struct ReloadResult
    {
        bool ok = false;
        QString error;
        QStringList applied;
        QStringList needRestart;
        QStringList reloaded;
        QStringList warnings;
    };
    // SIGHUP: applies the options of next that can change while running
    // (limits, timeouts, checks, keys, the certificate, the log level; see
    // Option::live()) to the running server, for new connections and every
    // later decision; connected clients stay.
    ReloadResult reload(const Config &next);
    // The same, reading the options again from the command line it was
    // started with (and so from its --config file). Logged either way.
    ReloadResult reloadFrom(const QStringList &arguments);
    const Config &config() const { return m_config; }

    SessionRegistry *registry() { return &m_registry; }
    PushRouter *router() { return &m_router; }
    EventLog *eventLog() { return &m_log; }
    const Metrics &metrics() const { return m_metrics; }
    WsGateway *gateway() const { return m_gateway.get(); }
    TextPushServer *textServer() const { return m_text.get(); }
    HttpApi *httpApi() const { return m_http.get(); }
    AdminHub *adminHub() const { return m_admin.get(); }
    // Cluster mode (--redis) and offline delivery (--offline-ttl): nullptr
    // when off. Both exist from the first successful start() on.
    ClusterLink *cluster() const { return m_cluster.get(); }
    OfflineStore *offlineStore() const { return m_offline.get(); }

    quint16 wsPort() const;
    quint16 textPort() const;
    QString wsAddress() const;
    QString textAddress() const;
    quint16 httpPort() const; // 0 when the HTTP API is off
    QString httpAddress() const; // "HOST:PORT", or "off"
    QDateTime startedAt() const { return m_startedAt; }

    int kick(const QByteArray &uid);
    // The HTTP API's kick: here, and in a cluster on every other node that
    // holds the uid (through Redis); done gets both counts.
    void kickEverywhere(const QByteArray &uid, std::function<void(int closed, int nodes)> done);

Q_SIGNALS:
    void listeningChanged(bool listening);
    void shutdownFinished();

private:
    // Reads the TLS certificate and key and the token key named in config;
    // both outputs untouched when one cannot be read.
    static bool loadSecurity(const Config &config, std::unique_ptr<TlsContext> *tls,
        std::unique_ptr<TokenVerifier> *verifier, QStringList *warnings, QString *error);
    HttpApi::Context httpContext();
    void logReload(const ReloadResult &result);
    bool startExtensions(QString *error);
    void finishShutdown();

    Config m_config;
    EventLog m_log;
    Metrics m_metrics;
    SessionRegistry m_registry;
    PushRouter m_router;
    std::unique_ptr<TlsContext> m_tls; // before the gateway, which points to it
    std::unique_ptr<TokenVerifier> m_verifier; // likewise
    std::unique_ptr<WsGateway> m_gateway;
    std::unique_ptr<TextPushServer> m_text;
    std::unique_ptr<HttpApi> m_http;
    std::unique_ptr<AdminHub> m_admin;
    std::unique_ptr<ClusterLink> m_cluster;
    std::unique_ptr<OfflineStore> m_offline;
    QDateTime m_startedAt;
    bool m_shuttingDown = false;
    bool m_wsClosed = false;
    bool m_textClosed = false;
    bool m_adminClosed = false;
};
