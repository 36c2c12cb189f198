#pragma once

#include "Config.h"
#include "HttpServer.h"
#include "RefusalReporter.h"

#include <QByteArray>
#include <QDateTime>
#include <QObject>

#include <functional>
#include <memory>

struct Metrics;
class EventLog;
class HttpResponder;
class PushRouter;
class SessionRegistry;
struct HttpResponse;
struct PushResult;

// The HTTP side of the gateway: pushes (through the same PushRouter as the
// text port), who is online, disconnects, health, Prometheus metrics and,
// when asked for, the browser test page. It decides who may ask (Host,
// Origin, API key, Content-Type); HttpServer carries the bytes. Owned by
// PushServer.
class HttpApi final : public QObject, private HttpServer::Handler
{
    Q_OBJECT
public:
    // What the API reads and drives, and nothing more.
    struct Context
    {
        PushRouter *router = nullptr;
        const SessionRegistry *registry = nullptr;
        EventLog *log = nullptr;
        Metrics *metrics = nullptr; // refused connections are counted here
        // Closes every connection of a uid (DELETE /api/uids/{uid}), here
        // and on the other nodes holding it; done runs once (perhaps later,
        // when Redis answered) with how many it closed here and how many
        // other nodes received the request.
        using KickDone = std::function<void(int closed, int nodes)>;
        std::function<void(const QByteArray &uid, KickDone done)> kick;
        // GET /api/events once the request passed every check of the API
        // (Host, Origin, key): answers it, or takes the socket over
        // (HttpResponder::takeOver). Unset: 404.
        std::function<void(
            const HttpRequest &request, const HttpResponder &responder, const QString &peer)>
            adminStream;
        std::function<QDateTime()> startedAt; // of the listeners, for /healthz
        std::function<quint16()> wsPort; // written into the test page
        // The body of GET /metrics: the server layer knows every part.
        std::function<QByteArray()> metricsText;
    };

    HttpApi(const Config &config, const Context &context, QObject *parent = nullptr);
    ~HttpApi() override;

    // A copy: a change applies from the next listen() on.
    void setConfig(const Config &config) { m_config = config; }
    // A reload, in two steps so that nothing changes when anything fails:
    // checkLive() reads the API key file; applyLive() then takes the new
    // key, checks and limits (the address and port need a restart), and
    // says whether the key changed.
    bool checkLive(const Config &config, QString *error) const;
    bool applyLive(const Config &config);

    // Reads the API key file (when one is configured) and opens the port;
    // port -1 opens nothing and succeeds. On failure error says why.
    bool listen(QString *error);
    void stopListening();
    // Every connection: the requests read are answered, then it closes.
    void closeAll();
    bool isListening() const;
    quint16 port() const;
    QString addressString() const; // "HOST:PORT"
    HttpServer *httpServer() const { return m_http.get(); }

    // The body of GET /metrics.
    QByteArray metricsText() const;

    // Whether a request for `authority` (a Host field) may be served:
    // IP literals and localhost always, other names only when listed in
    // `names` (lower case; "*" admits any). Invalid syntax is Invalid.
    enum class HostCheck : quint8 { Allowed, Invalid, Unknown };
    static HostCheck checkHost(QByteArrayView authority, const QStringList &names);

private:
    struct Exchange;

    void handleRequest(
        HttpRequest &request, const HttpResponder &responder, const QString &peer) override;
    void requestRefused(int status, const QString &peer, const QString &reason) override;

    static HttpServer::Limits limitsOf(const Config &config);
    // The SHA-256 of the key in path (nothing for an empty path).
    static bool readApiKey(const QString &path, QByteArray *digest, QString *error);
    bool authorized(const HttpRequest &request) const;
    void unauthorized(const HttpRequest &request, const Exchange &x, const QByteArray &path);

    void page(const Exchange &x);
    void clientScript(const Exchange &x);
    void health(const Exchange &x);
    void push(HttpRequest &request, const Exchange &x);
    void online(const HttpRequest &request, const Exchange &x);
    void uidInfo(const QByteArray &uid, const Exchange &x);
    void disconnectUid(const QByteArray &uid, const Exchange &x);
    void preflight(const QByteArray &allowed, const Exchange &x);

    static HttpResponse pushAnswer(const PushResult &result, const QByteArray &corsOrigin);
    void logRefusal(const QString &peer, const QString &reason);

    Config m_config;
    Context m_context;
    std::unique_ptr<HttpServer> m_http;
    RefusalReporter m_refusals;
    QByteArray m_keyDigest; // SHA-256 of the API key; empty: no key needed
    QByteArray m_pageTemplate;
    QByteArray m_clientScript; // clients/js/pushconsole-client.js
};
