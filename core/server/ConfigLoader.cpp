#include "ConfigLoader.h"

#include "ClusterLink.h"
#include "RedisUrl.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QSettings>

namespace {

struct Option
{
    const char *name;
    const char *valueName; // nullptr for a flag
    const char *help;
};

// One table drives the command line and the INI file, so the two can never
// disagree on a name. Help texts are translated where they are shown.
const Option kOptions[] = {
    {"config", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Read settings from this INI file (command line wins).")},
    {"ws-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Address for WebSocket clients (default 0.0.0.0).")},
    {"ws-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"),
        QT_TRANSLATE_NOOP("ConfigLoader", "WebSocket port, 0 for any free port (default 8013).")},
    {"text-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Address of the inner push port (default 127.0.0.1).")},
    {"text-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Inner push port, 0 for any free port (default 5678).")},
    {"http-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Address of the HTTP API (default 127.0.0.1).")},
    {"http-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "HTTP API port, 0 for any free port, -1 for no HTTP API (default 2121).")},
    {"http-api-key-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Require \"Authorization: Bearer KEY\" on /api/* and /metrics; KEY is read from "
            "this file.")},
    {"http-host", QT_TRANSLATE_NOOP("ConfigLoader", "names"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Host names the HTTP API answers to besides IP addresses and localhost, e.g. "
            "api.example.com (\"*\": any; default none).")},
    {"http-allow-origin", QT_TRANSLATE_NOOP("ConfigLoader", "origins"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Web pages of these origins may call the HTTP API, e.g. https://admin.example.com "
            "(default none: any request with an Origin is refused).")},
    {"http-public-metrics", nullptr,
        QT_TRANSLATE_NOOP("ConfigLoader", "Serve /metrics without the API key.")},
    {"http-test-page", nullptr,
        QT_TRANSLATE_NOOP("ConfigLoader", "Serve the browser test page at / on the HTTP port.")},
    {"max-http-conns", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connections on the HTTP port (default 256).")},
    {"http-max-output", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Unsent HTTP answers before a client is no longer read (default 1M).")},
    {"http-max-in-flight", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "HTTP requests read but not answered before a client is no longer read (default "
            "32).")},
    {"http-request-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Time from the first byte of an HTTP request to its last (default 10s).")},
    {"http-idle-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close an HTTP connection idle between requests this long (default 60s).")},
    {"heartbeat", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Drop a client idle longer than this (default 55s; units ms, s, m).")},
    {"ping-interval", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Ping every client this often, 0 to never ping (default 20s).")},
    {"bind-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close a client that has not sent its uid by then (default: the heartbeat).")},
    {"shutdown-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "On SIGTERM, time clients get to receive what was queued for them before they are "
            "dropped (default 10s; 0: drop them at once).")},
    {"max-line", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Longest push request line (default 1M; units K, M).")},
    {"max-message", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Largest WebSocket message a client may send (default 1M).")},
    {"max-frame", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Largest WebSocket frame a client may send (default 1M).")},
    {"max-output", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Drop a client whose unsent output exceeds this (default 8M).")},
    {"max-conns-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Connections one uid may hold; the oldest is closed (default 16, 0: no cap).")},
    {"max-conns-per-token", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "With tokens: connections bound with one token (jti); the oldest of that token is "
            "closed, never another token's (default 4, 0: no cap).")},
    {"max-connections", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "WebSocket connections in all (default 0: the open-file limit less 512).")},
    {"max-conns-per-ip", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "WebSocket connections from one address (default 1024).")},
    {"per-ip-exempt", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Sources --max-conns-per-ip does not apply to, e.g. a proxy (default "
            "127.0.0.0/8,::1; \"none\" for none).")},
    {"trusted-proxies", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Reverse proxies whose X-Forwarded-For (and PROXY header) names the client, e.g. "
            "127.0.0.1,10.0.0.0/8 (default: none).")},
    {"proxy-protocol", nullptr,
        QT_TRANSLATE_NOOP("ConfigLoader",
            "The WebSocket port expects a PROXY protocol v1/v2 header from --trusted-proxies "
            "and refuses it from others (default off).")},
    {"max-unbound", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Connections that have not sent their uid yet (default 10000).")},
    {"max-text-conns", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connections on the push port (default 1024).")},
    {"max-pending-replies", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Unread replies before a push connection is no longer read (default 4096).")},
    {"text-idle-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Close a push connection silent this long, 0 to never (default 5m).")},
    {"text-line-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close a push connection whose line stays unfinished this long, 0 to never "
            "(default 30s).")},
    {"text-allow", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Besides loopback, admit these sources to the push port, e.g. "
            "10.0.0.0/8,192.168.1.5.")},
    {"auth-secret-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "First message must be an HS256 token signed with this secret (uid = sub).")},
    {"auth-public-key", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "First message must be an RS256/ES256 token verified with this PEM key.")},
    {"auth-leeway", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Clock difference allowed for exp, nbf and iat (default 30s).")},
    {"auth-audience", QT_TRANSLATE_NOOP("ConfigLoader", "text"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Tokens must name this audience in aud (default: not checked).")},
    {"auth-issuer", QT_TRANSLATE_NOOP("ConfigLoader", "text"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Tokens must have this iss (default: not checked).")},
    {"auth-max-age", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Longest token lifetime: iat required, exp - iat at most this (default 0: off).")},
    {"tls-cert", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader", "PEM certificate (chain) for wss://; needs --tls-key.")},
    {"tls-key", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader", "PEM private key for wss://; needs --tls-cert.")},
    {"redis", QT_TRANSLATE_NOOP("ConfigLoader", "url"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Cluster mode: share presence and pushes with other gateways through this Redis, "
            "redis://[:password@]host[:port][/db].")},
    {"node-id", QT_TRANSLATE_NOOP("ConfigLoader", "id"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "This gateway's name in the cluster, 1-64 of A-Z a-z 0-9 _ . - (default: "
            "hostname-pid).")},
    {"cluster-ttl", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "A node that stops renewing its presence is dropped after this (default 15s).")},
    {"redis-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connect and command timeout for Redis (default 3s).")},
    {"redis-password-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Log in to Redis with the password in this file (read at start), not one in the "
            "URL.")},
    {"cluster-max-in-flight", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Pushes awaiting Redis (publishes, offline stores), in bytes; past it they answer "
            "fail (default 64M).")},
    {"offline-ttl", QT_TRANSLATE_NOOP("ConfigLoader", "duration"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Keep pushes to a uid online nowhere this long (seconds, or 30m) and deliver them "
            "when it binds; the reply is \"queued\" (default 0: off).")},
    {"offline-max-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Stored messages per uid; the oldest is dropped (default 100).")},
    {"offline-max-total", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Stored messages in all; the oldest is dropped (default 100000).")},
    {"offline-max-bytes-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Stored payload bytes per uid; the oldest is dropped, a larger push is not stored "
            "(default 1M).")},
    {"offline-max-bytes", QT_TRANSLATE_NOOP("ConfigLoader", "size"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Stored payload bytes in all; the oldest is dropped (default 256M).")},
    {"offline-db", QT_TRANSLATE_NOOP("ConfigLoader", "file"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "SQLite file of the offline store on a single node (default: offline.sqlite in the "
            "application data folder).")},
    {"log-level", QT_TRANSLATE_NOOP("ConfigLoader", "level"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "debug (every push), info, warning or error (default info).")},
    {"log-buffer", QT_TRANSLATE_NOOP("ConfigLoader", "count"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Events kept in memory for the console (default 10000).")},
    {"lang", QT_TRANSLATE_NOOP("ConfigLoader", "language"),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Language of the console: zh_CN or en (default: system).")},
    {"event-loop", QT_TRANSLATE_NOOP("ConfigLoader", "kind"),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "epoll (headless default: cost independent of idle clients) or default (Qt's).")},
    {"no-gui", nullptr,
        QT_TRANSLATE_NOOP("ConfigLoader", "Run as a headless server, logging events to stdout.")},
};

class Applier
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)
public:
    explicit Applier(Config *config)
        : m_config(config)
    { }

    // `origin` says where the value came from, for the error message.
    bool apply(const QString &name, const QString &value, const QString &origin)
    {
        m_name = name;
        m_value = value;
        m_origin = origin;
        Config &c = *m_config;
        if (name == QLatin1String("ws-bind"))
            return address(&c.wsBind);
        if (name == QLatin1String("ws-port"))
            return port(&c.wsPort);
        if (name == QLatin1String("text-bind"))
            return address(&c.textBind);
        if (name == QLatin1String("text-port"))
            return port(&c.textPort);
        if (name == QLatin1String("http-bind"))
            return address(&c.httpBind);
        if (name == QLatin1String("http-port"))
            return optionalPort(&c.httpPort);
        if (name == QLatin1String("http-api-key-file")) {
            // Read when the server starts, so a rotated key takes effect on
            // the next start; only an empty name is wrong here.
            if (value.trimmed().isEmpty())
                return fail(tr("expected the name of a file that holds the API key"));
            c.httpApiKeyFile = value.trimmed();
            return true;
        }
        if (name == QLatin1String("http-host"))
            return hostNames(&c.httpHosts);
        if (name == QLatin1String("http-allow-origin"))
            return origins(&c.httpAllowOrigins);
        if (name == QLatin1String("http-public-metrics"))
            return boolean(&c.httpPublicMetrics);
        if (name == QLatin1String("http-test-page"))
            return boolean(&c.httpTestPage);
        if (name == QLatin1String("max-http-conns"))
            return integer(&c.maxHttpConnections, 1, 1000000);
        if (name == QLatin1String("http-max-output"))
            return size(&c.httpMaxOutput);
        if (name == QLatin1String("http-max-in-flight"))
            return integer(&c.httpMaxInFlight, 1, 100000);
        if (name == QLatin1String("http-request-timeout"))
            return duration(&c.httpRequestTimeoutMs, 100, false);
        if (name == QLatin1String("http-idle-timeout"))
            return duration(&c.httpIdleTimeoutMs, 100, false);
        if (name == QLatin1String("heartbeat"))
            return duration(&c.heartbeatMs, 1000, false);
        if (name == QLatin1String("ping-interval"))
            return duration(&c.pingIntervalMs, 0, true);
        if (name == QLatin1String("bind-timeout"))
            return duration(&c.bindTimeoutMs, 100, false);
        if (name == QLatin1String("shutdown-timeout"))
            return duration(&c.shutdownTimeoutMs, 0, true);
        if (name == QLatin1String("max-line"))
            return size(&c.maxLine);
        if (name == QLatin1String("max-message"))
            return size(&c.maxMessage);
        if (name == QLatin1String("max-frame"))
            return size(&c.maxFrame);
        if (name == QLatin1String("max-output"))
            return size(&c.maxOutput);
        if (name == QLatin1String("max-conns-per-uid"))
            return integer(&c.maxConnsPerUid, 0, 100000);
        if (name == QLatin1String("max-conns-per-token"))
            return integer(&c.maxConnsPerToken, 0, 100000);
        if (name == QLatin1String("max-connections"))
            return integer(&c.maxConnections, 0, 10000000);
        if (name == QLatin1String("max-conns-per-ip"))
            return integer(&c.maxConnsPerIp, 1, 10000000);
        if (name == QLatin1String("max-unbound"))
            return integer(&c.maxUnbound, 1, 10000000);
        if (name == QLatin1String("max-text-conns"))
            return integer(&c.maxTextConnections, 1, 1000000);
        if (name == QLatin1String("max-pending-replies"))
            return integer(&c.maxPendingReplies, 1, 10000000);
        if (name == QLatin1String("text-idle-timeout"))
            return duration(&c.textIdleTimeoutMs, 100, true);
        if (name == QLatin1String("text-line-timeout"))
            return duration(&c.textLineTimeoutMs, 100, true);
        if (name == QLatin1String("text-allow"))
            return subnets(&c.textAllow);
        if (name == QLatin1String("per-ip-exempt"))
            return subnets(&c.perIpExempt);
        if (name == QLatin1String("trusted-proxies"))
            return subnets(&c.trustedProxies);
        if (name == QLatin1String("proxy-protocol"))
            return boolean(&c.proxyProtocol);
        if (name == QLatin1String("auth-secret-file"))
            return file(&c.authSecretFile);
        if (name == QLatin1String("auth-public-key"))
            return file(&c.authPublicKeyFile);
        if (name == QLatin1String("auth-leeway"))
            return duration(&c.authLeewayMs, 0, true);
        if (name == QLatin1String("auth-audience"))
            return claimText(&c.authAudience);
        if (name == QLatin1String("auth-issuer"))
            return claimText(&c.authIssuer);
        if (name == QLatin1String("auth-max-age"))
            return duration(&c.authMaxAgeMs, 1000, true);
        if (name == QLatin1String("tls-cert"))
            return file(&c.tlsCertificate);
        if (name == QLatin1String("tls-key"))
            return file(&c.tlsKey);
        if (name == QLatin1String("redis")) {
            QString why;
            if (value.trimmed().isEmpty()) {
                c.redisUrl.clear();
                return true;
            }
            // Whether the password may be in it is checked once every
            // option is known (see load()).
            if (!RedisUrl::parse(value, &why).isValid()
                && !RedisUrl::parse(value, nullptr, RedisUrl::PasswordSource::File).isValid())
                return fail(why);
            c.redisUrl = value.trimmed();
            return true;
        }
        if (name == QLatin1String("redis-password-file")) {
            // Read when the server starts, like the API key file.
            if (value.trimmed().isEmpty()) {
                c.redisPasswordFile.clear();
                return true;
            }
            return file(&c.redisPasswordFile);
        }
        if (name == QLatin1String("cluster-max-in-flight")) {
            if (!size(&c.clusterMaxInFlight))
                return false;
            if (c.clusterMaxInFlight < 64 * 1024)
                return fail(tr("expected a size from 64K to 1G"));
            return true;
        }
        if (name == QLatin1String("node-id")) {
            if (!ClusterLink::isValidNodeId(value.trimmed().toUtf8()))
                return fail(tr("expected 1 to 64 of A-Z a-z 0-9 _ . -"));
            c.nodeId = value.trimmed();
            return true;
        }
        if (name == QLatin1String("cluster-ttl")) {
            if (!duration(&c.clusterTtlMs, 1000, false))
                return false;
            if (c.clusterTtlMs > 10 * 60 * 1000)
                return fail(tr("expected a duration from 1s to 10m"));
            return true;
        }
        if (name == QLatin1String("redis-timeout"))
            return duration(&c.redisTimeoutMs, 100, false);
        if (name == QLatin1String("offline-ttl")) {
            // Seconds by default, up to the duration parser's 10 days.
            const qint64 ms = ConfigLoader::parseDuration(m_value);
            if (ms < 0 || (ms > 0 && ms < 1000))
                return fail(tr("expected 0 (off) or a duration from 1s to 10 days, such as "
                               "3600 or 30m"));
            c.offlineTtlMs = ms;
            return true;
        }
        if (name == QLatin1String("offline-max-per-uid"))
            return integer(&c.offlineMaxPerUid, 1, 1000000);
        if (name == QLatin1String("offline-max-total"))
            return integer(&c.offlineMaxTotal, 1, 100000000);
        if (name == QLatin1String("offline-max-bytes-per-uid"))
            return sizeIn(&c.offlineMaxBytesPerUid, 1024, qint64(1) << 30);
        if (name == QLatin1String("offline-max-bytes"))
            return sizeIn(&c.offlineMaxBytes, 1024, qint64(1) << 40);
        if (name == QLatin1String("offline-db"))
            return file(&c.offlineDb);
        if (name == QLatin1String("log-buffer"))
            return integer(&c.logBuffer, 100, 10000000);
        if (name == QLatin1String("log-level")) {
            if (Event::levelFromName(value, &c.logLevel))
                return true;
            return fail(tr("expected debug, info, warning or error"));
        }
        if (name == QLatin1String("lang")) {
            const QString v = value.trimmed();
            if (v == QLatin1String("zh_CN") || v == QLatin1String("en") || v.isEmpty()) {
                c.language = v;
                return true;
            }
            return fail(tr("expected zh_CN or en"));
        }
        if (name == QLatin1String("event-loop")) {
            const QString v = value.trimmed().toLower();
            if (v == QLatin1String("epoll"))
                c.eventLoop = Config::EventLoop::Epoll;
            else if (v == QLatin1String("default"))
                c.eventLoop = Config::EventLoop::Default;
            else if (v == QLatin1String("auto"))
                c.eventLoop = Config::EventLoop::Auto;
            else
                return fail(tr("expected epoll or default"));
            return true;
        }
        if (name == QLatin1String("no-gui")) {
            const QString v = value.trimmed().toLower();
            if (v == QLatin1String("true") || v == QLatin1String("1")
                || v == QLatin1String("yes")) {
                c.noGui = true;
                return true;
            }
            if (v == QLatin1String("false") || v == QLatin1String("0")
                || v == QLatin1String("no")) {
                c.noGui = false;
                return true;
            }
            return fail(tr("expected true or false"));
        }
        m_error = tr("%1: unknown setting \"%2\"").arg(origin, name);
        return false;
    }

    QString error() const { return m_error; }

private:
    bool fail(const QString &expected)
    {
        m_error =
            tr("%1: invalid value \"%2\" for %3: %4").arg(m_origin, m_value, m_name, expected);
        return false;
    }
    bool address(QHostAddress *out)
    {
        QString v = m_value.trimmed();
        if (v == QLatin1String("localhost"))
            v = QStringLiteral("127.0.0.1");
        QHostAddress a;
        if (!a.setAddress(v))
            return fail(tr("expected an IP address such as 0.0.0.0, 127.0.0.1 or ::"));
        *out = a;
        return true;
    }
    bool port(quint16 *out)
    {
        bool ok = false;
        const int p = m_value.trimmed().toInt(&ok);
        if (!ok || p < 0 || p > 65535)
            return fail(tr("expected a port number from 0 to 65535"));
        *out = quint16(p);
        return true;
    }
    bool optionalPort(int *out)
    {
        bool ok = false;
        const int p = m_value.trimmed().toInt(&ok);
        if (!ok || p < -1 || p > 65535)
            return fail(tr("expected a port number from 0 to 65535, or -1 for none"));
        *out = p;
        return true;
    }
    bool duration(qint64 *out, qint64 minimumMs, bool zeroAllowed)
    {
        const qint64 ms = ConfigLoader::parseDuration(m_value);
        if (ms < 0 || (ms == 0 && !zeroAllowed) || (ms != 0 && ms < minimumMs)
            || ms > 24LL * 3600 * 1000)
            return fail(tr("expected a duration such as 55, 55s, 1500ms or 2m"));
        *out = ms;
        return true;
    }
    bool size(qint64 *out)
    {
        const qint64 bytes = ConfigLoader::parseSize(m_value);
        if (bytes < 16 || bytes > (qint64(1) << 30))
            return fail(tr("expected a size from 16 bytes to 1G, such as 65536, 64K or 1M"));
        *out = bytes;
        return true;
    }
    bool sizeIn(qint64 *out, qint64 minimum, qint64 maximum)
    {
        const qint64 bytes = ConfigLoader::parseSize(m_value);
        if (bytes < minimum || bytes > maximum)
            return fail(tr("expected a size from %1 to %2, such as 64K, 1M or 2G")
                            .arg(sizeText(minimum), sizeText(maximum)));
        *out = bytes;
        return true;
    }
    static QString sizeText(qint64 bytes)
    {
        if (bytes >= (qint64(1) << 30))
            return QStringLiteral("%1G").arg(bytes >> 30);
        if (bytes >= (qint64(1) << 20))
            return QStringLiteral("%1M").arg(bytes >> 20);
        return QStringLiteral("%1K").arg(bytes >> 10);
    }
    bool subnets(QList<QPair<QHostAddress, int>> *out)
    {
        QList<QPair<QHostAddress, int>> list;
        if (m_value.trimmed() == QLatin1String("none")) {
            out->clear();
            return true;
        }
        for (const QString &part : m_value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            QString text = part.trimmed();
            if (!text.contains(QLatin1Char('/')))
                text +=
                    text.contains(QLatin1Char(':')) ? QLatin1String("/128") : QLatin1String("/32");
            const QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(text);
            if (subnet.first.isNull())
                return fail(tr("expected addresses or subnets such as 10.0.0.0/8,192.168.1.5"));
            list.append(subnet);
        }
        *out = list;
        return true;
    }
    bool boolean(bool *out)
    {
        const QString v = m_value.trimmed().toLower();
        if (v == QLatin1String("true") || v == QLatin1String("1") || v == QLatin1String("yes")) {
            *out = true;
            return true;
        }
        if (v == QLatin1String("false") || v == QLatin1String("0") || v == QLatin1String("no")) {
            *out = false;
            return true;
        }
        return fail(tr("expected true or false"));
    }
    static bool isHostName(const QString &name)
    {
        if (name.isEmpty() || name.size() > 253)
            return false;
        for (QChar c : name) {
            if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z'))
                    || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-')
                    || c == QLatin1Char('.') || c == QLatin1Char('_')))
                return false;
        }
        return true;
    }
    bool hostNames(QStringList *out)
    {
        QStringList list;
        for (const QString &part : m_value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            QString name = part.trimmed().toLower();
            if (name.endsWith(QLatin1Char('.')))
                name.chop(1);
            if (name != QLatin1String("*") && !isHostName(name))
                return fail(tr("expected host names such as api.example.com, or *"));
            list.append(name);
        }
        *out = list;
        return true;
    }
    bool origins(QStringList *out)
    {
        // As browsers send them: scheme://host[:port], lower case, no
        // default port, no path.
        QStringList list;
        for (const QString &part : m_value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            QString origin = part.trimmed().toLower();
            if (origin.endsWith(QLatin1Char('/')))
                origin.chop(1);
            const bool https = origin.startsWith(QLatin1String("https://"));
            if (!https && !origin.startsWith(QLatin1String("http://")))
                return fail(tr("expected origins such as https://admin.example.com (not * or "
                               "null)"));
            QString host = origin.mid(https ? 8 : 7);
            QString port;
            const qsizetype colon = host.lastIndexOf(QLatin1Char(':'));
            if (colon >= 0 && !host.endsWith(QLatin1Char(']'))) {
                port = host.mid(colon + 1);
                host.truncate(colon);
                bool ok = false;
                const int p = port.toInt(&ok);
                if (!ok || p < 1 || p > 65535)
                    return fail(tr("expected origins such as https://admin.example.com:8443"));
                if ((https && p == 443) || (!https && p == 80))
                    port.clear();
            }
            const bool ipv6 = host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']'))
                && QHostAddress(host.mid(1, host.size() - 2)).protocol()
                    == QAbstractSocket::IPv6Protocol;
            if (!ipv6 && !isHostName(host))
                return fail(tr("expected origins such as https://admin.example.com (not * or "
                               "null)"));
            list.append((https ? QLatin1String("https://") : QLatin1String("http://")) + host
                + (port.isEmpty() ? QString() : QLatin1Char(':') + port));
        }
        *out = list;
        return true;
    }
    bool file(QString *out)
    {
        if (m_value.trimmed().isEmpty())
            return fail(tr("expected a file name"));
        *out = m_value.trimmed();
        return true;
    }
    bool integer(int *out, int minimum, int maximum)
    {
        bool ok = false;
        const int n = m_value.trimmed().toInt(&ok);
        if (!ok || n < minimum || n > maximum)
            return fail(tr("expected a whole number from %1 to %2").arg(minimum).arg(maximum));
        *out = n;
        return true;
    }
    // An "aud" or "iss" value to compare tokens with: printable, one line.
    bool claimText(QString *out)
    {
        const QString v = m_value.trimmed();
        if (v.isEmpty() || v.size() > 256)
            return fail(tr("expected 1 to 256 characters"));
        for (const QChar ch : v) {
            if (!ch.isPrint())
                return fail(tr("expected printable characters only"));
        }
        *out = v;
        return true;
    }

    Config *m_config;
    QString m_name, m_value, m_origin, m_error;
};

} // namespace

