#pragma once

#include <QByteArray>
#include <QMap>
#include <QObject>

#include <initializer_list>
#include <memory>
#include <utility>

class HttpListener;
class PushServer;
class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponder;
class QJsonObject;

// The HTTP side of the gateway, on Qt's QHttpServer: pushes (through the
// same PushRouter as the text port), who is online, disconnects, health,
// Prometheus metrics and the browser test page. Owned by PushServer.
class HttpApi final : public QObject
{
    Q_OBJECT
public:
    explicit HttpApi(PushServer *server, QObject *parent = nullptr);
    ~HttpApi() override;

    // Reads the API key file (when one is configured) and opens the port;
    // port -1 opens nothing and succeeds. On failure error says why.
    bool listen(QString *error);
    void stopListening();
    bool isListening() const;
    quint16 port() const;
    QString addressString() const; // "HOST:PORT"

    // The body of GET /metrics.
    QByteArray metricsText() const;

private:
    using Headers = std::initializer_list<std::pair<QByteArray, QByteArray>>;

    void addRoutes();
    bool readApiKey(QString *error);
    bool authorized(const QHttpServerRequest &request) const;
    // Answers 401 when the request lacks the key; returns whether it may go on.
    bool checkKey(const QHttpServerRequest &request, QHttpServerResponder &responder);

    void page(QHttpServerResponder &responder);
    void health(QHttpServerResponder &responder);
    void push(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void online(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void uidInfo(const QString &uid, QHttpServerResponder &responder);
    void disconnectUid(const QString &uid, QHttpServerResponder &responder);
    void missing(const QHttpServerRequest &request, QHttpServerResponder &responder);

    void reply(QHttpServerResponder &responder, int status, const QByteArray &contentType,
        const QByteArray &body, Headers extra = {});
    void replyJson(
        QHttpServerResponder &responder, int status, const QJsonObject &object, Headers extra = {});
    void replyError(
        QHttpServerResponder &responder, int status, const QString &message, Headers extra = {});
    void logRefusal(const QString &peer, const QString &reason);

    PushServer *m_server;
    std::unique_ptr<QHttpServer> m_http;
    HttpListener *m_listener = nullptr; // a child of m_http once bound
    QByteArray m_keyDigest; // SHA-256 of the API key; empty: no key needed
    QByteArray m_pageTemplate;
    QMap<int, quint64> m_responses; // answers sent, by status code
};
