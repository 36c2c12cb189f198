#include "PushServer.h"

#include "AdminHub.h"
#include "ClusterLink.h"
#include "ConfigLoader.h"
#include "EpollEventDispatcher.h"
#include "Events.h"
#include "HttpApi.h"
#include "MetricList.h"
#include "OptionTable.h"
#include "RedisOfflineStore.h"
#include "RedisUrl.h"
#include "SocketThreads.h"
#include "SqliteOfflineStore.h"
#include "TextPushServer.h"
#include "TlsContext.h"
#include "TokenVerifier.h"
#include "Uid.h"
#include "WsFrame.h"
#include "WsGateway.h"

#include <QTimer>

#include <sys/resource.h>

PushServer::PushServer(const Config &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_log(config.logBuffer)
    , m_router(&m_registry, &m_log, &m_metrics)
    , m_gateway(std::make_unique<WsGateway>(m_config, &m_registry, &m_log, &m_metrics))
    , m_text(std::make_unique<TextPushServer>(m_config, &m_router, &m_log, &m_metrics))
    , m_http(std::make_unique<HttpApi>(m_config, httpContext()))
{
    AdminHub::Context admin;
    admin.registry = &m_registry;
    admin.log = &m_log;
    admin.metrics = &m_metrics;
    admin.cluster = [this] { return m_cluster.get(); };
    admin.offline = [this]() -> const OfflineStore * { return m_offline.get(); };
    admin.listening = [this] { return isListening(); };
    admin.startedAt = [this] { return m_startedAt; };
    admin.wsAddress = [this] { return wsAddress(); };
    admin.textAddress = [this] { return textAddress(); };
    admin.httpAddress = [this] { return httpAddress(); };
    m_admin = std::make_unique<AdminHub>(m_config, admin);
    connect(this, &PushServer::listeningChanged, m_admin.get(), &AdminHub::listeningChanged);

    m_router.setBacklogCheck([this] {
        const SocketThreads *threads = m_gateway ? m_gateway->socketThreads() : nullptr;
        return threads && threads->isBehind();
    });
    connect(m_gateway.get(), &WsGateway::allClosed, this, [this] {
        m_wsClosed = true;
        if (m_textClosed && m_adminClosed)
            finishShutdown();
    });
    connect(m_text.get(), &TextPushServer::allClosed, this, [this] {
        m_textClosed = true;
        if (m_wsClosed && m_adminClosed)
            finishShutdown();
    });
    connect(m_admin.get(), &AdminHub::allClosed, this, [this] {
        m_adminClosed = true;
        if (m_wsClosed && m_textClosed)
            finishShutdown();
    });
}

PushServer::~PushServer()
{
    // A sliced broadcast still under way reaches its targets and is
    // answered while everything it touches is still there.
    m_router.finishFanOuts();
    // Store and cluster replies still in flight are answered (as
    // disconnected) while they stop, and may still deliver: before the
    // connections go.
    m_router.setOfflineStore(nullptr);
    m_router.setCluster(nullptr);
    m_offline.reset();
    m_cluster.reset();
    // Connections reach into the registry and the log while they go.
    m_admin.reset();
    m_http.reset();
    m_text.reset();
    m_gateway.reset();
}

HttpApi::Context PushServer::httpContext()
{
    HttpApi::Context c;
    c.router = &m_router;
    c.registry = &m_registry;
    c.log = &m_log;
    c.metrics = &m_metrics;
    c.kick = [this](const QByteArray &uid, HttpApi::Context::KickDone done) {
        kickEverywhere(uid, std::move(done));
    };
    c.adminStream = [this](const HttpRequest &request, const HttpResponder &responder,
                        const QString &peer) { m_admin->handleRequest(request, responder, peer); };
    c.startedAt = [this] { return m_startedAt; };
    c.wsPort = [this] { return wsPort(); };
    c.metricsText = [this] {
        MetricInputs in;
        in.metrics = &m_metrics;
        in.registry = &m_registry;
        in.http = m_http ? m_http->httpServer() : nullptr;
        in.cluster = m_cluster.get();
        in.offline = m_offline.get();
        in.threads = m_gateway ? m_gateway->socketThreads() : nullptr;
        in.startedAt = m_startedAt;
        return MetricList::prometheus(in);
    };
    return c;
}

bool PushServer::loadSecurity(const Config &config, std::unique_ptr<TlsContext> *tls,
    std::unique_ptr<TokenVerifier> *verifier, QStringList *warnings, QString *error)
{
    std::unique_ptr<TlsContext> newTls;
    if (!config.tlsCertificate.isEmpty()) {
        newTls = TlsContext::load(config.tlsCertificate, config.tlsKey, error);
        if (!newTls)
            return false;
        *warnings += newTls->warnings();
    }
    std::unique_ptr<TokenVerifier> newVerifier;
    if (!config.authSecretFile.isEmpty())
        newVerifier = TokenVerifier::fromSecretFile(config.authSecretFile, error);
    else if (!config.authPublicKeyFile.isEmpty())
        newVerifier = TokenVerifier::fromPublicKeyFile(config.authPublicKeyFile, error);
    if ((!config.authSecretFile.isEmpty() || !config.authPublicKeyFile.isEmpty()) && !newVerifier)
        return false;
    if (newVerifier) {
        newVerifier->setLeeway(config.authLeewayMs / 1000);
        newVerifier->setAudience(config.authAudience);
        newVerifier->setIssuer(config.authIssuer);
        newVerifier->setMaxAge(config.authMaxAgeMs / 1000);
    }
    *tls = std::move(newTls);
    *verifier = std::move(newVerifier);
    return true;
}

PushServer::ReloadResult PushServer::reload(const Config &next)
{
    ReloadResult result;
    // Every option a reload can apply, taken from next; the others stay as
    // they run (and are listed when they differ).
    Config merged = m_config;
    for (const Option &option : OptionTable::options()) {
        if (!option.iniKey || option.value.format(m_config) == option.value.format(next))
            continue;
        const QString name = QString::fromLatin1(option.name);
        if (option.reloadable) {
            option.value.copy(next, merged);
            result.applied.append(name);
        } else {
            result.needRestart.append(name);
        }
    }
    // Files are read again whether their names changed or not: a renewed
    // certificate or a rotated key sits at the same path. Nothing changes
    // unless all of them can be read.
    std::unique_ptr<TlsContext> tls;
    std::unique_ptr<TokenVerifier> verifier;
    QStringList warnings;
    if (merged.httpTls && merged.tlsCertificate.isEmpty())
        result.error = tr("--http-tls needs --tls-cert and --tls-key");
    if (!result.error.isEmpty() || !loadSecurity(merged, &tls, &verifier, &warnings, &result.error)
        || !m_http->checkLive(merged, &result.error)) {
        result.applied.clear();
        result.needRestart.clear();
        logReload(result);
        return result;
    }
    result.ok = true;
    result.warnings = warnings;
    if (tls && (!m_tls || tls->fingerprint() != m_tls->fingerprint()))
        result.reloaded.append(QStringLiteral("tls-cert"));
    if (verifier && (!m_verifier || verifier->keyFingerprint() != m_verifier->keyFingerprint()))
        result.reloaded.append(QStringLiteral("auth-key"));
    // New connections see the new certificate and key; connected clients
    // keep the session they have (a TLS stream copies its configuration).
    m_tls = std::move(tls);
    m_verifier = std::move(verifier);
    m_gateway->setTlsContext(m_tls.get());
    m_http->httpServer()->setTlsContext(m_config.httpTls ? m_tls.get() : nullptr);
    m_gateway->setTokenVerifier(m_verifier.get());
    m_config = merged;
    m_gateway->applyLive(merged);
    m_text->applyLive(merged);
    m_admin->setConfig(merged);
    if (m_http->applyLive(merged))
        result.reloaded.append(QStringLiteral("http-api-key"));
    logReload(result);
    return result;
}

PushServer::ReloadResult PushServer::reloadFrom(const QStringList &arguments)
{
    const ConfigLoader::Result loaded = ConfigLoader::load(arguments);
    if (loaded.action != ConfigLoader::Action::Run) {
        ReloadResult result;
        result.error = loaded.action == ConfigLoader::Action::Fail
            ? loaded.error
            : tr("the command line asks for help or the version, not to run");
        logReload(result);
        return result;
    }
    return reload(loaded.config);
}

void PushServer::logReload(const ReloadResult &result)
{
    if (!result.ok) {
        m_log.append(Events::reloadRefused(result.error));
        return;
    }
    m_log.append(Events::reloadOk(result.applied, result.reloaded, result.needRestart));
    for (const QString &warning : result.warnings)
        m_log.append(
            Events::error(Event::Level::Warning, Events::why(Event::Reason::Warning, {warning})));
}

bool PushServer::start(QString *error)
{
    // Each part keeps its own copy of the settings, taken here: a change
    // made with setConfig() applies now, never halfway through a run.
    m_gateway->setConfig(m_config);
    m_text->setConfig(m_config);
    m_http->setConfig(m_config);
    m_admin->setConfig(m_config);
    QString why;
    QStringList warnings;
    if (!loadSecurity(m_config, &m_tls, &m_verifier, &warnings, &why)) {
        *error = why;
        m_log.append(
            Events::error(Event::Level::Error, Events::why(Event::Reason::StartFailed, {why})));
        return false;
    }
    for (const QString &warning : std::as_const(warnings))
        m_log.append(
            Events::error(Event::Level::Warning, Events::why(Event::Reason::Warning, {warning})));
    if (m_config.httpTls && !m_tls) {
        *error = tr("--http-tls needs --tls-cert and --tls-key");
        m_log.append(
            Events::error(Event::Level::Error, Events::why(Event::Reason::StartFailed, {*error})));
        return false;
    }
    m_gateway->setTlsContext(m_tls.get());
    m_http->httpServer()->setTlsContext(m_config.httpTls ? m_tls.get() : nullptr);
    m_gateway->setTokenVerifier(m_verifier.get());
    if (!startExtensions(&why)) {
        *error = why;
    } else if (!m_gateway->listen(&why)) {
        *error = tr("cannot listen for WebSocket clients on %1:%2: %3")
                     .arg(m_config.wsBind.toString())
                     .arg(m_config.wsPort)
                     .arg(why);
    } else if (!m_text->listen(&why)) {
        m_gateway->stopListening();
        *error = tr("cannot listen for pushes on %1:%2: %3")
                     .arg(m_config.textBind.toString())
                     .arg(m_config.textPort)
                     .arg(why);
    } else if (!m_http->listen(&why)) {
        m_gateway->stopListening();
        m_text->stopListening();
        *error = why;
    } else {
        if (SocketThreads *threads = m_gateway->socketThreads())
            threads->setCaughtUpHandler([this] { m_router.caughtUp(); });
        m_startedAt = QDateTime::currentDateTimeUtc();
        rlimit files = {};
        getrlimit(RLIMIT_NOFILE, &files);
        const bool epoll =
            qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
        // In the order of EventReasons.h; empty: not in use.
        QStringList args = {wsAddress(), textAddress(), httpAddress(),
            QString::number(quint64(files.rlim_cur)),
            (epoll ? QStringLiteral("epoll") : QStringLiteral("default"))
                + (m_gateway->threadCount() > 1
                        ? QStringLiteral(", threads %1").arg(m_gateway->threadCount())
                        : QString()),
            m_tls ? QStringLiteral("on") : QString()};
        args << (m_verifier ? QLatin1String(TokenVerifier::algorithmName(m_verifier->algorithm()))
                            : QString());
        QStringList proxies;
        for (const auto &subnet : m_config.trustedProxies)
            proxies << subnet.first.toString() + QLatin1Char('/') + QString::number(subnet.second);
        args << proxies.join(QLatin1Char(','))
             << (!proxies.isEmpty() && m_config.proxyProtocol ? QStringLiteral("on") : QString());
        args << (m_cluster ? QString::fromUtf8(m_cluster->nodeId()) : QString())
             << (m_cluster ? m_cluster->options().url.displayString() : QString())
             << (m_offline ? m_offline->description() : QString())
             << (m_tls && m_config.httpTls ? QStringLiteral("on") : QString());
        m_log.append(Events::listening(args));
        Q_EMIT listeningChanged(true);
        return true;
    }
    m_log.append(
        Events::error(Event::Level::Error, Events::why(Event::Reason::StartFailed, {*error})));
    return false;
}

bool PushServer::startExtensions(QString *error)
{
    // Built once: a console that stops and starts listening keeps its
    // cluster membership and its store.
    if (!m_cluster && !m_config.redisUrl.isEmpty()) {
        QString why;
        ClusterLink::Options o;
        const bool fromFile = !m_config.redisPasswordFile.isEmpty();
        o.url = RedisUrl::parse(m_config.redisUrl, &why,
            fromFile ? RedisUrl::PasswordSource::File : RedisUrl::PasswordSource::Url);
        if (!o.url.isValid()) {
            *error = tr("invalid Redis URL: %1").arg(why);
            return false;
        }
        if (fromFile) {
            o.url.password = RedisUrl::readPasswordFile(m_config.redisPasswordFile, &why);
            if (o.url.password.isEmpty()) {
                *error = why;
                return false;
            }
        }
        o.nodeId =
            m_config.nodeId.isEmpty() ? ClusterLink::defaultNodeId() : m_config.nodeId.toUtf8();
        o.ttlMs = m_config.clusterTtlMs;
        o.timeoutMs = int(m_config.redisTimeoutMs);
        o.maxInFlightBytes = m_config.clusterMaxInFlight;
        m_cluster = std::make_unique<ClusterLink>(o, &m_registry, &m_log, &m_metrics);
        m_cluster->setPushHandler([this](const QByteArray &origin, const QByteArray &line) {
            m_router.push(
                line, PushSource::Cluster, QLatin1String("node:") + QLatin1String(origin));
        });
        m_cluster->setKickHandler([this](const QByteArray &origin, const QByteArray &uid) {
            if (Uid::isValid(uid)) {
                m_gateway->kick(uid,
                    QStringLiteral("disconnected by operator on node %1")
                        .arg(QString::fromUtf8(origin)));
            }
        });
        m_router.setCluster(m_cluster.get());
        // Redis need not be up yet: the node serves its own clients and
        // joins when it can.
        m_cluster->start();
    }
    if (!m_offline && m_config.offlineTtlMs > 0) {
        OfflineStore::Limits limits;
        limits.ttlMs = m_config.offlineTtlMs;
        limits.maxPerUid = m_config.offlineMaxPerUid;
        limits.maxTotal = m_config.offlineMaxTotal;
        limits.maxBytesPerUid = m_config.offlineMaxBytesPerUid;
        limits.maxBytes = m_config.offlineMaxBytes;
        if (m_cluster) {
            m_offline = std::make_unique<RedisOfflineStore>(limits, m_cluster.get(), &m_metrics);
        } else {
            auto store = std::make_unique<SqliteOfflineStore>(limits, &m_metrics);
            const QString path = m_config.offlineDb.isEmpty() ? SqliteOfflineStore::defaultPath()
                                                              : m_config.offlineDb;
            if (!store->open(path, error))
                return false;
            m_offline = std::move(store);
        }
        m_offline->setEventLog(&m_log);
        // Stored messages go out at the pace each client reads, within its
        // output cap; the delivery follows binds and the store by itself.
        OfflineDelivery::Options delivery;
        delivery.maxOutput = m_config.maxOutput;
        delivery.maxMessage = m_config.maxLine;
        delivery.lowWaterBytes = qMin(delivery.lowWaterBytes, m_config.maxOutput / 4);
        m_router.setOfflineStore(m_offline.get(), delivery);
    }
    return true;
}

void PushServer::stopListening()
{
    const bool was = isListening();
    m_gateway->stopListening();
    m_text->stopListening();
    m_http->stopListening();
    if (was) {
        m_log.append(Events::listenersClosed());
        Q_EMIT listeningChanged(false);
    }
}

bool PushServer::isListening() const
{
    return m_gateway->isListening() || m_text->isListening() || m_http->isListening();
}

void PushServer::shutdown()
{
    if (m_shuttingDown)
        return;
    stopListening();
    // Leave the cluster at once rather than wait for the TTL.
    if (m_cluster)
        m_cluster->stop();
    m_shuttingDown = true;
    m_wsClosed = m_textClosed = m_adminClosed = false;
    // A sliced broadcast under way was answered or is about to be: its
    // targets get it before they are asked to close, and its backend its
    // reply before the push connections close.
    m_router.finishFanOuts();
    // No push is read from now on, so the queues only shrink: what was
    // answered ok is delivered to every client that reads, within
    // --shutdown-timeout.
    m_text->closeAll();
    m_http->closeAll();
    m_admin->closeAll();
    m_gateway->closeAll(WsFrame::GoingAway, "server shutting down", m_config.shutdownTimeoutMs);
    // The gateway's deadline aborts clients that are too slow; this is the
    // backstop should the loop be too busy to get there in time.
    QTimer::singleShot(m_config.shutdownTimeoutMs + m_config.closeTimeoutMs + 2000, this,
        [this] { finishShutdown(); });
}

void PushServer::finishShutdown()
{
    if (m_shuttingDown) {
        m_shuttingDown = false;
        Q_EMIT shutdownFinished();
    }
}

void PushServer::setConfig(const Config &config)
{
    m_config = config;
}

quint16 PushServer::wsPort() const
{
    return m_gateway->port();
}

quint16 PushServer::textPort() const
{
    return m_text->port();
}

QString PushServer::wsAddress() const
{
    return m_gateway->addressString();
}

QString PushServer::textAddress() const
{
    return m_text->addressString();
}

quint16 PushServer::httpPort() const
{
    return m_http->port();
}

QString PushServer::httpAddress() const
{
    return m_http->addressString();
}

int PushServer::kick(const QByteArray &uid)
{
    return m_gateway->kick(uid, QStringLiteral("disconnected by operator"));
}

void PushServer::kickEverywhere(
    const QByteArray &uid, std::function<void(int closed, int nodes)> done)
{
    const int closed = kick(uid);
    if (!m_cluster || m_cluster->remoteNodesOf(uid).isEmpty()) {
        done(closed, 0);
        return;
    }
    m_cluster->kickRemote(uid, [closed, done](int nodes) { done(closed, nodes); });
}
