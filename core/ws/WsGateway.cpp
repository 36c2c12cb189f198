#include "WsGateway.h"

#include "Config.h"
#include "EventLog.h"
#include "Events.h"
#include "ForwardedFor.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "SessionRegistry.h"
#include "SocketThreads.h"
#include "StreamSocket.h"
#include "TokenVerifier.h"
#include "Uid.h"
#include "WsConnection.h"
#include "WsHandshake.h"

#include <QDateTime>
#include <QThread>

#include <sys/resource.h>

WsGateway::WsGateway(const Config &config, SessionRegistry *registry, EventLog *log,
    Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_registry(registry)
    , m_log(log)
    , m_metrics(metrics)
    , m_listener([this](int fd, const PeerAddress &peer) { accepted(fd, peer); })
    , m_heartbeat(static_cast<Heartbeat::Handler *>(this))
    , m_refusals(log)
    , m_intake([this](int fd, const PeerAddress &proxy, ProxyIntake::Outcome outcome,
                   const ProxyHeader &header,
                   const char *reason) { proxyHeaderRead(fd, proxy, outcome, header, reason); })
    , m_evictions(log, Event::Type::Closed, Event::Reason::EvictionsRepeated)
{
    m_drainDeadline.setSingleShot(true);
    connect(&m_drainDeadline, &QTimer::timeout, this, &WsGateway::drainTimedOut);
    m_listener.setOverloadHandler([this] {
        m_log->append(Events::error(Event::Level::Warning, Events::why(Event::Reason::OutOfFdsWs)));
    });
}

WsGateway::~WsGateway()
{
    // Sockets go with their connections (children); no events on the way out.
    m_heartbeat.stop();
    // Before the socket threads stop: each connection closes its socket.
    qDeleteAll(m_connections);
    m_connections.clear();
}

void WsGateway::applyDerived()
{
    m_heartbeat.setTimeouts(m_config.heartbeatMs, m_config.pingIntervalMs,
        m_config.effectiveBindTimeoutMs(), m_config.closeTimeoutMs);
    m_maxConnections = m_config.maxConnections;
    if (m_maxConnections <= 0) {
        // Keep descriptors in reserve for the push port, the HTTP API and
        // files, so a flood of clients cannot lock the backends out.
        rlimit files = {};
        getrlimit(RLIMIT_NOFILE, &files);
        m_maxConnections = int(qMax<qint64>(64, qint64(files.rlim_cur) - 512));
    }
    // The header comes first thing from a proxy; a connection that does not
    // send it soon is not a proxy speaking the protocol.
    m_intake.setTimeout(
        qMin<qint64>(ProxyIntake::DefaultTimeoutMs, m_config.effectiveBindTimeoutMs()));
}

void WsGateway::applyLive(const Config &config)
{
    // The address and port stay: they need a restart (PushServer::reload
    // keeps them as they are in the copy it gives).
    m_config = config;
    applyDerived();
}

int WsGateway::resolveThreads(int configured)
{
    if (configured > 0)
        return configured;
    bool ok = false;
    const int fromEnvironment = qEnvironmentVariableIntValue("PUSHCONSOLE_THREADS", &ok);
    if (ok && fromEnvironment > 0)
        return qMin(fromEnvironment, 256);
    return qMax(1, QThread::idealThreadCount());
}

int WsGateway::threadCount() const
{
    return m_threads ? m_threads->workerCount() + 1 : 1;
}

bool WsGateway::listen(QString *error)
{
    m_closingAll = false;
    applyDerived();
    // Threads start once and stay: a change of --threads needs a restart.
    const int threads = resolveThreads(m_config.threads);
    if (threads > 1 && !m_threads)
        m_threads = std::make_unique<SocketThreads>(threads - 1, SocketThreads::DefaultInboxBytes);
    if (!m_listener.listen(m_config.wsBind, m_config.wsPort, error))
        return false;
    m_heartbeat.start();
    return true;
}

void WsGateway::stopListening()
{
    m_listener.close();
}

bool WsGateway::isExempt(const PeerAddress &peer) const
{
    return peer.isInAnySubnet(m_config.perIpExempt);
}

bool WsGateway::isTrustedProxy(const PeerAddress &peer) const
{
    return peer.isInAnySubnet(m_config.trustedProxies);
}

bool WsGateway::admit(const PeerAddress &peer, bool checkAddress)
{
    Events::Why why;
    // Connections waiting for their PROXY header hold a descriptor and no
    // uid like any other.
    if (m_connections.size() + m_intake.size() >= m_maxConnections) {
        ++m_metrics->refusedTotal;
        why = Events::why(Event::Reason::ConnectionLimit, m_maxConnections);
    } else if (checkAddress && !admitAddress(peer)) {
        return false; // counted and reported there
    } else {
        // Full of connections that have not sent a uid: the oldest of them
        // makes room. Refusing instead would let a few thousand silent
        // sockets lock every real user out; a real client binds within
        // milliseconds, so it is never the oldest for long.
        while (m_heartbeat.unboundCount() + m_intake.size() >= m_config.maxUnbound) {
            WsConnection *oldest = m_heartbeat.oldestUnbound();
            if (!oldest)
                break;
            ++m_metrics->evictedUnbound;
            oldest->setEvicted();
            const QString reason =
                QStringLiteral("evicted: too many connections without a uid (%1)")
                    .arg(m_config.maxUnbound);
            m_evictions.report(Events::why(Event::Reason::EvictedUnbound, m_config.maxUnbound),
                oldest->peer().toString());
            oldest->abort(reason, DropReason::PeerGone);
        }
        // What is left are connections still sending their PROXY header,
        // which have no WebSocket to evict yet.
        if (m_heartbeat.unboundCount() + m_intake.size() < m_config.maxUnbound)
            return true;
        ++m_metrics->refusedUnbound;
        why = Events::why(Event::Reason::UnboundLimit, m_config.maxUnbound);
    }
    m_refusals.report(why, peer.toString());
    return false;
}

bool WsGateway::admitAddress(const PeerAddress &client)
{
    if (m_perIp.value(client.hostKey()) < m_config.maxConnsPerIp || isExempt(client))
        return true;
    ++m_metrics->refusedPerIp;
    m_refusals.report(
        Events::why(Event::Reason::AddressLimit, m_config.maxConnsPerIp), client.toString());
    return false;
}

void WsGateway::accepted(int fd, const PeerAddress &peer)
{
    const bool proxy = isTrustedProxy(peer);
    if (!admit(peer, !proxy)) {
        StreamSocket::resetAndClose(fd);
        return;
    }
    if (proxy && m_config.proxyProtocol) {
        m_intake.add(fd, peer);
        return;
    }
    open(fd, peer, !proxy);
}

void WsGateway::proxyHeaderRead(int fd, const PeerAddress &proxy, ProxyIntake::Outcome outcome,
    const ProxyHeader &header, const char *reason)
{
    if (outcome != ProxyIntake::Outcome::Ok) {
        if (outcome == ProxyIntake::Outcome::Closed) {
            qCDebug(lcGateway) << "proxy connection gone" << proxy.toString() << reason;
            return;
        }
        // A proxy that sends no header or a broken one is misconfigured:
        // worth a line, but one a second at most.
        ++m_metrics->rejected;
        m_refusals.report(Events::why(Event::Reason::ProxyHeaderRefused, {QLatin1String(reason)}),
            proxy.toString());
        return;
    }
    const PeerAddress client = header.hasAddress ? header.source : proxy;
    qCDebug(lcGateway) << "PROXY header from" << proxy.toString() << "client" << client.toString();
    if (isTrustedProxy(client)) {
        // A proxy behind a proxy: its X-Forwarded-For names the client.
        open(fd, client, false);
        return;
    }
    if (!admitAddress(client)) {
        StreamSocket::resetAndClose(fd);
        return;
    }
    open(fd, client, true);
}

void WsGateway::open(int fd, const PeerAddress &peer, bool counted)
{
    auto *c = new WsConnection(fd, peer, m_nextId++, this, this, m_tls, m_threads.get());
    m_connections.insert(c);
    if (counted)
        countPerIp(c);
    m_heartbeat.track(c);
    ++m_metrics->connectionsAccepted;
    ++m_metrics->connectionsOpen;
    qCDebug(lcGateway) << "accepted" << c->id() << peer.toString();
}

void WsGateway::countPerIp(WsConnection *c)
{
    ++m_perIp[c->peer().hostKey()];
    c->setPerIpCounted(true);
}

bool WsGateway::admitHandshake(WsConnection *c, const WsHandshake &handshake)
{
    if (c->isPerIpCounted()) {
        // Anyone can write this header; only a trusted proxy's is believed.
        if (!handshake.forwardedFor.isEmpty())
            qCDebug(lcGateway) << "X-Forwarded-For ignored: not from a trusted proxy" << c->id()
                               << c->peer().toString();
        return true;
    }
    const PeerAddress proxy = c->peer();
    PeerAddress client = proxy;
    if (!handshake.forwardedFor.isEmpty()) {
        const char *error = "";
        if (ForwardedFor::resolve(
                handshake.forwardedFor, m_config.trustedProxies, &client, &error)) {
            qCDebug(lcGateway) << "client" << c->id() << client.toString() << "via"
                               << proxy.toString();
        } else {
            client = proxy;
            warnForwardedFor(c, error);
        }
    }
    if (!admitAddress(client)) {
        c->setPeer(client);
        c->setCloseReason(QStringLiteral("too many connections from this address (%1)")
                              .arg(m_config.maxConnsPerIp),
            0);
        return false;
    }
    c->setPeer(client);
    countPerIp(c);
    return true;
}

void WsGateway::warnForwardedFor(const WsConnection *c, const char *error)
{
    const qint64 now = MonotonicClock::nowMs();
    if (m_forwardedForWarnedAt != 0 && now - m_forwardedForWarnedAt < 1000) {
        qCDebug(lcGateway) << error << c->id() << c->peer().toString();
        return;
    }
    m_forwardedForWarnedAt = now;
    Event e = Events::error(Event::Level::Warning,
        Events::why(Event::Reason::ForwardedForIgnored, {QLatin1String(error)}));
    e.connection = c->id();
    e.peer = c->peer().toString();
    m_log->append(std::move(e));
}

void WsGateway::connectionOpened(WsConnection *c, const WsHandshake &handshake)
{
    m_heartbeat.opened(c);
    // Behind a trusted proxy the forwarded client is the peer; an untrusted
    // source's X-Forwarded-For is ignored.
    m_log->append(Events::connected(c->id(), c->peer().toString(), handshake.path));
}

void WsGateway::connectionActive(WsConnection *c)
{
    m_heartbeat.touch(c);
}

void WsGateway::messageReceived(WsConnection *c, quint8 opcode, QByteArrayView data)
{
    ++m_metrics->messagesIn;
    m_metrics->bytesIn += quint64(data.size());
    if (opcode != WsFrame::Text)
        return; // binary frames only count as activity
    if (!c->isBound()) {
        bind(c, data);
        return;
    }
    if (!m_log->captures(Event::Level::Debug)) {
        m_log->noteUnbuilt(Event::Type::MessageIn);
        return;
    }
    m_log->append(Events::message(c->id(), c->uid(), data));
}

void WsGateway::bind(WsConnection *c, QByteArrayView message)
{
    QByteArray uid;
    QByteArray refusal;
    if (m_verifier) {
        // The first message is a signed token; the uid is its "sub".
        const TokenVerifier::Result r =
            m_verifier->verify(message, QDateTime::currentSecsSinceEpoch());
        uid = r.uid;
        refusal = r.reason;
        c->setTokenKey(r.tokenKey);
    } else {
        uid = Uid::fromBindMessage(message);
        refusal = "invalid uid";
    }
    if (uid.isEmpty()) {
        ++m_metrics->rejected;
        // Showing a bad uid helps; a token is a credential and never shown.
        const QByteArray shown = m_verifier
            ? QByteArray()
            : message.first(qMin<qsizetype>(message.size(), 80)).toByteArray();
        m_log->append(Events::rejected(Event::Level::Warning, c->id(), {}, c->peer().toString(),
            Events::fromEnglish(QString::fromLatin1(refusal)), message.size(), shown));
        c->close(WsFrame::PolicyViolation, refusal);
        return;
    }
    if (m_verifier && !makeRoomForToken(c, uid)) {
        ++m_metrics->refusedUidFull;
        m_log->append(Events::rejected(Event::Level::Warning, c->id(), uid, c->peer().toString(),
            Events::why(Event::Reason::UidLimitOtherTokens, m_config.maxConnsPerUid)));
        c->close(WsFrame::UidLimit, "too many connections for this uid");
        return;
    }
    // Without tokens anyone may claim any uid, so the cap closes the oldest
    // connection whoever it belongs to.
    WsConnection *oldest = m_registry->bind(c, uid, m_verifier ? 0 : m_config.maxConnsPerUid);
    m_heartbeat.bound(c);
    m_log->append(Events::bound(c->id(), uid, c->peer().toString()));
    if (oldest) {
        ++m_metrics->replacedByCap;
        oldest->close(WsFrame::UidLimit, "too many connections for this uid");
    }
}

bool WsGateway::makeRoomForToken(WsConnection *c, const QByteArray &uid)
{
    const SessionRegistry::Connections *list = m_registry->connections(uid);
    if (!list)
        return true;
    // A token only ever displaces its own connections: whoever holds a copy
    // of a token (a second tab, a replay) cannot close the others'.
    WsConnection *oldestOfToken = nullptr;
    int ofToken = 0;
    for (WsConnection *other : *list) {
        if (other->tokenKey() == c->tokenKey()) {
            if (!oldestOfToken)
                oldestOfToken = other;
            ++ofToken;
        }
    }
    const bool tokenFull = m_config.maxConnsPerToken > 0 && ofToken >= m_config.maxConnsPerToken;
    const bool uidFull =
        m_config.maxConnsPerUid > 0 && int(list->size()) >= m_config.maxConnsPerUid;
    if (!tokenFull && !uidFull)
        return true;
    if (!oldestOfToken)
        return false;
    ++m_metrics->replacedByCap;
    // close() unbinds it at once, so c takes its place.
    oldestOfToken->close(WsFrame::UidLimit, "too many connections for this token");
    return true;
}

void WsGateway::connectionAborting(WsConnection *c)
{
    m_heartbeat.forget(c);
}

void WsGateway::connectionClosing(WsConnection *c)
{
    m_registry->unbind(c);
    m_heartbeat.closing(c);
}

void WsGateway::connectionFinished(WsConnection *c, const QString &reason, int code)
{
    m_registry->unbind(c);
    m_heartbeat.forget(c);
    m_connections.remove(c);
    if (c->isPerIpCounted()) {
        const auto ip = m_perIp.find(c->peer().hostKey());
        if (ip != m_perIp.end() && --ip.value() <= 0)
            m_perIp.erase(ip);
    }
    --m_metrics->connectionsOpen;
    // Frames it had been sent (answered ok) and will never get: never silent.
    const qint64 lost = c->discardedBytes();
    if (lost > 0)
        m_metrics->droppedBytes[int(c->dropReason())] += quint64(lost);
    if (m_closingAll)
        m_drainLost += lost;
    c->deleteLater();
    // An eviction was reported already, at most a line a second.
    if (!c->isEvicted()) {
        m_log->append(
            Events::closed(c->id(), c->uid(), c->peer().toString(), Events::fromEnglish(reason),
                (MonotonicClock::nowMs() - c->connectedAtMs()) / 1000, code, lost));
    }
    checkAllClosed();
}

void WsGateway::checkAllClosed()
{
    if (m_closingAll && m_connections.isEmpty() && !m_allClosedSignalled) {
        m_allClosedSignalled = true;
        m_drainDeadline.stop();
        m_log->append(Events::shutdownDone(m_drainClients, m_drainAborted, m_drainLost));
        QMetaObject::invokeMethod(this, &WsGateway::allClosed, Qt::QueuedConnection);
    }
}

void WsGateway::handshakeRefused(WsConnection *c, const QString &reason)
{
    ++m_metrics->rejected;
    c->setCloseReason(QStringLiteral("handshake refused: ") + reason, 0);
    m_log->append(Events::rejected(Event::Level::Info, c->id(), {}, c->peer().toString(),
        Events::why(Event::Reason::HandshakeRefused, {reason})));
}

void WsGateway::protocolError(WsConnection *c, const QString &reason)
{
    ++m_metrics->rejected;
    m_log->append(Events::rejected(Event::Level::Warning, c->id(), c->uid(), c->peer().toString(),
        Events::fromEnglish(reason)));
}

void WsGateway::slowConsumer(WsConnection *c)
{
    ++m_metrics->droppedSlow;
    qCDebug(lcGateway) << "slow consumer" << c->id() << c->pendingBytes();
}

void WsGateway::evictIdle(WsConnection *c, qint64 idleMs)
{
    ++m_metrics->evictedIdle;
    c->abort(
        QStringLiteral("heartbeat timeout (idle %1 s)").arg(idleMs / 1000), DropReason::Heartbeat);
}

void WsGateway::bindTimedOut(WsConnection *c)
{
    ++m_metrics->bindTimeouts;
    c->close(WsFrame::PolicyViolation, "bind timeout");
}

int WsGateway::kick(const QByteArray &uid, const QString &reason)
{
    const SessionRegistry::Connections *list = m_registry->connections(uid);
    if (!list)
        return 0;
    // close() unbinds, which changes the list: work on a copy.
    const SessionRegistry::Connections copy = *list;
    m_metrics->kicked += copy.size();
    for (WsConnection *c : copy)
        c->close(WsFrame::PolicyViolation, reason.toUtf8());
    return int(copy.size());
}

void WsGateway::closeAll(quint16 code, const QByteArray &reason, qint64 drainMs)
{
    m_closingAll = true;
    m_allClosedSignalled = false;
    m_intake.clear(); // not clients yet: nothing to say goodbye to
    m_drainClients = int(m_connections.size());
    m_drainAborted = 0;
    m_drainLost = 0;
    // Nothing times out by the heartbeat now (a client busy reading its
    // backlog may well be silent): the deadline decides.
    m_heartbeat.stop();
    m_drainDeadline.start(int(qBound<qint64>(0, drainMs, qint64(24) * 3600 * 1000)));
    const QList<WsConnection *> all = m_connections.values();
    for (WsConnection *c : all)
        c->closeWhenDrained(code, reason);
    checkAllClosed();
}

void WsGateway::drainTimedOut()
{
    const QList<WsConnection *> left = m_connections.values();
    m_drainAborted = int(left.size());
    for (WsConnection *c : left)
        c->abort(QStringLiteral("shutdown timeout"), DropReason::Shutdown);
}
