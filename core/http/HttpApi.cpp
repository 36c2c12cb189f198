#include "HttpApi.h"

#include "EventLog.h"
#include "Events.h"
#include "HttpRequest.h"
#include "HttpResponder.h"
#include "HttpResponse.h"
#include "Logging.h"
#include "Metrics.h"
#include "PrometheusExporter.h"
#include "PushRouter.h"
#include "SessionRegistry.h"
#include "Uid.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrlQuery>

#include <algorithm>
#include <limits>

// At file scope: Q_INIT_RESOURCE cannot stand inside a namespace or class.
static void initWebResources()
{
    // The page lives in the core's static library; without a reference the
    // linker would drop it.
    Q_INIT_RESOURCE(web);
}

namespace {

constexpr char JsonType[] = "application/json";
constexpr int DefaultPageSize = 100;
constexpr int MaxPageSize = 1000;
// What of a client's Host or Origin goes to the log.
constexpr qsizetype MaxLoggedValue = 100;

// The page is a file that also works on its own; served here, its default
// WebSocket port becomes the one this gateway really listens on.
constexpr char PagePortMarker[] = "<meta name=\"pushconsole-ws-port\" content=\"8013\">";

QString isoTime(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
}

QString logged(QByteArrayView value)
{
    return QString::fromLatin1(value.first(qMin(value.size(), MaxLoggedValue)));
}

bool isApiPath(const QByteArray &path)
{
    return path == "/api" || path.startsWith("/api/");
}

// The uid of "/api/uids/{uid}" (decoded path), or a null array.
QByteArray uidOfPath(const QByteArray &path)
{
    const QByteArrayView prefix("/api/uids/");
    if (!path.startsWith(prefix) || path.size() == prefix.size()
        || path.indexOf('/', prefix.size()) >= 0)
        return {};
    return path.sliced(prefix.size());
}

// Query parameter as a whole number in [minimum, maximum]; fallback when absent.
bool queryNumber(
    const QUrlQuery &query, const QString &key, int fallback, int minimum, int maximum, int *out)
{
    if (!query.hasQueryItem(key)) {
        *out = fallback;
        return true;
    }
    bool ok = false;
    const int n = query.queryItemValue(key).toInt(&ok);
    if (!ok || n < minimum || n > maximum)
        return false;
    *out = n;
    return true;
}

bool isRegNameChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_' || c == '~';
}

bool isIPv4Literal(QByteArrayView host)
{
    int parts = 0;
    qsizetype start = 0;
    for (qsizetype i = 0; i <= host.size(); ++i) {
        if (i < host.size() && host[i] != '.') {
            if (host[i] < '0' || host[i] > '9' || i - start >= 3)
                return false;
            continue;
        }
        if (i == start)
            return false;
        if (host.sliced(start, i - start).toInt() > 255)
            return false;
        ++parts;
        start = i + 1;
    }
    return parts == 4;
}

// "application/json", whatever the case, with parameters (charset) or not.
bool isJsonType(QByteArrayView contentType)
{
    qsizetype end = contentType.indexOf(';');
    if (end < 0)
        end = contentType.size();
    return contentType.first(end).trimmed().compare("application/json", Qt::CaseInsensitive) == 0;
}

} // namespace

// What every answer to one request needs.
struct HttpApi::Exchange
{
    const HttpResponder &responder;
    const QString &peer;
    QByteArray corsOrigin; // an allowed Origin the answer names; empty: none
    bool head = false;
    bool authorized = false; // the API key was given (or none is needed)

