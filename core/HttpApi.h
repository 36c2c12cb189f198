#pragma once

#include "HttpServer.h"
#include "RefusalReporter.h"

#include <QByteArray>
#include <QObject>

#include <memory>

struct Metrics;
class PushServer;
class HttpResponder;
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
    // metrics: the server's, where refused connections are counted.
    HttpApi(PushServer *server, Metrics *metrics, QObject *parent = nullptr);
    ~HttpApi() override;

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

    bool readApiKey(QString *error);
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

    PushServer *m_server;
    std::unique_ptr<HttpServer> m_http;
    RefusalReporter m_refusals;
    QByteArray m_keyDigest; // SHA-256 of the API key; empty: no key needed
    QByteArray m_pageTemplate;
    QByteArray m_clientScript; // clients/js/pushconsole-client.js
};
