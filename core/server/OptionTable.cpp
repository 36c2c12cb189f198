#include "OptionTable.h"

namespace {

using V = OptionValue;
using S = OptionSection;

// One row per option. The command line, the INI file, --help and the
// generated reference (--help-markdown, --help-ini) all come from here; a
// default is never written here but read from a default-constructed Config.
QList<Option> buildTable()
{
    QList<Option> t;

    // Ports.
    t << Option("ws-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"), S::Ports,
        V::address(&Config::wsBind),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Address for WebSocket clients; :: for every interface, IPv4 and IPv6"));
    t << Option("ws-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"), S::Ports,
        V::port(&Config::wsPort),
        QT_TRANSLATE_NOOP("ConfigLoader", "WebSocket port, 0 for any free port"));
    t << Option("text-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"), S::Ports,
        V::address(&Config::textBind),
        QT_TRANSLATE_NOOP("ConfigLoader", "Address of the inner push port"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Keep it on loopback: anyone who can reach it can push to any uid."));
    t << Option("text-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"), S::Ports,
        V::port(&Config::textPort),
        QT_TRANSLATE_NOOP("ConfigLoader", "Inner push port, 0 for any free port"));
    t << Option("http-bind", QT_TRANSLATE_NOOP("ConfigLoader", "address"), S::Ports,
        V::address(&Config::httpBind), QT_TRANSLATE_NOOP("ConfigLoader", "Address of the HTTP API"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Anyone who reaches /api/ can push to and disconnect any uid: keep it on "
                 "loopback, or set an API key (--http-api-key-file)."));
    t << Option("http-port", QT_TRANSLATE_NOOP("ConfigLoader", "port"), S::Ports,
        V::optionalPort(&Config::httpPort),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "HTTP API port, 0 for any free port, -1 for no HTTP API"));

    // Clients.
    t << Option("heartbeat", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Clients,
        V::duration(&Config::heartbeatMs, 1000, V::Zero::Refused),
        QT_TRANSLATE_NOOP("ConfigLoader", "Drop a client idle longer than this; units ms, s, m"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Every frame a client sends (text, binary, pong) renews it; the connection is "
                 "then aborted, never closed gracefully."))
             .live();
    t << Option("ping-interval", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Clients,
        V::duration(&Config::pingIntervalMs, 0, V::Zero::Allowed),
        QT_TRANSLATE_NOOP("ConfigLoader", "Ping every client this often, 0 to never ping"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "A browser that only answers pings then stays online; 0 is the seed's "
                 "behaviour (silent for the heartbeat: dropped)."))
             .live();
    t << Option("threads", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Clients,
        V::count(&Config::threads, 0, 256),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Threads for the WebSocket sockets; 1 runs everything on one event loop"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "With N > 1 the sockets' reads, writes and TLS run on N - 1 socket threads and "
                 "the uid registry, the router and every limit stay on the main thread. 0 uses "
                 "the cores available, or the PUSHCONSOLE_THREADS environment variable when set."))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "the cores available"));
    t << Option("bind-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Clients,
        V::duration(&Config::bindTimeoutMs, 100, V::Zero::Refused),
        QT_TRANSLATE_NOOP("ConfigLoader", "Close a client that has not sent its uid by then"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "the heartbeat"))
             .example("10s")
             .live();
    t << Option("shutdown-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Clients,
        V::duration(&Config::shutdownTimeoutMs, 0, V::Zero::Allowed),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "On SIGTERM, time clients get to receive what was queued for them before they are "
            "dropped; 0 to drop them at once"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Whoever is left then is reset, and what it did not get is logged and counted "
                 "(pushconsole_dropped_bytes_total with reason shutdown)."))
             .live();
    t << Option("max-conns-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Clients,
        V::count(&Config::maxConnsPerUid, 0, 100000),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "Connections one uid may hold; the oldest is closed, 0 for no cap"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Without signed tokens anyone can claim a uid, and so push its owner out this "
                 "way; with tokens only a connection of the same token is closed (see "
                 "--max-conns-per-token)."))
             .live();

    // Limits.
    t << Option("max-line", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Limits,
        V::size(&Config::maxLine),
        QT_TRANSLATE_NOOP("ConfigLoader", "Longest push request line; units K, M, G"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "A longer line on the push port gets \"error: line too long\" and the "
                 "connection is closed; a longer HTTP push gets 413."))
             .live();
    t << Option("max-message", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Limits,
        V::size(&Config::maxMessage),
        QT_TRANSLATE_NOOP("ConfigLoader", "Largest WebSocket message a client may send"))
             .live();
    t << Option("max-frame", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Limits,
        V::size(&Config::maxFrame),
        QT_TRANSLATE_NOOP("ConfigLoader", "Largest WebSocket frame a client may send"))
             .live();
    t << Option("max-output", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Limits,
        V::size(&Config::maxOutput),
        QT_TRANSLATE_NOOP("ConfigLoader", "Drop a client whose unsent output exceeds this"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Counted in real memory: the queued bytes plus their bookkeeping."))
             .live();
    t << Option("max-connections", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Limits,
        V::count(&Config::maxConnections, 0, 10000000),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "WebSocket connections in all, 0 for the open-file limit less 512"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "The 512 descriptors are kept for backends and files. Connections refused by "
                 "a limit are reset at once and logged (at most one line a second during a "
                 "flood)."))
             .live();
    t << Option("max-conns-per-ip", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Limits,
        V::count(&Config::maxConnsPerIp, 1, 10000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "WebSocket connections from one address"))
             .more(QT_TRANSLATE_NOOP(
                 "ConfigLoader", "Generous by default: many users may share a NAT address."))
             .live();
    t << Option("per-ip-exempt", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"), S::Limits,
        V::subnets(&Config::perIpExempt),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Sources --max-conns-per-ip does not apply to, e.g. a proxy; \"none\" for none"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "A reverse proxy on this machine that does not name its clients connects "
                 "every user from loopback."))
             .live();
    t << Option("max-unbound", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Limits,
        V::count(&Config::maxUnbound, 1, 10000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connections that have not sent their uid yet"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Past it the oldest connection without a uid is dropped to admit the new one "
                 "(a connection flood)."))
             .live();

    // Push port.
    t << Option("max-text-conns", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::PushPort,
        V::count(&Config::maxTextConnections, 1, 1000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connections on the push port"))
             .live();
    t << Option("max-pending-replies", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::PushPort,
        V::count(&Config::maxPendingReplies, 1, 10000000),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Unread replies (or replies waiting for Redis) before a push connection is no "
            "longer read"))
             .live();
    t << Option("text-idle-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::PushPort,
        V::duration(&Config::textIdleTimeoutMs, 100, V::Zero::Off),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close a push connection that sent nothing (and waits for no reply) this long, 0 "
            "to never"))
             .live();
    t << Option("text-line-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::PushPort,
        V::duration(&Config::textLineTimeoutMs, 100, V::Zero::Off),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close a push connection whose line stays unfinished this long (a slowloris), 0 "
            "to never"))
             .live();
    t << Option("text-allow", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"), S::PushPort,
        V::subnets(&Config::textAllow),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Besides loopback, admit these sources to the push port, e.g. "
            "10.0.0.0/8,192.168.1.5"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Your application servers, when --text-bind is not 127.0.0.1; everyone else is "
                 "refused at accept."))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "loopback only"))
             .example("10.0.0.0/8,192.168.1.5")
             .live();

    // HTTP API.
    t << Option("http-api-key-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::HttpApi,
        V::file(&Config::httpApiKeyFile,
            QT_TRANSLATE_NOOP(
                "ConfigLoader", "expected the name of a file that holds the API key")),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Require \"Authorization: Bearer KEY\" on /api/* and /metrics; KEY is read from "
            "this file"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Read at start: one line, printable ASCII, no spaces. /healthz stays open (it "
                 "says only \"ok\" without the key). A relative name is relative to the working "
                 "directory."))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "no key"))
             .example("/etc/pushconsole/api.key")
             .live();
    t << Option("http-host", QT_TRANSLATE_NOOP("ConfigLoader", "names"), S::HttpApi,
        V::hostNames(&Config::httpHosts),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Host names the HTTP API answers to besides IP addresses and localhost, e.g. "
            "api.example.com; \"*\" for any"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Against DNS rebinding; e.g. the public name a reverse proxy passes on."))
             .example("api.example.com")
             .live();
    t << Option("http-allow-origin", QT_TRANSLATE_NOOP("ConfigLoader", "origins"), S::HttpApi,
        V::origins(&Config::httpAllowOrigins),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Web pages of these origins may call the HTTP API, e.g. https://admin.example.com"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "They get CORS answers. No other web page may use the API: a request with an "
                 "Origin header is refused unless its origin is listed."))
             .unsetMeans(
                 QT_TRANSLATE_NOOP("ConfigLoader", "none; any request with an Origin is refused"))
             .example("https://admin.example.com")
             .live();
    t << Option("http-public-metrics", nullptr, S::HttpApi, V::flag(&Config::httpPublicMetrics),
        QT_TRANSLATE_NOOP("ConfigLoader", "Serve /metrics without the API key"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "For a scraper that cannot send it."))
             .example("true")
             .live();
    t << Option("http-tls", nullptr, S::HttpApi, V::flag(&Config::httpTls),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Serve the HTTP API (and the admin stream) over TLS with --tls-cert and --tls-key"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "The certificate of the WebSocket port, for one name and one renewal; a reload "
                 "reads it again for both (new connections get the new one). A plain-HTTP client "
                 "is dropped at the handshake. Changing this option needs a restart."))
             .example("true");
    t << Option("http-test-page", nullptr, S::HttpApi, V::flag(&Config::httpTestPage),
        QT_TRANSLATE_NOOP("ConfigLoader", "Serve the browser test page at / on the HTTP port"))
             .example("true")
             .live();
    t << Option("max-http-conns", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::HttpApi,
        V::count(&Config::maxHttpConnections, 1, 1000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connections on the HTTP port; more are reset at accept"))
             .live();
    t << Option("http-max-output", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::HttpApi,
        V::size(&Config::httpMaxOutput),
        QT_TRANSLATE_NOOP("ConfigLoader", "Unsent HTTP answers before a client is no longer read"))
             .live();
    t << Option("http-max-in-flight", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::HttpApi,
        V::count(&Config::httpMaxInFlight, 1, 100000),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "HTTP requests read but not answered before a client is no longer read"))
             .live();
    t << Option("http-request-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::HttpApi,
        V::duration(&Config::httpRequestTimeoutMs, 100, V::Zero::Refused),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Time from the first byte of an HTTP request to its last; then 408 and closed"))
             .live();
    t << Option("http-idle-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::HttpApi,
        V::duration(&Config::httpIdleTimeoutMs, 100, V::Zero::Refused),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Close an HTTP connection idle between requests, or not reading its answers, this "
            "long"))
             .live();
    t << Option("max-admin-streams", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::HttpApi,
        V::count(&Config::maxAdminStreams, 0, 1000),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Attached consoles (admin streams, GET /api/events) at once; one more gets 503"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "0 refuses every admin stream."))
             .live();
    t << Option("admin-max-output", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::HttpApi,
        V::size(&Config::adminMaxOutput, 64 * 1024),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Unsent output of one admin stream; past it events are only counted as skipped"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Counted in real bytes, like a WebSocket client's; presence changes wait merged "
                 "per uid, and a stream too far behind gets a fresh presence snapshot."))
             .live();
    t << Option("admin-max-event-rate", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::HttpApi,
        V::count(&Config::adminMaxEventRate, 1, 1000000),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Events sent to one admin stream per second; more are counted as skipped, by type"))
             .live();

    // Signed uid tokens.
    t << Option("auth-secret-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Tokens,
        V::file(&Config::authSecretFile),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "First message must be an HS256 token signed with this secret (uid = sub)"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "plain uids"))
             .example("/etc/pushconsole/token.secret")
             .live();
    t << Option("auth-public-key", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Tokens,
        V::file(&Config::authPublicKeyFile),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "First message must be an RS256/ES256 token verified with this PEM key"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "Excludes --auth-secret-file."))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "plain uids"))
             .example("/etc/pushconsole/token.pub")
             .live();
    t << Option("auth-leeway", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Tokens,
        V::duration(&Config::authLeewayMs, 0, V::Zero::Allowed),
        QT_TRANSLATE_NOOP("ConfigLoader", "Clock difference allowed for exp, nbf and iat"))
             .live();
    t << Option("auth-audience", QT_TRANSLATE_NOOP("ConfigLoader", "text"), S::Tokens,
        V::claimText(&Config::authAudience),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Tokens must name this audience in aud, a string or an array holding it"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "not checked"))
             .example("push.example.com")
             .live();
    t << Option("auth-issuer", QT_TRANSLATE_NOOP("ConfigLoader", "text"), S::Tokens,
        V::claimText(&Config::authIssuer),
        QT_TRANSLATE_NOOP("ConfigLoader", "Tokens must have this iss"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "not checked"))
             .example("https://shop.example.com")
             .live();
    t << Option("auth-max-age", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Tokens,
        V::duration(&Config::authMaxAgeMs, 1000, V::Zero::Off),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Longest token lifetime: iat required, exp - iat at most this, 0 for no limit"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "A token's iat may not be in the future."))
             .example("10m")
             .live();
    t << Option("max-conns-per-token", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Tokens,
        V::count(&Config::maxConnsPerToken, 0, 100000),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "With tokens: connections bound with one token (jti); the oldest of that token is "
            "closed, never another token's, 0 for no cap"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "A token without a jti is known by itself. When the uid is full "
                 "(--max-conns-per-uid) and the new token has none to give up, the new connection "
                 "is refused (4001)."))
             .live();

    // TLS.
    t << Option("tls-cert", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Tls,
        V::file(&Config::tlsCertificate),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "PEM certificate (chain) for wss:// (and https with --http-tls); needs --tls-key"))
             .example("/etc/pushconsole/fullchain.pem")
             .live();
    t << Option("tls-key", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Tls,
        V::file(&Config::tlsKey),
        QT_TRANSLATE_NOOP("ConfigLoader", "PEM private key for wss://; needs --tls-cert"))
             .example("/etc/pushconsole/privkey.pem")
             .live();

    // Reverse proxies.
    t << Option("trusted-proxies", QT_TRANSLATE_NOOP("ConfigLoader", "subnets"), S::Proxies,
        V::subnets(&Config::trustedProxies),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Reverse proxies whose X-Forwarded-For (and PROXY header) names the client, e.g. "
            "127.0.0.1,10.0.0.0/8"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "The right-most address that is not itself one of these is the client. The "
                 "per-address limit, the log and the console then see the client instead of "
                 "the proxy; anyone else's X-Forwarded-For is ignored."))
             .example("127.0.0.1,::1")
             .live();
    t << Option("proxy-protocol", nullptr, S::Proxies, V::flag(&Config::proxyProtocol),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "The WebSocket port expects a PROXY protocol v1/v2 header from --trusted-proxies "
            "and refuses it from others"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "The header must come within 5 s. nginx: \"proxy_protocol on;\" in a stream "
                 "server; HAProxy: \"send-proxy\" or \"send-proxy-v2\" on the server line."))
             .example("true")
             .live();

    // Cluster.
    t << Option("redis", QT_TRANSLATE_NOOP("ConfigLoader", "url"), S::Cluster,
        V::redisUrl(&Config::redisUrl),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Cluster mode: share presence and pushes with other gateways through this Redis, "
            "redis://[[user]:password@]host[:port][/db]"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "a single node"))
             .example("redis://:password@10.0.0.2:6379/0")
             .mayHoldPassword();
    t << Option("node-id", QT_TRANSLATE_NOOP("ConfigLoader", "id"), S::Cluster,
        V::nodeId(&Config::nodeId),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "This gateway's name in the cluster, 1-64 of A-Z a-z 0-9 _ . -"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "hostname-pid"))
             .example("gw1");
    t << Option("cluster-ttl", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Cluster,
        V::duration(&Config::clusterTtlMs, 1000, V::Zero::Refused, 10 * 60 * 1000),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "A node that stops renewing its presence is dropped after this"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "A node renews it every third of this; one that crashed or was cut off is "
                 "dropped by the others."));
    t << Option("redis-timeout", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Cluster,
        V::duration(&Config::redisTimeoutMs, 100, V::Zero::Refused),
        QT_TRANSLATE_NOOP("ConfigLoader", "Connect and command timeout for Redis"));
    t << Option("redis-password-file", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Cluster,
        V::file(&Config::redisPasswordFile, nullptr),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Log in to Redis with the password in this file (read at start), not one in the "
            "URL"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "White space around it is trimmed. It keeps the password off the command "
                 "line, where ps shows it; the URL then names at most a user: "
                 "redis://push@10.0.0.2:6379/0."))
             .example("/etc/pushconsole/redis.password");
    t << Option("cluster-max-in-flight", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Cluster,
        V::size(&Config::clusterMaxInFlight, 64 * 1024, OptionValue::MaxSize),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Pushes awaiting Redis (publishes, offline stores), in bytes; past it they answer "
            "fail"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "Counted in the bytes they hold, so a Redis slower than the pushes cannot make "
                 "the process grow."));

    // Offline delivery.
    t << Option("offline-ttl", QT_TRANSLATE_NOOP("ConfigLoader", "duration"), S::Offline,
        V::offlineTtl(&Config::offlineTtlMs),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Keep pushes to a uid online nowhere this long (seconds, or 30m) and deliver them "
            "when it binds; the reply is \"queued\""))
             .more(
                 QT_TRANSLATE_NOOP("ConfigLoader", "Up to 10 days. Off: such pushes get \"fail\"."))
             .example("3600");
    t << Option("offline-max-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Offline,
        V::count(&Config::offlineMaxPerUid, 1, 1000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Stored messages per uid; the oldest is dropped"));
    t << Option("offline-max-total", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Offline,
        V::count(&Config::offlineMaxTotal, 1, 100000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Stored messages in all; the oldest is dropped"));
    t << Option("offline-max-bytes-per-uid", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Offline,
        V::size(&Config::offlineMaxBytesPerUid, 1024, qint64(1) << 30),
        QT_TRANSLATE_NOOP("ConfigLoader",
            "Stored payload bytes per uid; the oldest is dropped, a larger push is not stored"));
    t << Option("offline-max-bytes", QT_TRANSLATE_NOOP("ConfigLoader", "size"), S::Offline,
        V::size(&Config::offlineMaxBytes, 1024, qint64(1) << 40),
        QT_TRANSLATE_NOOP("ConfigLoader", "Stored payload bytes in all; the oldest is dropped"))
             .more(QT_TRANSLATE_NOOP(
                 "ConfigLoader", "Drops are counted and logged. Redis keeps its store in memory."));
    t << Option("offline-db", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Offline,
        V::file(&Config::offlineDb),
        QT_TRANSLATE_NOOP("ConfigLoader", "SQLite file of the offline store on a single node"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader",
                 "The application data folder is ~/.local/share/pushconsole/pushconsole for "
                 "most users. In cluster mode the messages are kept in Redis instead."))
             .unsetMeans(
                 QT_TRANSLATE_NOOP("ConfigLoader", "offline.sqlite in the application data folder"))
             .example("/var/lib/pushconsole/offline.sqlite");

    // Logging.
    t << Option("log-level", QT_TRANSLATE_NOOP("ConfigLoader", "level"), S::Logging,
        V::logLevel(&Config::logLevel),
        QT_TRANSLATE_NOOP("ConfigLoader", "debug (every push and message), info, warning or error"))
             .live();
    t << Option("log-buffer", QT_TRANSLATE_NOOP("ConfigLoader", "count"), S::Logging,
        V::count(&Config::logBuffer, 100, 10000000),
        QT_TRANSLATE_NOOP("ConfigLoader", "Events kept in memory for the console"));

    // The program and its console.
    t << Option("config", QT_TRANSLATE_NOOP("ConfigLoader", "file"), S::Console,
        V::file(&Config::configFile),
        QT_TRANSLATE_NOOP("ConfigLoader", "Read settings from this INI file (command line wins)"))
             .commandLineOnly();
    t << Option("no-gui", nullptr, S::Console, V::flag(&Config::noGui),
        QT_TRANSLATE_NOOP("ConfigLoader", "Run as a headless server, logging events to stdout"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "Also chosen when there is no display."))
             .example("true");
    t << Option("lang", QT_TRANSLATE_NOOP("ConfigLoader", "language"), S::Console,
        V::language(&Config::language),
        QT_TRANSLATE_NOOP("ConfigLoader", "Language of the console and messages: zh_CN or en"))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "the system's"))
             .example("zh_CN");
    t << Option("event-loop", QT_TRANSLATE_NOOP("ConfigLoader", "kind"), S::Console,
        V::choice(&Config::eventLoop,
            {{"epoll", Config::EventLoop::Epoll}, {"default", Config::EventLoop::Default},
                {"auto", Config::EventLoop::Auto}},
            QT_TRANSLATE_NOOP("ConfigLoader", "expected epoll or default"),
            std::optional(Config::EventLoop::Auto)),
        QT_TRANSLATE_NOOP(
            "ConfigLoader", "epoll (cost independent of idle clients) or default (Qt's)"))
             .more(QT_TRANSLATE_NOOP("ConfigLoader", "The console's window always uses Qt's own."))
             .unsetMeans(QT_TRANSLATE_NOOP("ConfigLoader", "epoll headless, default with a window"))
             .example("epoll");
    return t;
}

} // namespace