qint64 ConfigLoader::parseDuration(const QString &text)
{
    QString t = text.trimmed().toLower();
    qint64 scale = 1000;
    if (t.endsWith(QLatin1String("ms"))) {
        scale = 1;
        t.chop(2);
    } else if (t.endsWith(QLatin1Char('s'))) {
        t.chop(1);
    } else if (t.endsWith(QLatin1Char('m'))) {
        scale = 60 * 1000;
        t.chop(1);
    }
    bool ok = false;
    const qint64 n = t.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > 10LL * 24 * 3600 * 1000)
        return -1;
    return n * scale;
}

qint64 ConfigLoader::parseSize(const QString &text)
{
    QString t = text.trimmed().toLower();
    if (t.endsWith(QLatin1String("ib")))
        t.chop(2);
    else if (t.endsWith(QLatin1Char('b')))
        t.chop(1);
    qint64 scale = 1;
    if (t.endsWith(QLatin1Char('k')))
        scale = 1024;
    else if (t.endsWith(QLatin1Char('m')))
        scale = 1024 * 1024;
    else if (t.endsWith(QLatin1Char('g')))
        scale = 1024 * 1024 * 1024;
    if (scale != 1)
        t.chop(1);
    bool ok = false;
    const qint64 n = t.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > (qint64(1) << 40) / scale)
        return -1;
    return n * scale;
}

