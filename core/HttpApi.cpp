#include "HttpApi.h"

#include "HttpListener.h"
#include "Logging.h"
#include "PrometheusExporter.h"
#include "PushServer.h"
#include "Uid.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QHttpServer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QTcpSocket>

#include <algorithm>

// At file scope: Q_INIT_RESOURCE cannot stand inside a namespace or class.
static void initWebResources()
{
    // The page lives in the core's static library; without a reference the
    // linker would drop it.
    Q_INIT_RESOURCE(web);
}

namespace {

using Method = QHttpServerRequest::Method;
using Status = QHttpServerResponder::StatusCode;

constexpr char JsonType[] = "application/json";
constexpr int DefaultPageSize = 100;
constexpr int MaxPageSize = 1000;

// The page is a file that also works on its own; served here, its default
// WebSocket port becomes the one this gateway really listens on.
constexpr char PagePortMarker[] = "<meta name=\"pushconsole-ws-port\" content=\"8013\">";

QString isoTime(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
}

// Which methods a known path takes, for 405 and its Allow header; empty for
// an unknown path. Must agree with addRoutes().
QByteArray allowedMethods(const QString &path)
{
    if (path == QLatin1String("/") || path == QLatin1String("/client.js")
        || path == QLatin1String("/healthz") || path == QLatin1String("/metrics")
        || path == QLatin1String("/api/online"))
        return QByteArrayLiteral("GET");
    if (path == QLatin1String("/api/push"))
        return QByteArrayLiteral("POST");
    const QLatin1String uids("/api/uids/");
    if (path.startsWith(uids) && path.size() > uids.size()
        && !QStringView(path).sliced(uids.size()).contains(QLatin1Char('/')))
        return QByteArrayLiteral("GET, DELETE");
    return {};
}

bool isApiPath(const QString &path)
{
    return path == QLatin1String("/api") || path.startsWith(QLatin1String("/api/"));
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

} // namespace

HttpApi::HttpApi(PushServer *server, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_http(std::make_unique<QHttpServer>())
{
    initWebResources();
    QFile page(QStringLiteral(":/pushconsole/client.html"));
    if (page.open(QIODevice::ReadOnly))
        m_pageTemplate = page.readAll();
    else
        qCWarning(lcHttp) << "test page missing from the resources";
    addRoutes();
}

HttpApi::~HttpApi() = default;

void HttpApi::addRoutes()
{
    QHttpServer &http = *m_http;
    http.route(QStringLiteral("/"), Method::Get,
        [this](const QHttpServerRequest &, QHttpServerResponder &&r) { page(r); });
    // The browser client (clients/js), public like the page; any origin may
    // import it (module scripts are fetched with CORS).
    http.route(QStringLiteral("/client.js"), Method::Get,
        [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
            QFile script(QStringLiteral(":/pushconsole/client.js"));
            script.open(QIODevice::ReadOnly);
            reply(r, 200, "text/javascript; charset=utf-8", script.readAll(),
                {{QByteArrayLiteral("Access-Control-Allow-Origin"), QByteArrayLiteral("*")}});
        });
    http.route(QStringLiteral("/healthz"), Method::Get,
        [this](const QHttpServerRequest &, QHttpServerResponder &&r) { health(r); });
    http.route(QStringLiteral("/metrics"), Method::Get,
        [this](const QHttpServerRequest &, QHttpServerResponder &&r) {
            reply(r, 200, PrometheusExporter::ContentType, metricsText());
        });
    http.route(QStringLiteral("/api/push"), Method::Post,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&r) {
            if (checkKey(request, r))
                push(request, r);
        });
    http.route(QStringLiteral("/api/online"), Method::Get,
        [this](const QHttpServerRequest &request, QHttpServerResponder &&r) {
            if (checkKey(request, r))
                online(request, r);
        });
    http.route(QStringLiteral("/api/uids/<arg>"), Method::Get,
        [this](const QString &uid, const QHttpServerRequest &request, QHttpServerResponder &&r) {
            if (checkKey(request, r))
                uidInfo(uid, r);
        });
    http.route(QStringLiteral("/api/uids/<arg>"), Method::Delete,
        [this](const QString &uid, const QHttpServerRequest &request, QHttpServerResponder &&r) {
            if (checkKey(request, r))
                disconnectUid(uid, r);
        });
    http.setMissingHandler([this](const QHttpServerRequest &request, QHttpServerResponder &&r) {
        missing(request, r);
    });
}

bool HttpApi::listen(QString *error)
{
    const Config &config = m_server->config();
    if (config.httpPort < 0)
        return true;
    if (!readApiKey(error))
        return false;

    HttpListener::Limits limits;
    limits.maxBody = config.maxLine;
    limits.idleTimeoutMs = config.httpIdleTimeoutMs;
    if (!m_listener) {
        m_listener = new HttpListener(limits, this);
        connect(m_listener, &HttpListener::requestRefused, this,
            [this](int status, const QString &peer, const QString &reason) {
                ++m_responses[status];
                logRefusal(peer, reason);
            });
    }
    m_listener->setLimits(limits);
    if (!m_listener->listen(config.httpBind, quint16(config.httpPort))) {
        *error = tr("cannot listen for HTTP requests on %1:%2: %3")
                     .arg(config.httpBind.toString())
                     .arg(config.httpPort)
                     .arg(m_listener->errorString());
        return false;
    }
    // QHttpServer adopts the listener (as a child) the first time only;
    // after stopListening() the same listener simply listens again.
    if (m_listener->parent() != m_http.get())
        m_http->bind(m_listener);
    return true;
}

void HttpApi::stopListening()
{
    if (m_listener)
        m_listener->close();
}

bool HttpApi::isListening() const
{
    return m_listener && m_listener->isListening();
}

quint16 HttpApi::port() const
{
    return isListening() ? m_listener->serverPort() : 0;
}

QString HttpApi::addressString() const
{
    if (!isListening())
        return QStringLiteral("off");
    const QHostAddress address = m_listener->serverAddress();
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
        : address.toString();
    return host + QLatin1Char(':') + QString::number(m_listener->serverPort());
}

bool HttpApi::readApiKey(QString *error)
{
    m_keyDigest.clear();
    const QString path = m_server->config().httpApiKeyFile;
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
    m_keyDigest = QCryptographicHash::hash(key, QCryptographicHash::Sha256);
    return true;
}

bool HttpApi::authorized(const QHttpServerRequest &request) const
{
    if (m_keyDigest.isEmpty())
        return true;
    const QByteArray header = request.value(QByteArrayLiteral("Authorization")).trimmed();
    const qsizetype space = header.indexOf(' ');
    if (space <= 0
        || QByteArrayView(header).first(space).compare("Bearer", Qt::CaseInsensitive) != 0)
        return false;
    const QByteArray key = header.mid(space + 1).trimmed();
    // Comparing digests of equal length, every byte, in the same time
    // whatever matches: the time taken tells nothing about the key.
    const QByteArray digest = QCryptographicHash::hash(key, QCryptographicHash::Sha256);
    uchar difference = 0;
    for (qsizetype i = 0; i < digest.size(); ++i)
        difference |= uchar(digest[i] ^ m_keyDigest[i]);
    return difference == 0;
}

bool HttpApi::checkKey(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    if (authorized(request))
        return true;
    const QString peer = HttpListener::peerString(responder.socket());
    logRefusal(peer,
        QStringLiteral("missing or wrong API key (%1 %2)")
            .arg(
                QString::fromLatin1(QMetaEnum::fromType<Method>().valueToKey(int(request.method())))
                    .toUpper(),
                request.url().path()));
    replyError(responder, 401, QStringLiteral("missing or wrong API key"),
        {{QByteArrayLiteral("WWW-Authenticate"),
            QByteArrayLiteral("Bearer realm=\"pushconsole\"")}});
    return false;
}

void HttpApi::page(QHttpServerResponder &responder)
{
    QByteArray page = m_pageTemplate;
    page.replace(PagePortMarker,
        QByteArray(PagePortMarker).replace("8013", QByteArray::number(m_server->wsPort())));
    reply(responder, 200, "text/html; charset=utf-8", page);
}

void HttpApi::health(QHttpServerResponder &responder)
{
    const qint64 started = m_server->startedAt().toMSecsSinceEpoch();
    replyJson(responder, 200,
        QJsonObject {
            {QStringLiteral("status"), QStringLiteral("ok")},
            {QStringLiteral("uptimeSeconds"),
                (QDateTime::currentMSecsSinceEpoch() - started) / 1000},
            {QStringLiteral("connections"), m_server->registry()->connectionCount()},
            {QStringLiteral("uids"), m_server->registry()->uidCount()},
        });
}

void HttpApi::push(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const QString peer = HttpListener::peerString(responder.socket());
    const QByteArray body = request.body();
    const qint64 limit = m_server->config().maxLine;
    if (body.size() > limit) {
        const QString message = QStringLiteral("body too large (limit %1 bytes)").arg(limit);
        logRefusal(peer, message + QStringLiteral(", %1 bytes received").arg(body.size()));
        replyError(responder, 413, message);
        return;
    }
    // The body, byte for byte, is both the request and the frame every
    // target receives, exactly as a text-port line.
    const PushResult result = m_server->router()->push(body, PushSource::Http, peer);
    // Written by hand: QJsonObject would sort "delivered" before "result".
    switch (result.status) {
    case PushStatus::Ok:
        reply(responder, 200, JsonType,
            "{\"result\":\"ok\",\"delivered\":" + QByteArray::number(result.delivered) + '}');
        break;
    case PushStatus::Fail:
        reply(responder, 404, JsonType, QByteArrayLiteral("{\"result\":\"fail\"}"));
        break;
    case PushStatus::Queued:
        reply(responder, 202, JsonType,
            "{\"result\":\"queued\",\"stored\":" + QByteArray::number(result.stored) + '}');
        break;
    case PushStatus::Error:
        replyError(responder, 400, QString::fromUtf8(result.error));
        break;
    }
}

void HttpApi::online(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const QUrlQuery query = request.query();
    int offset = 0;
    int limit = 0;
    if (!queryNumber(
            query, QStringLiteral("offset"), 0, 0, std::numeric_limits<int>::max(), &offset)) {
        replyError(responder, 400, QStringLiteral("offset must be a whole number from 0"));
        return;
    }
    if (!queryNumber(query, QStringLiteral("limit"), DefaultPageSize, 1, MaxPageSize, &limit)) {
        replyError(responder, 400,
            QStringLiteral("limit must be a whole number from 1 to %1").arg(MaxPageSize));
        return;
    }
    const SessionRegistry *registry = m_server->registry();
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
    replyJson(responder, 200,
        QJsonObject {
            {QStringLiteral("total"), int(uids.size())},
            {QStringLiteral("connections"), registry->connectionCount()},
            {QStringLiteral("offset"), offset},
            {QStringLiteral("limit"), limit},
            {QStringLiteral("uids"), page},
        });
}

void HttpApi::uidInfo(const QString &uid, QHttpServerResponder &responder)
{
    const QByteArray key = uid.toUtf8();
    if (!Uid::isValid(key)) {
        replyError(responder, 400, QStringLiteral("invalid uid"));
        return;
    }
    const QList<SessionInfo> sessions = m_server->registry()->sessions(key);
    if (sessions.isEmpty()) {
        replyError(responder, 404, QStringLiteral("uid not online"));
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
    replyJson(responder, 200,
        {{QStringLiteral("uid"), uid}, {QStringLiteral("connections"), connections}});
}

void HttpApi::disconnectUid(const QString &uid, QHttpServerResponder &responder)
{
    const QByteArray key = uid.toUtf8();
    if (!Uid::isValid(key)) {
        replyError(responder, 400, QStringLiteral("invalid uid"));
        return;
    }
    const int closed = m_server->kick(key);
    if (closed == 0) {
        replyError(responder, 404, QStringLiteral("uid not online"));
        return;
    }
    replyJson(responder, 200,
        {{QStringLiteral("result"), QStringLiteral("ok")}, {QStringLiteral("closed"), closed}});
}

void HttpApi::missing(const QHttpServerRequest &request, QHttpServerResponder &responder)
{
    const QString path = request.url().path();
    // Under /api/ the key comes first: without it nothing tells which paths exist.
    if (isApiPath(path) && !checkKey(request, responder))
        return;
    const QByteArray allowed = allowedMethods(path);
    if (allowed.isEmpty()) {
        replyError(responder, 404, QStringLiteral("not found"));
        return;
    }
    if (request.method() == Method::Head) {
        // An answer to HEAD must not have a body, or the next answer on the
        // connection would be read as part of this one.
        ++m_responses[405];
        responder.write({{QByteArrayLiteral("Allow"), allowed}}, Status::MethodNotAllowed);
        return;
    }
    replyError(responder, 405, QStringLiteral("method not allowed"),
        {{QByteArrayLiteral("Allow"), allowed}});
}

void HttpApi::reply(QHttpServerResponder &responder, int status, const QByteArray &contentType,
    const QByteArray &body, Headers extra)
{
    ++m_responses[status];
    QTcpSocket *socket = responder.socket();
    const bool close = m_listener && m_listener->closeRequested(socket);
    responder.writeStatusLine(Status(status));
    responder.writeHeader(QByteArrayLiteral("Content-Type"), contentType);
    responder.writeHeader(QByteArrayLiteral("Content-Length"), QByteArray::number(body.size()));
    responder.writeHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store"));
    for (const auto &header : extra)
        responder.writeHeader(header.first, header.second);
    if (close)
        responder.writeHeader(QByteArrayLiteral("Connection"), QByteArrayLiteral("close"));
    responder.writeBody(body);
    // The answer still leaves first: disconnectFromHost() waits for it.
    if (close)
        socket->disconnectFromHost();
}

void HttpApi::replyJson(
    QHttpServerResponder &responder, int status, const QJsonObject &object, Headers extra)
{
    reply(responder, status, JsonType, QJsonDocument(object).toJson(QJsonDocument::Compact), extra);
}

void HttpApi::replyError(
    QHttpServerResponder &responder, int status, const QString &message, Headers extra)
{
    replyJson(responder, status, {{QStringLiteral("error"), message}}, extra);
}

void HttpApi::logRefusal(const QString &peer, const QString &reason)
{
    Event e;
    e.type = Event::Type::Rejected;
    e.level = Event::Level::Warning;
    e.peer = peer;
    e.detail = QStringLiteral("HTTP API: ") + reason;
    m_server->eventLog()->append(std::move(e));
}

QByteArray HttpApi::metricsText() const
{
    const Metrics &m = m_server->metrics();
    const SessionRegistry *registry = m_server->registry();
    PrometheusExporter out;
    out.gauge("pushconsole_start_time_seconds",
        "Start time of the gateway's listeners, seconds since the Unix epoch.",
        double(m_server->startedAt().toMSecsSinceEpoch()) / 1000.0);
    out.gauge("pushconsole_connections", "WebSocket connections open (bound or not).",
        double(m.connectionsOpen));
    out.gauge("pushconsole_bound_connections", "WebSocket connections bound to a uid.",
        registry->connectionCount());
    out.gauge("pushconsole_bound_uids", "Distinct uids with at least one connection.",
        registry->uidCount());
    out.gauge("pushconsole_text_connections", "Backend connections open on the push port.",
        double(m.textConnectionsOpen));
    out.counter("pushconsole_connections_accepted_total", "WebSocket TCP connections accepted.",
        m.connectionsAccepted);
    out.gauge("pushconsole_http_connections", "HTTP API connections open.",
        m_listener ? m_listener->connectionCount() : 0);

    out.family("pushconsole_pushes_total", "counter", "Push requests by source and result.");
    for (int source = 0; source < Metrics::SourceCount; ++source) {
        for (int status = 0; status < Metrics::StatusCount; ++status) {
            out.sample("pushconsole_pushes_total",
                {{"source", pushSourceName(PushSource(source))},
                    {"result", pushStatusName(PushStatus(status))}},
                double(m.pushes[source][status]));
        }
    }
    out.counter(
        "pushconsole_messages_in_total", "WebSocket messages received from clients.", m.messagesIn);
    out.counter("pushconsole_messages_out_total", "Push frames written to clients.", m.messagesOut);
    out.counter("pushconsole_bytes_in_total", "Bytes received from WebSocket clients.", m.bytesIn);
    out.counter(
        "pushconsole_bytes_out_total", "Push bytes written to WebSocket clients.", m.bytesOut);

    out.family("pushconsole_evictions_total", "counter",
        "WebSocket connections closed by the gateway, by reason.");
    out.sample("pushconsole_evictions_total", {{"reason", "heartbeat"}}, double(m.evictedIdle));
    out.sample("pushconsole_evictions_total", {{"reason", "bind_timeout"}}, double(m.bindTimeouts));
    out.sample("pushconsole_evictions_total", {{"reason", "uid_cap"}}, double(m.replacedByCap));
    out.sample("pushconsole_evictions_total", {{"reason", "kicked"}}, double(m.kicked));
    out.sample("pushconsole_evictions_total", {{"reason", "slow_consumer"}}, double(m.droppedSlow));
    out.sample(
        "pushconsole_evictions_total", {{"reason", "unbound_cap"}}, double(m.evictedUnbound));
    out.family("pushconsole_dropped_bytes_total", "counter",
        "Bytes queued for WebSocket clients (pushes answered ok) that never reached them, by "
        "reason.");
    for (int reason = 0; reason < Metrics::DropReasonCount; ++reason)
        out.sample("pushconsole_dropped_bytes_total",
            {{"reason", dropReasonName(DropReason(reason))}}, double(m.droppedBytes[reason]));
    out.counter("pushconsole_rejected_total",
        "WebSocket clients refused: bad handshake, invalid uid, protocol error.", m.rejected);
    out.family("pushconsole_refused_connections_total", "counter",
        "Connections reset at accept by a limit, by limit.");
    out.sample("pushconsole_refused_connections_total", {{"limit", "max_connections"}},
        double(m.refusedTotal));
    out.sample("pushconsole_refused_connections_total", {{"limit", "max_conns_per_ip"}},
        double(m.refusedPerIp));
    out.sample("pushconsole_refused_connections_total", {{"limit", "max_unbound"}},
        double(m.refusedUnbound));
    out.sample(
        "pushconsole_refused_connections_total", {{"limit", "push_port"}}, double(m.refusedText));

    // Offline delivery (--offline-ttl); zero without it.
    out.counter("pushconsole_offline_stored_total",
        "Messages stored for uids online nowhere, one per uid.", m.offlineStored);
    out.counter("pushconsole_offline_delivered_total",
        "Stored messages sent to a connection of their uid.", m.offlineDelivered);
    out.counter("pushconsole_offline_dropped_total",
        "Stored messages dropped by the caps (oldest first), or not stored as over them.",
        m.offlineDropped);
    out.counter("pushconsole_offline_expired_total",
        "Stored messages older than --offline-ttl, never delivered.", m.offlineExpired);
    out.counter("pushconsole_offline_store_errors_total",
        "Stores, reads and acknowledgements the offline store could not do (disk full, a "
        "Redis error); such pushes were answered fail.",
        m.offlineStoreErrors);

    double bounds[std::size(Metrics::LatencyBoundsNs)];
    for (size_t i = 0; i < std::size(bounds); ++i)
        bounds[i] = double(Metrics::LatencyBoundsNs[i]) / 1e9;
    out.histogram("pushconsole_push_latency_seconds",
        "Time the router takes to hand one push to all its targets.", bounds,
        int(std::size(bounds)), m.pushLatency, double(m.pushLatencySumNs) / 1e9);

    out.family("pushconsole_http_responses_total", "counter", "HTTP API answers by status code.");
    for (auto it = m_responses.cbegin(); it != m_responses.cend(); ++it)
        out.sample("pushconsole_http_responses_total", {{"code", QByteArray::number(it.key())}},
            double(it.value()));
    return out.text();
}
