#pragma once

#include "Event.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

// Every setting of the gateway with its default. ConfigLoader fills it from
// an INI file and the command line; everything else only reads it.
struct Config
{
    QHostAddress wsBind = QHostAddress(QHostAddress::AnyIPv4);
    quint16 wsPort = 8013;
    // Threads the WebSocket sockets' reads and writes run on (--threads):
    // 1 is one event loop for everything; N > 1 puts the sockets on N - 1
    // socket threads and keeps the rest on the main thread; 0 means the
    // cores available (or PUSHCONSOLE_THREADS when set).
    int threads = 0;
    // The push port is an inner port: loopback unless the operator says so.
    QHostAddress textBind = QHostAddress(QHostAddress::LocalHost);
    quint16 textPort = 5678;
    // The HTTP API pushes and disconnects too: loopback unless the operator
    // says so, and an API key when it is exposed.
    QHostAddress httpBind = QHostAddress(QHostAddress::LocalHost);
    int httpPort = 2121; // -1: no HTTP API
    QString httpApiKeyFile; // empty: /api/* needs no key
    qint64 httpIdleTimeoutMs = 60 * 1000; // an HTTP connection silent this long is closed
    // What one HTTP client may hold (see HttpServer), and how many there are.
    int maxHttpConnections = 256;
    qint64 httpMaxOutput = 1024 * 1024; // unsent answers before a client is not read
    int httpMaxInFlight = 32; // requests read but not answered before a client is not read
    qint64 httpRequestTimeoutMs = 10 * 1000; // first byte of a request to its last
    // Who may use it: web pages of these origins ("https://host[:port]",
    // lower case); by default none, so no web page can push.
    QStringList httpAllowOrigins;
    // Host names served besides IP literals and localhost (lower case; "*":
    // any), against DNS rebinding.
    QStringList httpHosts;
    bool httpPublicMetrics = false; // /metrics without the API key
    bool httpTestPage = false; // serve the browser test page at /
    bool httpTls = false; // https with tlsCertificate and tlsKey
    // The admin stream (GET /api/events, docs/admin-stream.md): streams at
    // once, unsent output each (real bytes) and events sent a second each.
    int maxAdminStreams = 8;
    qint64 adminMaxOutput = 4 * 1024 * 1024;
    int adminMaxEventRate = 2000;

    qint64 heartbeatMs = 55 * 1000; // idle connections are dropped after this
    qint64 pingIntervalMs = 20 * 1000; // 0: never ping (the seed's behaviour)
    qint64 bindTimeoutMs = -1; // -1: same as the heartbeat
    qint64 closeTimeoutMs = 2000; // a closing peer gets this long to answer
    // On SIGTERM, clients that read get this long to receive what was
    // queued for them (and to answer the close); then they are aborted.
    qint64 shutdownTimeoutMs = 10 * 1000;

    qint64 maxLine = 1024 * 1024; // text port request line
    qint64 maxMessage = 1024 * 1024; // incoming WebSocket message
    qint64 maxFrame = 1024 * 1024; // incoming WebSocket frame
    qint64 maxOutput = 8 * 1024 * 1024; // unsent bytes per client before it is dropped
    int maxConnsPerUid = 16;

    // Limits that keep one client or one address from taking the process.
    int maxConnections = 0; // WebSocket connections; 0: the descriptor limit less a reserve
    int maxConnsPerIp = 1024; // generous: many users may share a NAT address
    // Sources the per-address cap does not apply to: a reverse proxy on this
    // machine connects every user from loopback.
    QList<QPair<QHostAddress, int>> perIpExempt = {
        QHostAddress::parseSubnet(QStringLiteral("127.0.0.0/8")),
        QHostAddress::parseSubnet(QStringLiteral("::1/128")),
    };
    int maxUnbound = 10000; // connected but no uid yet (a connection flood)
    // Reverse proxies whose word on the client's address is taken: their
    // X-Forwarded-For, and with proxyProtocol their PROXY header. Per-address
    // limits, the log and the console then see the client, not the proxy.
    QList<QPair<QHostAddress, int>> trustedProxies;
    // The WebSocket port expects a PROXY protocol header (v1 or v2) from
    // trusted proxies and refuses one from anyone else.
    bool proxyProtocol = false;
    int maxTextConnections = 1024;
    int maxPendingReplies = 4096; // unsent replies before a push connection is not read
    // A push connection that sent nothing (and waits for no reply) this long
    // is closed, and so is one whose line stays unfinished this long (a
    // slowloris holding one of --max-text-conns). 0: off.
    qint64 textIdleTimeoutMs = 5 * 60 * 1000;
    qint64 textLineTimeoutMs = 30 * 1000;

    // The push port admits loopback and these subnets; everyone else is
    // refused at accept.
    QList<QPair<QHostAddress, int>> textAllow;

    // Signed uid tokens (JWT): at most one of these; empty: plain uids.
    QString authSecretFile; // HS256
    QString authPublicKeyFile; // RS256 or ES256
    qint64 authLeewayMs = 30 * 1000;
    QString authAudience; // empty: "aud" not checked
    QString authIssuer; // empty: "iss" not checked
    qint64 authMaxAgeMs = 0; // 0: off; else "iat" required and exp - iat at most this
    // With tokens: connections bound with one token (its jti, or its
    // signature) may replace each other up to this many; they never close
    // another token's connection. 0: only the per-uid cap.
    int maxConnsPerToken = 4;

    // wss:// when both are set.
    QString tlsCertificate;
    QString tlsKey;

    // Cluster mode: several gateways share presence and pushes through one
    // Redis. Off while redisUrl is empty.
    QString redisUrl; // redis://[:password@]host[:port][/db]
    QString nodeId; // empty: hostname-pid
    qint64 clusterTtlMs = 15 * 1000; // a node that stops renewing is dropped after this
    qint64 redisTimeoutMs = 3000; // connect and command timeout
    // Read at start; keeps the password off the command line (ps shows it).
    QString redisPasswordFile;
    // Bytes of pushes published to other nodes and not answered by Redis
    // yet (overhead included); past it such pushes answer fail at once.
    qint64 clusterMaxInFlight = 64 * 1024 * 1024;
    // Offline delivery: pushes to a uid online nowhere wait this long for
    // it (0: off, the reply is "fail").
    qint64 offlineTtlMs = 0;
    int offlineMaxPerUid = 100;
    int offlineMaxTotal = 100000;
    // Payload bytes: one push of the largest default size (--max-line) fits
    // a uid; Redis keeps the total in memory, so a quarter of a 1 GiB one.
    qint64 offlineMaxBytesPerUid = 1024 * 1024;
    qint64 offlineMaxBytes = 256 * 1024 * 1024;
    QString offlineDb; // single node; empty: offline.sqlite in the application data folder

    Event::Level logLevel = Event::Level::Info;
    int logBuffer = 10000; // events kept in memory for the console

    bool noGui = false;
    // Auto: epoll when headless, Qt's own with a window (the platform's
    // dispatcher also pumps the window system's events).
    enum class EventLoop : quint8 { Auto, Default, Epoll };
    EventLoop eventLoop = EventLoop::Auto;
    QString language; // empty: follow the system locale
    QString configFile;

    qint64 effectiveBindTimeoutMs() const
    {
        return bindTimeoutMs < 0 ? heartbeatMs : bindTimeoutMs;
    }
};