const QList<Option> &OptionTable::options()
{
    static const QList<Option> table = buildTable();
    return table;
}

const Option *OptionTable::find(const QString &name)
{
    for (const Option &o : options()) {
        if (name == QLatin1String(o.name))
            return &o;
    }
    return nullptr;
}

QString OptionTable::sectionTitle(OptionSection section)
{
    switch (section) {
    case OptionSection::Ports:
        return tr("Ports");
    case OptionSection::Clients:
        return tr("Clients");
    case OptionSection::Limits:
        return tr("Limits");
    case OptionSection::PushPort:
        return tr("Push port");
    case OptionSection::HttpApi:
        return tr("HTTP API");
    case OptionSection::Tokens:
        return tr("Tokens");
    case OptionSection::Tls:
        return tr("TLS");
    case OptionSection::Proxies:
        return tr("Proxies");
    case OptionSection::Cluster:
        return tr("Cluster");
    case OptionSection::Offline:
        return tr("Offline");
    case OptionSection::Logging:
        return tr("Logging");
    case OptionSection::Console:
        return tr("Console");
    }
    return {};
}

QString OptionTable::sectionNote(OptionSection section)
{
    switch (section) {
    case OptionSection::Ports:
        return tr("Where browsers connect (WebSocket), where backends push (the inner push "
                  "port) and the HTTP API. With port 0 the system picks a free port; the first "
                  "line of the log says which.");
    case OptionSection::Clients:
        return tr("How long WebSocket clients may stay silent, and how they are let go.");
    case OptionSection::Limits:
        return tr("What one client or one address may take. Sizes take K, M, G (powers of "
                  "1024).");
    case OptionSection::PushPort:
        return tr("The inner port backends write JSON lines to. Anyone who can reach it can "
                  "push to any uid: keep it on loopback.");
    case OptionSection::HttpApi:
        return tr("POST /api/push, who is online, disconnects, /healthz and /metrics "
                  "(Prometheus).");
    case OptionSection::Tokens:
        return tr("Signed uid tokens: the first message must be a JWT whose \"sub\" is the "
                  "uid. One of an HS256 secret file or an RS256/ES256 public key.");
    case OptionSection::Tls:
        return tr("wss:// with a PEM certificate chain and its private key. TLS 1.2 and 1.3 "
                  "only; TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305 only (Mozilla's "
                  "\"intermediate\" configuration).");
    case OptionSection::Proxies:
        return tr("Reverse proxies (nginx, HAProxy, a load balancer) in front of the WebSocket "
                  "port.");
    case OptionSection::Cluster:
        return tr("Gateways that share one Redis route pushes to each other's clients. Off "
                  "without --redis.");
    case OptionSection::Offline:
        return tr("Offline delivery: pushes to a uid online nowhere wait for it. Off while "
                  "--offline-ttl is 0.");
    case OptionSection::Logging:
        return tr("Events go to stdout headless (TIME LEVEL EVENT key=value) and to the "
                  "console's log.");
    case OptionSection::Console:
        return tr("How the program runs: with its window, or headless.");
    }
    return {};
}

QString OptionTable::defaultText(const Option &option)
{
    const QString text = option.value.describe(Config());
    if (!text.isEmpty())
        return text;
    return option.unset ? tr(option.unset) : tr("none");
}

bool OptionTable::defaultIsValue(const Option &option)
{
    const Config defaults;
    return !option.value.isFlag() && !option.value.format(defaults).isEmpty()
        && option.value.describe(defaults) == option.value.format(defaults);
}

QString OptionTable::helpLine(const Option &option)
{
    if (!option.iniKey) // --config: nothing to default to
        return tr("%1.").arg(tr(option.help));
    // A value reads "(default 55s)", a meaning "(default: the heartbeat)".
    if (option.unset && option.value.describe(Config()).isEmpty())
        return tr("%1 (default: %2).").arg(tr(option.help), defaultText(option));
    return tr("%1 (default %2).").arg(tr(option.help), defaultText(option));
}