ConfigLoader::Result ConfigLoader::load(const QStringList &arguments)
{
    Result result;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        tr("Real-time uid push gateway and operator console.\n"
           "Browsers connect over WebSocket and send their uid; backends write a JSON line\n"
           "with a \"uid\" member to the push port and get \"ok\" or \"fail\" back."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    for (const Option &o : kOptions) {
        QCommandLineOption option(QString::fromLatin1(o.name), tr(o.help));
        if (o.valueName)
            option.setValueName(tr(o.valueName));
        parser.addOption(option);
    }

    const bool parsed = parser.parse(arguments);
    // Known before anything else, so that help and errors come out in the
    // language asked for.
    {
        Applier language(&result.config);
        if (parser.isSet(QStringLiteral("lang")))
            language.apply(QStringLiteral("lang"), parser.value(QStringLiteral("lang")), {});
    }
    if (!parsed) {
        result.action = Action::Fail;
        result.error = parser.errorText();
        return result;
    }
    if (!parser.positionalArguments().isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("unexpected argument \"%1\"").arg(parser.positionalArguments().first());
        return result;
    }
    if (parser.isSet(help)) {
        result.action = Action::ShowHelp;
        if (QCoreApplication::instance())
            result.helpText = parser.helpText();
        return result;
    }
    if (parser.isSet(version)) {
        result.action = Action::ShowVersion;
        return result;
    }

    Applier applier(&result.config);
    const QString file = parser.value(QStringLiteral("config"));
    if (!file.isEmpty()) {
        const QFileInfo info(file);
        if (!info.isFile() || !info.isReadable()) {
            result.action = Action::Fail;
            result.error = tr("cannot read config file \"%1\"").arg(file);
            return result;
        }
        QSettings ini(file, QSettings::IniFormat);
        if (ini.status() != QSettings::NoError) {
            result.action = Action::Fail;
            result.error = tr("config file \"%1\" is not a valid INI file").arg(file);
            return result;
        }
        result.config.configFile = info.absoluteFilePath();
        const QString origin = info.fileName();
        for (const QString &key : ini.allKeys()) {
            // Keys may sit in [General] or in a [pushconsole] section.
            const QString name = key.section(QLatin1Char('/'), -1);
            if (key.contains(QLatin1Char('/')) && !key.startsWith(QLatin1String("pushconsole/"))) {
                result.action = Action::Fail;
                result.error = tr("%1: unknown section in \"%2\"").arg(origin, key);
                return result;
            }
            // QSettings splits "a,b" into a list; settings want the text as written.
            const QVariant raw = ini.value(key);
            const QString value = raw.typeId() == QMetaType::QStringList
                ? raw.toStringList().join(QLatin1Char(','))
                : raw.toString();
            if (name == QLatin1String("config") || !applier.apply(name, value, origin)) {
                result.action = Action::Fail;
                result.error = name == QLatin1String("config")
                    ? tr("%1: a config file cannot include another").arg(origin)
                    : applier.error();
                return result;
            }
        }
    }
    for (const Option &o : kOptions) {
        const QString name = QString::fromLatin1(o.name);
        if (name == QLatin1String("config") || !parser.isSet(name))
            continue;
        const QString value = o.valueName ? parser.value(name) : QStringLiteral("true");
        if (!applier.apply(name, value, QStringLiteral("--") + name)) {
            result.action = Action::Fail;
            result.error = applier.error();
            return result;
        }
    }
    if (!result.config.authSecretFile.isEmpty() && !result.config.authPublicKeyFile.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--auth-secret-file and --auth-public-key exclude each other");
    }
    const bool auth =
        !result.config.authSecretFile.isEmpty() || !result.config.authPublicKeyFile.isEmpty();
    if (!auth
        && (!result.config.authAudience.isEmpty() || !result.config.authIssuer.isEmpty()
            || result.config.authMaxAgeMs > 0)) {
        result.action = Action::Fail;
        result.error = tr("--auth-audience, --auth-issuer and --auth-max-age need "
                          "--auth-secret-file or --auth-public-key");
    }
    if (result.config.tlsCertificate.isEmpty() != result.config.tlsKey.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--tls-cert and --tls-key go together");
    }
    const Config &c = result.config;
    if (!c.redisPasswordFile.isEmpty() && c.redisUrl.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--redis-password-file needs --redis");
    } else if (!c.redisUrl.isEmpty()) {
        QString why;
        const auto source = c.redisPasswordFile.isEmpty() ? RedisUrl::PasswordSource::Url
                                                          : RedisUrl::PasswordSource::File;
        if (!RedisUrl::parse(c.redisUrl, &why, source).isValid()) {
            result.action = Action::Fail;
            // Not the URL itself: it may hold a password.
            result.error = tr("--redis: %1").arg(why);
        }
    }
    if (result.config.proxyProtocol && result.config.trustedProxies.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--proxy-protocol needs --trusted-proxies: the proxies that send "
                          "the header");
    }
    return result;
}