    void send(HttpResponse response) const
    {
        if (!corsOrigin.isEmpty()) {
            response.addHeader(QByteArrayLiteral("Access-Control-Allow-Origin"), corsOrigin);
            response.addHeader(QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin"));
        }
        responder.send(response);
    }
    void reply(int status, const QByteArray &contentType, const QByteArray &body,
        std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {}) const
    {
        HttpResponse r = HttpResponse::make(status, contentType, body);
        for (const auto &h : extra)
            r.addHeader(h.first, h.second);
        send(std::move(r));
    }
    void json(int status, const QJsonObject &object,
        std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {}) const
    {
        reply(status, JsonType, QJsonDocument(object).toJson(QJsonDocument::Compact), extra);
    }
    void error(int status, const QString &message,
        std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {}) const
    {
        json(status, {{QStringLiteral("error"), message}}, extra);
    }
};

HttpApi::HttpApi(const Config &config, const Context &context, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_context(context)
    , m_http(std::make_unique<HttpServer>(
          static_cast<HttpServer::Handler *>(this), context.metrics, context.log))
    , m_refusals(context.log)
{
    initWebResources();
    QFile page(QStringLiteral(":/pushconsole/client.html"));
    if (page.open(QIODevice::ReadOnly))
        m_pageTemplate = page.readAll();
    else
        qCWarning(lcHttp) << "test page missing from the resources";
    QFile script(QStringLiteral(":/pushconsole/client.js"));
    if (script.open(QIODevice::ReadOnly))
        m_clientScript = script.readAll();
    else
        qCWarning(lcHttp) << "browser client missing from the resources";
}

HttpApi::~HttpApi() = default;

bool HttpApi::listen(QString *error)
{
    const Config &config = m_config;
    if (config.httpPort < 0)
        return true;
    QByteArray digest;
    if (!readApiKey(config.httpApiKeyFile, &digest, error))
        return false;
    m_keyDigest = digest;
    m_http->setLimits(limitsOf(config));
    QString why;
    if (!m_http->listen(config.httpBind, quint16(config.httpPort), &why)) {
        *error = tr("cannot listen for HTTP requests on %1:%2: %3")
                     .arg(config.httpBind.toString())
                     .arg(config.httpPort)
                     .arg(why);
        return false;
    }
    return true;
}

void HttpApi::stopListening()
{
    m_http->close();
}

void HttpApi::closeAll()
{
    m_http->closeAll();
}

bool HttpApi::isListening() const
{
    return m_http->isListening();
}

quint16 HttpApi::port() const
{
    return isListening() ? m_http->port() : 0;
}

QString HttpApi::addressString() const
{
    return isListening() ? m_http->addressString() : QStringLiteral("off");
}

HttpServer::Limits HttpApi::limitsOf(const Config &config)
{
    HttpServer::Limits limits;
    limits.maxBody = config.maxLine;
    limits.maxConnections = config.maxHttpConnections;
    limits.maxOutput = config.httpMaxOutput;
    limits.maxInFlight = config.httpMaxInFlight;
    limits.requestTimeoutMs = config.httpRequestTimeoutMs;
    limits.idleTimeoutMs = config.httpIdleTimeoutMs;
    limits.lingerMs = config.closeTimeoutMs;
    return limits;
}

bool HttpApi::checkLive(const Config &config, QString *error) const
{
    QByteArray digest;
    return config.httpPort < 0 || readApiKey(config.httpApiKeyFile, &digest, error);
}

bool HttpApi::applyLive(const Config &config)
{
    // checkLive() read the key file a moment ago; should it have changed
    // since in a way that makes it unreadable, the old key stays.
    QByteArray digest;
    QString ignored;
    bool changed = false;
    if (config.httpPort >= 0 && readApiKey(config.httpApiKeyFile, &digest, &ignored)) {
        changed = digest != m_keyDigest;
        m_keyDigest = digest;
    }
    m_config = config;
    m_http->setLimits(limitsOf(config));
    return changed;
}

bool HttpApi::readApiKey(const QString &path, QByteArray *digest, QString *error)
{
    digest->clear();
    if (path.isEmpty())
        return true;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = tr("cannot read the HTTP API key file \"%1\": %2").arg(path, file.errorString());
        return false;
    }
    // A key is a line, not a document: anything longer is a wrong file.
    constexpr qint64 MaxKeyFile = 4096;
    const QByteArray key = file.read(MaxKeyFile + 1).trimmed();
    if (file.size() > MaxKeyFile) {
        *error = tr("the HTTP API key file \"%1\" is larger than 4 KiB").arg(path);
        return false;
    }
    if (key.isEmpty()) {
        *error = tr("the HTTP API key file \"%1\" is empty").arg(path);
        return false;
    }
    for (char c : key) {
        if (uchar(c) <= ' ' || uchar(c) >= 0x7f) {
            *error = tr("the HTTP API key file \"%1\" must hold one key of printable ASCII "
                        "characters without spaces")
                         .arg(path);
            return false;
        }
    }
    *digest = QCryptographicHash::hash(key, QCryptographicHash::Sha256);
    return true;
}

bool HttpApi::authorized(const HttpRequest &request) const
{
    if (m_keyDigest.isEmpty())
        return true;
    const QByteArrayView header = request.header("authorization");
    const qsizetype space = header.indexOf(' ');
    if (space <= 0 || header.first(space).compare("Bearer", Qt::CaseInsensitive) != 0)
        return false;
    const QByteArrayView key = header.sliced(space + 1).trimmed();
    // Comparing digests of equal length, every byte, in the same time
    // whatever matches: the time taken tells nothing about the key.
    const QByteArray digest = QCryptographicHash::hash(key, QCryptographicHash::Sha256);
    uchar difference = 0;
    for (qsizetype i = 0; i < digest.size(); ++i)
        difference |= uchar(digest[i] ^ m_keyDigest[i]);
    return difference == 0;
}

void HttpApi::unauthorized(const HttpRequest &request, const Exchange &x, const QByteArray &path)
{
    logRefusal(x.peer,
        QStringLiteral("missing or wrong API key (%1 %2)")
            .arg(QString::fromLatin1(request.method()), QString::fromUtf8(path)));
    x.error(401, QStringLiteral("missing or wrong API key"),
        {{QByteArrayLiteral("WWW-Authenticate"),
            QByteArrayLiteral("Bearer realm=\"pushconsole\"")}});
}

HttpApi::HostCheck HttpApi::checkHost(QByteArrayView authority, const QStringList &names)
{
    // authority = host [ ":" port ] (RFC 9110 §7.2)
    if (authority.isEmpty())
        return HostCheck::Invalid;
    QByteArrayView host;
    QByteArrayView port;
    if (authority.front() == '[') {
        const qsizetype close = authority.indexOf(']');
        if (close < 0)
            return HostCheck::Invalid;
        host = authority.sliced(1, close - 1);
        const QByteArrayView rest = authority.sliced(close + 1);
        if (!rest.isEmpty() && rest.front() != ':')
            return HostCheck::Invalid;
        port = rest.isEmpty() ? rest : rest.sliced(1);
        QHostAddress address;
        if (host.isEmpty() || !address.setAddress(QString::fromLatin1(host))
            || address.protocol() != QAbstractSocket::IPv6Protocol)
            return HostCheck::Invalid;
    } else {
        const qsizetype colon = authority.lastIndexOf(':');
        host = colon < 0 ? authority : authority.first(colon);
        port = colon < 0 ? QByteArrayView() : authority.sliced(colon + 1);
        if (host.isEmpty())
            return HostCheck::Invalid;
        for (char c : host) {
            if (!isRegNameChar(c))
                return HostCheck::Invalid;
        }
    }
    if (port.size() > 5)
        return HostCheck::Invalid;
    for (char c : port) {
        if (c < '0' || c > '9')
            return HostCheck::Invalid;
    }
    // A rebinding attack sends its own name: an address the client typed
    // never is one.
    if (authority.front() == '[' || isIPv4Literal(host))
        return HostCheck::Allowed;
    QString name = QString::fromLatin1(host).toLower();
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    if (name == QLatin1String("localhost") || names.contains(name)
        || names.contains(QStringLiteral("*")))
        return HostCheck::Allowed;
    return HostCheck::Unknown;
}

void HttpApi::handleRequest(
    HttpRequest &request, const HttpResponder &responder, const QString &peer)
{
    const Config &config = m_config;
    Exchange x {responder, peer, QByteArray(), false, false};
    x.head = request.isHead();

    // DNS rebinding: a page of evil.example whose name now points here
    // sends "Host: evil.example". An HTTP/1.0 client may send no Host.
    const QByteArrayView authority = request.authority();
    if (!authority.isNull() || request.minorVersion() == 1) {
        const HostCheck host = checkHost(authority, config.httpHosts);
        if (host == HostCheck::Invalid) {
            logRefusal(peer, QStringLiteral("invalid Host \"%1\"").arg(logged(authority)));
            x.error(400, QStringLiteral("invalid Host header"));
            return;
        }
        if (host == HostCheck::Unknown) {
            logRefusal(peer,
                QStringLiteral("Host \"%1\" not allowed (see --http-host)").arg(logged(authority)));
            x.error(421,
                QStringLiteral("unknown host: only IP addresses, localhost and the names given "
                               "with --http-host are served"));
            return;
        }
    }
    // The browser client (clients/js) is a static file with no effect:
    // any page may import it (module scripts are fetched with CORS, so the
    // browser sends an Origin).
    if (request.path() == "/client.js" && (request.method() == "GET" || x.head)) {
        clientScript(x);
        return;
    }
    // A web page can make a browser send requests here (a form, fetch()
    // without CORS); the browser then says whose page it is. No web page
    // may push unless the operator allowed its origin.
    const int origins = request.headerCount("origin");
    if (origins > 0) {
        const QByteArray origin = request.header("origin").toByteArray();
        if (origins > 1
            || !config.httpAllowOrigins.contains(QString::fromLatin1(origin).toLower())) {
            logRefusal(peer,
                QStringLiteral("request from origin \"%1\" refused (see --http-allow-origin)")
                    .arg(logged(origin)));
            x.error(403, QStringLiteral("cross-origin request refused"));
            return;
        }
        x.corsOrigin = origin;
    }

    const QByteArray path = QByteArray::fromPercentEncoding(request.path().toByteArray());
    const QByteArrayView method = request.method();
    const QByteArray uid = uidOfPath(path);
    QByteArray allowed;
    if ((path == "/" && config.httpTestPage) || path == "/client.js" || path == "/healthz"
        || path == "/metrics" || path == "/api/online"
        || (path == "/api/events" && m_context.adminStream))
        allowed = QByteArrayLiteral("GET");
    else if (path == "/api/push")
        allowed = QByteArrayLiteral("POST");
    else if (!uid.isNull())
        allowed = QByteArrayLiteral("GET, DELETE");

    // Under /api/ the key comes first: without it nothing tells which
    // paths exist. A preflight never carries the key.
    const bool isApi = isApiPath(path);
    const bool preflight = method == "OPTIONS" && !x.corsOrigin.isEmpty() && !allowed.isEmpty();
    const bool keyed = authorized(request);
    x.authorized = keyed;
    if (isApi && !keyed && !preflight) {
        unauthorized(request, x, path);
        return;
    }
    if (allowed.isEmpty()) {
        x.error(404, QStringLiteral("not found"));
        return;
    }
    if (preflight) {
        this->preflight(allowed, x);
        return;
    }
    const bool methodAllowed = method == "GET" ? allowed.startsWith("GET")
        : method == "POST"                     ? allowed == "POST"
        : method == "DELETE"                   ? allowed.endsWith("DELETE")
                                               : false;
    if (!methodAllowed) {
        if (x.head) {
            // An answer to HEAD has no body, or the next answer on the
            // connection would be read as part of this one.
            HttpResponse r;
            r.status = 405;
            r.addHeader(QByteArrayLiteral("Allow"), allowed);
            r.addHeader(QByteArrayLiteral("Content-Length"), QByteArrayLiteral("0"));
            x.send(std::move(r));
            return;
        }
        x.error(405, QStringLiteral("method not allowed"), {{QByteArrayLiteral("Allow"), allowed}});
        return;
    }

    if (path == "/") {
        page(x);
    } else if (path == "/healthz") {
        health(x);
    } else if (path == "/metrics") {
        if (!config.httpPublicMetrics && !keyed) {
            unauthorized(request, x, path);
            return;
        }
        x.reply(200, PrometheusExporter::ContentType, metricsText());
    } else if (path == "/api/push") {
        push(request, x);
    } else if (path == "/api/online") {
        online(request, x);
    } else if (path == "/api/events") {
        m_context.adminStream(request, x.responder, x.peer);
    } else if (method == "GET") {
        uidInfo(uid, x);
    } else {
        disconnectUid(uid, x);
    }
}

void HttpApi::requestRefused(int status, const QString &peer, const QString &reason)
{
    Q_UNUSED(status);
    logRefusal(peer, reason);
}

void HttpApi::preflight(const QByteArray &allowed, const Exchange &x)
{
    // The browser asks before a request a web page could not make without
    // CORS (JSON, a key): tell it what this origin may do.
    HttpResponse r;
    r.status = 204;
    r.addHeader(QByteArrayLiteral("Access-Control-Allow-Methods"), allowed);
    r.addHeader(QByteArrayLiteral("Access-Control-Allow-Headers"),
        QByteArrayLiteral("Authorization, Content-Type"));
    r.addHeader(QByteArrayLiteral("Access-Control-Max-Age"), QByteArrayLiteral("600"));
    r.addHeader(QByteArrayLiteral("Content-Length"), QByteArrayLiteral("0"));
    x.send(std::move(r));
}

void HttpApi::page(const Exchange &x)
{
    QByteArray page = m_pageTemplate;
    page.replace(PagePortMarker,
        QByteArray(PagePortMarker).replace("8013", QByteArray::number(m_context.wsPort())));
    x.reply(200, "text/html; charset=utf-8", page);
}

void HttpApi::clientScript(const Exchange &x)
{
    x.reply(200, "text/javascript; charset=utf-8", m_clientScript,
        {{QByteArrayLiteral("Access-Control-Allow-Origin"), QByteArrayLiteral("*")}});
}

void HttpApi::health(const Exchange &x)
{
    // Open to probes; with a key set, the numbers only to those who have it.
    QJsonObject o {{QStringLiteral("status"), QStringLiteral("ok")}};
    if (x.authorized) {
        const qint64 started = m_context.startedAt().toMSecsSinceEpoch();
        o.insert(QStringLiteral("uptimeSeconds"),
            (QDateTime::currentMSecsSinceEpoch() - started) / 1000);
        o.insert(QStringLiteral("connections"), m_context.registry->connectionCount());
        o.insert(QStringLiteral("uids"), m_context.registry->uidCount());
    }
    x.json(200, o);
}

HttpResponse HttpApi::pushAnswer(const PushResult &result, const QByteArray &corsOrigin)
{
    HttpResponse r;
    // Written by hand: QJsonObject would sort "delivered" before "result".
    switch (result.status) {
    case PushStatus::Ok:
        r = HttpResponse::make(200, JsonType,
            "{\"result\":\"ok\",\"delivered\":" + QByteArray::number(result.delivered) + '}');
        break;
    case PushStatus::Fail:
        // Nothing delivered and the offline store could not take it: worth
        // a retry, unlike a uid that is simply offline.
        r = result.storeFailed
            ? HttpResponse::make(503, JsonType,
                QByteArrayLiteral("{\"result\":\"fail\",\"error\":\"offline store unavailable\"}"))
            : HttpResponse::make(404, JsonType, QByteArrayLiteral("{\"result\":\"fail\"}"));
        break;
    case PushStatus::Queued:
        r = HttpResponse::make(202, JsonType,
            "{\"result\":\"queued\",\"stored\":" + QByteArray::number(result.stored) + '}');
        break;
    case PushStatus::Error:
        r = HttpResponse::make(400, JsonType,
            QJsonDocument(QJsonObject {{QStringLiteral("error"), QString::fromUtf8(result.error)}})
                .toJson(QJsonDocument::Compact));
        break;
    }
    if (!corsOrigin.isEmpty()) {
        r.addHeader(QByteArrayLiteral("Access-Control-Allow-Origin"), corsOrigin);
        r.addHeader(QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin"));
    }
    return r;
}

void HttpApi::push(HttpRequest &request, const Exchange &x)
{
    // A form or a "simple" cross-origin fetch can only send text/plain,
    // form data or multipart: requiring JSON shuts them out, and it is
    // what the body must be anyway.
    if (request.headerCount("content-type") != 1 || !isJsonType(request.header("content-type"))) {
        x.error(415, QStringLiteral("Content-Type must be application/json"),
            {{QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json")}});
        return;
    }
    // The body, byte for byte, is both the request and the frame every
    // target receives, exactly as a text-port line.
    const QByteArray body = std::move(request.body);
    const HttpResponder responder = x.responder;
    const QByteArray cors = x.corsOrigin;
    // A push whose answer depends on Redis is answered when Redis is; the
    // connection keeps later answers behind it, and may be gone by then.
    const PushResult result = m_context.router->push(body, PushSource::Http, x.peer,
        [responder, cors](const PushResult &final) { responder.send(pushAnswer(final, cors)); });
    if (!result.pending)
        x.responder.send(pushAnswer(result, cors));
}

void HttpApi::online(const HttpRequest &request, const Exchange &x)
{
    const QUrlQuery query(QString::fromLatin1(request.query()));
    int offset = 0;
    int limit = 0;
    if (!queryNumber(
            query, QStringLiteral("offset"), 0, 0, std::numeric_limits<int>::max(), &offset)) {
        x.error(400, QStringLiteral("offset must be a whole number from 0"));
        return;
    }
    if (!queryNumber(query, QStringLiteral("limit"), DefaultPageSize, 1, MaxPageSize, &limit)) {
        x.error(400, QStringLiteral("limit must be a whole number from 1 to %1").arg(MaxPageSize));
        return;
    }
    const SessionRegistry *registry = m_context.registry;
    // Sorted, so that pages stay stable while uids come and go.
    QList<QByteArray> uids = registry->uids();
    std::sort(uids.begin(), uids.end());
    QJsonArray page;
    for (qsizetype i = offset; i < uids.size() && i < qsizetype(offset) + limit; ++i) {
        const SessionRegistry::Connections *list = registry->connections(uids[i]);
        page.append(QJsonObject {
            {QStringLiteral("uid"), QString::fromLatin1(uids[i])},
            {QStringLiteral("connections"), list ? int(list->size()) : 0},
        });
    }
    x.json(200,
        QJsonObject {
            {QStringLiteral("total"), int(uids.size())},
            {QStringLiteral("connections"), registry->connectionCount()},
            {QStringLiteral("offset"), offset},
            {QStringLiteral("limit"), limit},
            {QStringLiteral("uids"), page},
        });
}

void HttpApi::uidInfo(const QByteArray &uid, const Exchange &x)
{
    if (!Uid::isValid(uid)) {
        x.error(400, QStringLiteral("invalid uid"));
        return;
    }
    const QList<SessionInfo> sessions = m_context.registry->sessions(uid);
    if (sessions.isEmpty()) {
        x.error(404, QStringLiteral("uid not online"));
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QJsonArray connections;
    for (const SessionInfo &s : sessions) {
        connections.append(QJsonObject {
            {QStringLiteral("id"), qint64(s.id)},
            {QStringLiteral("peer"), s.peer},
            {QStringLiteral("since"), isoTime(s.connectedAt)},
            {QStringLiteral("lastActivity"), isoTime(s.lastActivity)},
            {QStringLiteral("idleSeconds"), qMax<qint64>(0, now - s.lastActivity) / 1000},
            {QStringLiteral("messagesIn"), qint64(s.messagesIn)},
            {QStringLiteral("messagesOut"), qint64(s.messagesOut)},
            {QStringLiteral("bytesIn"), qint64(s.bytesIn)},
            {QStringLiteral("bytesOut"), qint64(s.bytesOut)},
        });
    }
    x.json(200,
        {{QStringLiteral("uid"), QString::fromLatin1(uid)},
            {QStringLiteral("connections"), connections}});
}

void HttpApi::disconnectUid(const QByteArray &uid, const Exchange &x)
{
    if (!Uid::isValid(uid)) {
        x.error(400, QStringLiteral("invalid uid"));
        return;
    }
    // In a cluster the answer waits for Redis to say which nodes got the
    // request; the connection keeps later answers behind it meanwhile.
    const HttpResponder responder = x.responder;
    const QByteArray cors = x.corsOrigin;
    m_context.kick(uid, [responder, cors](int closed, int nodes) {
        HttpResponse r = closed == 0 && nodes == 0
            ? HttpResponse::make(404, JsonType, QByteArrayLiteral("{\"error\":\"uid not online\"}"))
            // Written by hand, in the documented order.
            : HttpResponse::make(200, JsonType,
                "{\"result\":\"ok\",\"closed\":" + QByteArray::number(closed)
                    + ",\"nodes\":" + QByteArray::number(nodes) + '}');
        if (!cors.isEmpty()) {
            r.addHeader(QByteArrayLiteral("Access-Control-Allow-Origin"), cors);
            r.addHeader(QByteArrayLiteral("Vary"), QByteArrayLiteral("Origin"));
        }
        responder.send(r);
    });
}

void HttpApi::logRefusal(const QString &peer, const QString &reason)
{
    // Rate-limited: a flood of refused requests cannot flood the log.
    m_refusals.report(
        Events::wrap(Event::Reason::HttpApiRefused, {}, Events::fromEnglish(reason)), peer);
}

QByteArray HttpApi::metricsText() const
{
    return m_context.metricsText ? m_context.metricsText() : QByteArray();
}
