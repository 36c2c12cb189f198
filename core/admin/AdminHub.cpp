#include "AdminHub.h"

#include "AdminEventJson.h"
#include "ClusterLink.h"
#include "EventLog.h"
#include "HttpRequest.h"
#include "HttpResponder.h"
#include "HttpResponse.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "OfflineStore.h"
#include "SessionRegistry.h"
#include "WsFrame.h"
#include "WsHandshake.h"

#include <QHostInfo>

#include <algorithm>

using AdminEventJson::appendString;
using AdminEventJson::isoTime;

namespace {

constexpr char JsonType[] = "application/json";

const char *typeNameOf(int type)
{
    return Event::typeName(Event::Type(type));
}

// Whether a comma-separated field of the request lists token (no case).
bool listsToken(const HttpRequest &request, QByteArrayView name, QByteArrayView token)
{
    for (qsizetype i = 0; i < request.fieldCount(); ++i) {
        if (request.fieldName(i).compare(name, Qt::CaseInsensitive) != 0)
            continue;
        const QByteArrayView value = request.fieldValue(i);
        qsizetype start = 0;
        while (start <= value.size()) {
            qsizetype comma = value.indexOf(',', start);
            if (comma < 0)
                comma = value.size();
            if (value.sliced(start, comma - start).trimmed().compare(token, Qt::CaseInsensitive)
                == 0)
                return true;
            start = comma + 1;
        }
    }
    return false;
}

void answer(const HttpResponder &responder, int status, const QByteArray &body,
    std::initializer_list<std::pair<QByteArray, QByteArray>> extra = {})
{
    HttpResponse r = HttpResponse::make(status, JsonType, body);
    for (const auto &h : extra)
        r.addHeader(h.first, h.second);
    responder.send(r);
}

void appendNumber(QByteArray &out, const char *name, qint64 value)
{
    out += '"';
    out += name;
    out += "\":";
    out += QByteArray::number(value);
}

} // namespace

AdminHub::AdminHub(const Config &config, const Context &context, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_context(context)
{
    m_clock.start();
    m_batch.setInterval(BatchMs);
    m_second.setInterval(CountersMs);
    connect(&m_batch, &QTimer::timeout, this, &AdminHub::batchTick);
    connect(&m_second, &QTimer::timeout, this, &AdminHub::secondTick);
    m_unsaturate.setSingleShot(true);
    m_unsaturate.setTimerType(Qt::PreciseTimer);
    connect(&m_unsaturate, &QTimer::timeout, this, &AdminHub::unsaturateTick);
    const SessionRegistry *registry = context.registry;
    connect(registry, &SessionRegistry::uidOnline, this, &AdminHub::uidChanged);
    connect(registry, &SessionRegistry::uidOffline, this, &AdminHub::uidChanged);
    connect(registry, &SessionRegistry::uidChanged, this,
        [this](const QByteArray &uid, int) { uidChanged(uid); });
    connect(context.log, &EventLog::eventAdded, this, &AdminHub::eventAdded);
    attachCluster();
}

AdminHub::~AdminHub()
{
    // The streams go with the hub (children); the log outlives it.
    for (int i = 0; i < m_streams.size(); ++i)
        m_context.log->removeWatcher();
    m_context.log->setWatchersSaturated(false);
    m_context.metrics->adminStreamsOpen = 0;
}

qint64 AdminHub::bufferedBytes() const
{
    qint64 sum = 0;
    for (const AdminStream *s : m_streams)
        sum += s->outputBytes();
    return sum;
}

void AdminHub::setConfig(const Config &config)
{
    m_config = config;
    for (AdminStream *s : std::as_const(m_streams))
        s->setMaxOutput(config.adminMaxOutput);
}

void AdminHub::handleRequest(
    const HttpRequest &request, const HttpResponder &responder, const QString &peer)
{
    // The HTTP API checked Host, Origin and the key; what is left is the
    // WebSocket handshake (RFC 6455 §4.2.1) and the stream's own rules.
    const QByteArrayView version = request.header("sec-websocket-version");
    if (!listsToken(request, "upgrade", "websocket")
        || !listsToken(request, "connection", "upgrade") || version != "13") {
        answer(responder, 426,
            QByteArrayLiteral("{\"error\":\"a WebSocket upgrade (version 13) is required\"}"),
            {{QByteArrayLiteral("Upgrade"), QByteArrayLiteral("websocket")},
                {QByteArrayLiteral("Sec-WebSocket-Version"), QByteArrayLiteral("13")}});
        return;
    }
    const QByteArray key = request.header("sec-websocket-key").toByteArray();
    if (request.headerCount("sec-websocket-key") != 1
        || QByteArray::fromBase64(key, QByteArray::AbortOnBase64DecodingErrors).size() != 16) {
        answer(responder, 400, QByteArrayLiteral("{\"error\":\"invalid Sec-WebSocket-Key\"}"));
        return;
    }
    if (!listsToken(request, "sec-websocket-protocol", Protocol)) {
        answer(responder, 400,
            "{\"error\":\"unsupported admin protocol\",\"supported\":[\"" + QByteArray(Protocol)
                + "\"]}");
        return;
    }
    if (m_closing || m_streams.size() >= m_config.maxAdminStreams) {
        answer(responder, 503,
            m_closing ? QByteArrayLiteral("{\"error\":\"shutting down\"}")
                      : "{\"error\":\"too many admin streams\",\"max\":"
                    + QByteArray::number(m_config.maxAdminStreams) + '}',
            {{QByteArrayLiteral("Retry-After"), QByteArrayLiteral("10")}});
        return;
    }
    const QByteArray upgrade = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: "
        + WsHandshake::acceptKey(key)
        + "\r\n"
          "Sec-WebSocket-Protocol: "
        + QByteArray(Protocol) + "\r\n\r\n";
    AdminStream *stream = nullptr;
    const bool taken = responder.takeOver([&](TakenSocket &socket) {
        stream = new AdminStream(socket, peer, m_config.adminMaxOutput, this, this);
        stream->writeRaw(upgrade);
    });
    if (!taken) {
        answer(responder, 400,
            QByteArrayLiteral(
                "{\"error\":\"the upgrade must be the only request on its connection\"}"));
        return;
    }
    if (!stream || !stream->isOpen())
        return;
    m_streams.append(stream);
    ++m_context.metrics->adminStreamsOpen;
    // While a console watches, every event is kept and signalled (pushes
    // are debug events a headless log does not print).
    m_context.log->addWatcher();
    // Its snapshot reads the log: events are built again from now on.
    endSaturation();
    qCDebug(lcHttp) << "admin stream opened for" << peer;
    if (!m_batch.isActive()) {
        m_batch.start();
        m_second.start();
    }
    advance(stream);
}

void AdminHub::streamFinished(AdminStream *s, const QString &reason)
{
    qCDebug(lcHttp) << "admin stream of" << s->peer() << "closed:" << reason;
    if (m_streams.removeOne(s)) {
        --m_context.metrics->adminStreamsOpen;
        m_context.log->removeWatcher();
    }
    s->deleteLater();
    updateSaturation(MonotonicClock::nowMs());
    if (m_streams.isEmpty()) {
        m_batch.stop();
        m_second.stop();
        if (m_closing)
            Q_EMIT allClosed();
    }
}

void AdminHub::streamDrained(AdminStream *s)
{
    if (s->phase != AdminStream::Phase::Live)
        advance(s);
    else if (s->resync)
        flush(s);
}

void AdminHub::closeAll()
{
    m_closing = true;
    if (m_streams.isEmpty()) {
        Q_EMIT allClosed();
        return;
    }
    const QList<AdminStream *> streams = m_streams;
    for (AdminStream *s : streams)
        s->close(WsFrame::GoingAway, QByteArrayLiteral("server shutting down"));
}

void AdminHub::listeningChanged()
{
    attachCluster();
    stateChanged(true, false);
}

void AdminHub::attachCluster()
{
    ClusterLink *link = m_context.cluster ? m_context.cluster() : nullptr;
    if (!link || link == m_cluster)
        return;
    m_cluster = link;
    connect(link, &ClusterLink::remoteUidOnline, this,
        [this](const QByteArray &uid, const QString &) { uidChanged(uid); });
    connect(link, &ClusterLink::remoteUidOffline, this,
        [this](const QByteArray &uid, const QString &) { uidChanged(uid); });
    connect(link, &ClusterLink::presenceReset, this, &AdminHub::resyncAll);
    connect(link, &ClusterLink::nodesChanged, this, [this] { stateChanged(false, true); });
    connect(link, &ClusterLink::linkChanged, this, [this] {
        stateChanged(false, true);
        resyncAll();
    });
    stateChanged(false, true);
    resyncAll();
}

void AdminHub::eventAdded(const Event &event)
{
    if (m_streams.isEmpty())
        return;
    const qint64 now = MonotonicClock::nowMs();
    // Serialized once, for every stream that sends it, and not at all when
    // none does: a flood past the rate costs a counter per stream.
    QByteArray json;
    for (AdminStream *s : std::as_const(m_streams)) {
        if (!s->isOpen() || !s->eventsTaken)
            continue; // its snapshot will read the log
        bool send = s->rateAllows(now, m_config.adminMaxEventRate);
        if (send) {
            if (json.isNull())
                json = AdminEventJson::write(event);
            send = s->hasRoom(json.size() + AdminStream::EntryOverhead);
        }
        if (send) {
            s->queueEvent(json);
        } else {
            s->skip(int(event.type));
            ++m_context.metrics->adminEventsSkipped;
        }
    }
    updateSaturation(now);
}

void AdminHub::updateSaturation(qint64 now)
{
    EventLog *log = m_context.log;
    bool saturated = false;
    for (AdminStream *s : std::as_const(m_streams)) {
        if (!s->isOpen())
            continue;
        if (!s->eventsTaken || s->rateAllows(now, m_config.adminMaxEventRate)) {
            saturated = false;
            break;
        }
        saturated = true;
    }
    if (saturated == log->watchersSaturated())
        return;
    if (!saturated) {
        endSaturation();
        return;
    }
    log->setWatchersSaturated(true);
    m_saturatedSecond = now / 1000;
    // The streams' rate windows are the coarse clock's seconds.
    m_unsaturate.start(int(1000 - now % 1000) + 1);
}

void AdminHub::unsaturateTick()
{
    // The timer runs on the precise clock; the coarse one the rate windows
    // read lags it by up to a tick (4-10 ms), and ending saturation before
    // it turns over would let the stream skip events it has room for.
    const qint64 now = MonotonicClock::nowMs();
    if (now / 1000 <= m_saturatedSecond) {
        m_unsaturate.start(int(1000 - now % 1000) + 1);
        return;
    }
    endSaturation();
}

void AdminHub::endSaturation()
{
    m_unsaturate.stop();
    m_context.log->setWatchersSaturated(false);
    collectUnbuilt();
}

void AdminHub::collectUnbuilt()
{
    const auto unbuilt = m_context.log->takeUnbuilt();
    for (int type = 0; type < Event::TypeCount; ++type) {
        const quint64 count = unbuilt[size_t(type)];
        if (count == 0)
            continue;
        for (AdminStream *s : std::as_const(m_streams)) {
            if (!s->isOpen() || !s->eventsTaken)
                continue;
            s->skip(type, count);
            m_context.metrics->adminEventsSkipped += count;
        }
    }
}

void AdminHub::uidChanged(const QByteArray &uid)
{
    for (AdminStream *s : std::as_const(m_streams)) {
        // Before its presence list is taken, or with a reset owed anyway,
        // the stream will read the uid as it is then.
        if (!s->isOpen() || s->phase == AdminStream::Phase::Hello
            || (s->resync && s->phase == AdminStream::Phase::Live))
            continue;
        if (!s->markDirty(uid)) {
            // Not even the uid fits: behind. A fresh reset, once drained.
            s->clearDirty();
            s->resync = true;
        }
    }
}

void AdminHub::resyncAll()
{
    for (AdminStream *s : std::as_const(m_streams)) {
        if (!s->isOpen() || s->phase == AdminStream::Phase::Hello)
            continue;
        s->clearDirty();
        s->resync = true;
        if (s->phase == AdminStream::Phase::Live)
            flush(s);
    }
}

void AdminHub::stateChanged(bool listening, bool cluster)
{
    if (m_streams.isEmpty())
        return;
    QByteArray out = "{\"t\":\"state\"";
    if (listening) {
        out += ",\"listening\":";
        out += m_context.listening() ? "true" : "false";
        out += ",\"listeners\":" + listenersJson();
    }
    if (cluster)
        out += ",\"cluster\":" + clusterJson();
    out += '}';
    for (AdminStream *s : std::as_const(m_streams)) {
        // A stream still to send its hello will say it there.
        if (s->isOpen() && s->phase != AdminStream::Phase::Hello)
            s->sendText(out);
    }
}

void AdminHub::advance(AdminStream *s)
{
    using Phase = AdminStream::Phase;
    while (s->isOpen() && s->phase != Phase::Live) {
        // One part at a time, each once the socket has drained below half
        // the cap: a large snapshot goes at the pace the console reads.
        if (s->socketBytes() > lowWater(s))
            return;
        switch (s->phase) {
        case Phase::Hello:
            s->sendText(helloMessage());
            s->snapshotUids = allUids();
            s->snapshotIndex = 0;
            s->phase = Phase::Presence;
            break;
        case Phase::Presence:
            s->sendText(presenceChunk(s));
            if (s->snapshotIndex >= s->snapshotUids.size()) {
                s->snapshotUids = QList<QByteArray>();
                s->phase = s->eventsTaken ? Phase::Ready : Phase::Events;
            }
            break;
        case Phase::Events:
            s->sendText(eventsSnapshot());
            s->eventsTaken = true;
            s->phase = Phase::Counters;
            break;
        case Phase::Counters:
            s->sendText(countersMessage());
            s->phase = Phase::Ready;
            break;
        case Phase::Ready:
            s->sendText(QByteArrayLiteral("{\"t\":\"ready\"}"));
            s->phase = Phase::Live;
            break;
        case Phase::Live:
            break;
        }
    }
    if (s->isOpen() && s->phase == Phase::Live)
        flush(s);
}

void AdminHub::flush(AdminStream *s)
{
    if (!s->isOpen() || s->phase != AdminStream::Phase::Live)
        return;
    if (s->resync) {
        if (s->socketBytes() > lowWater(s))
            return; // still behind: the reset waits until it drained
        s->resync = false;
        s->clearDirty();
        s->snapshotUids = allUids();
        s->snapshotIndex = 0;
        s->phase = AdminStream::Phase::Presence;
        advance(s);
        return;
    }
    // Presence changes, merged per uid while they waited.
    while (s->isOpen() && s->hasDirty() && s->socketBytes() <= lowWater(s)) {
        const QList<QByteArray> uids = s->takeDirty(ChunkUids);
        QByteArray out = "{\"t\":\"presence\",\"uids\":[";
        bool first = true;
        for (const QByteArray &uid : uids) {
            if (!first)
                out += ',';
            first = false;
            appendPresence(out, uid, true);
        }
        out += "]}";
        s->sendText(out);
    }
    if (s->isOpen() && s->hasEvents())
        s->sendText(s->takeEventsMessage());
    if (s->isOpen() && s->hasSkipped() && s->hasRoom(512))
        s->sendText(s->takeSkippedMessage(&typeNameOf));
}

void AdminHub::batchTick()
{
    collectUnbuilt();
    const QList<AdminStream *> streams = m_streams;
    for (AdminStream *s : streams) {
        if (s->phase == AdminStream::Phase::Live)
            flush(s);
        else
            advance(s);
    }
}

void AdminHub::secondTick()
{
    const qint64 now = MonotonicClock::nowMs();
    // Pinged like a WebSocket client; with --ping-interval 0 (the seed's
    // behaviour for clients) a console is still pinged, or it would be
    // dropped at the heartbeat for listening quietly.
    const qint64 ping =
        m_config.pingIntervalMs > 0 ? m_config.pingIntervalMs : m_config.heartbeatMs / 2;
    QByteArray counters;
    const QList<AdminStream *> streams = m_streams;
    for (AdminStream *s : streams) {
        s->checkLiveness(now, ping, m_config.heartbeatMs, m_config.closeTimeoutMs);
        if (!s->isOpen() || s->phase != AdminStream::Phase::Live)
            continue;
        if (counters.isNull())
            counters = countersMessage();
        // A sample that does not fit is simply not sent: the next one is
        // as good.
        if (s->hasRoom(counters.size() + AdminStream::EntryOverhead))
            s->sendText(counters);
    }
}

QList<QByteArray> AdminHub::allUids() const
{
    QList<QByteArray> uids = m_context.registry->uids();
    if (m_cluster) {
        const QHash<QByteArray, QStringList> remote = m_cluster->remotePresence();
        uids.reserve(uids.size() + remote.size());
        for (auto it = remote.cbegin(); it != remote.cend(); ++it) {
            if (!m_context.registry->isOnline(it.key()))
                uids.append(it.key());
        }
    }
    std::sort(uids.begin(), uids.end());
    return uids;
}

bool AdminHub::appendPresence(QByteArray &out, const QByteArray &uid, bool evenIfGone) const
{
    const QList<SessionInfo> sessions = m_context.registry->sessions(uid);
    QStringList others = m_cluster ? m_cluster->remoteNodesOf(uid) : QStringList();
    if (sessions.isEmpty() && others.isEmpty() && !evenIfGone)
        return false;
    out += "{\"uid\":";
    appendString(out, uid);
    out += ",";
    appendNumber(out, "connections", sessions.size());
    if (!sessions.isEmpty()) {
        qint64 connectedAt = sessions.front().connectedAt;
        qint64 lastActivity = 0;
        quint64 in = 0;
        quint64 outCount = 0;
        out += ",\"peers\":[";
        for (qsizetype i = 0; i < sessions.size(); ++i) {
            const SessionInfo &si = sessions[i];
            if (i)
                out += ',';
            appendString(out, si.peer);
            connectedAt = qMin(connectedAt, si.connectedAt);
            lastActivity = qMax(lastActivity, si.lastActivity);
            in += si.messagesIn;
            outCount += si.messagesOut;
        }
        out += "],\"connectedAt\":\"" + isoTime(connectedAt) + "\",\"lastActivity\":\""
            + isoTime(lastActivity) + "\",";
        appendNumber(out, "messagesIn", qint64(in));
        out += ',';
        appendNumber(out, "messagesOut", qint64(outCount));
    }
    if (!others.isEmpty()) {
        others.sort();
        out += ",\"otherNodes\":[";
        for (qsizetype i = 0; i < others.size(); ++i) {
            if (i)
                out += ',';
            appendString(out, others[i]);
        }
        out += ']';
    }
    out += '}';
    return true;
}

QByteArray AdminHub::presenceChunk(AdminStream *s) const
{
    QByteArray out = s->snapshotIndex == 0
        ? QByteArrayLiteral("{\"t\":\"presence\",\"reset\":true,\"uids\":[")
        : QByteArrayLiteral("{\"t\":\"presence\",\"uids\":[");
    int taken = 0;
    bool first = true;
    while (s->snapshotIndex < s->snapshotUids.size() && taken < ChunkUids) {
        const QByteArray &uid = s->snapshotUids[s->snapshotIndex++];
        const qsizetype before = out.size();
        if (!first)
            out += ',';
        // Gone since the list was taken: its change is on its way anyway.
        if (!appendPresence(out, uid, false)) {
            out.truncate(before);
            continue;
        }
        first = false;
        ++taken;
    }
    out += "]}";
    return out;
}

QByteArray AdminHub::listenersJson() const
{
    QByteArray out = "{\"ws\":";
    appendString(out, m_context.wsAddress());
    out += ",\"text\":";
    appendString(out, m_context.textAddress());
    out += ",\"http\":";
    appendString(out, m_context.httpAddress());
    out += '}';
    return out;
}

QByteArray AdminHub::clusterJson() const
{
    if (!m_cluster)
        return QByteArrayLiteral("{\"enabled\":false}");
    QByteArray out = "{\"enabled\":true,\"up\":";
    out += m_cluster->isUp() ? "true" : "false";
    // displayString() leaves the password out.
    out += ",\"redis\":";
    appendString(out, m_cluster->options().url.displayString());
    out += ",\"nodes\":[";
    const QList<ClusterNodeInfo> nodes = m_cluster->nodes();
    for (qsizetype i = 0; i < nodes.size(); ++i) {
        if (i)
            out += ',';
        out += "{\"id\":";
        appendString(out, nodes[i].id);
        out += ",";
        appendNumber(out, "uids", nodes[i].uids);
        if (nodes[i].self)
            out += ",\"self\":true";
        out += '}';
    }
    out += "]}";
    return out;
}

QByteArray AdminHub::offlineJson() const
{
    const OfflineStore *store = m_context.offline ? m_context.offline() : nullptr;
    if (!store)
        return QByteArrayLiteral("{\"enabled\":false}");
    // "sqlite:/var/lib/..." or "redis": the kind, not the path.
    const QString description = store->description();
    QByteArray out = "{\"enabled\":true,\"store\":";
    appendString(out, description.section(QLatin1Char(':'), 0, 0));
    out += ',';
    appendNumber(out, "ttlMs", store->limits().ttlMs);
    out += ',';
    appendNumber(out, "maxPerUid", store->limits().maxPerUid);
    out += ',';
    appendNumber(out, "maxTotal", store->limits().maxTotal);
    out += '}';
    return out;
}

QByteArray AdminHub::helloMessage() const
{
    QByteArray out = "{\"t\":\"hello\",";
    appendNumber(out, "protocol", ProtocolVersion);
    out += ",\"version\":";
    appendString(out, QByteArrayView(PUSHCONSOLE_VERSION));
    out += ",\"node\":";
    appendString(
        out, m_cluster ? QString::fromUtf8(m_cluster->nodeId()) : QHostInfo::localHostName());
    const QDateTime started = m_context.startedAt();
    if (started.isValid())
        out += ",\"startedAt\":\"" + isoTime(started.toMSecsSinceEpoch()) + '"';
    out += ",\"listening\":";
    out += m_context.listening() ? "true" : "false";
    out += ",\"listeners\":" + listenersJson();
    out += ",\"cluster\":" + clusterJson();
    out += ",\"offline\":" + offlineJson();
    out += ',';
    appendNumber(out, "eventCapacity", m_context.log->capacity());
    out += '}';
    return out;
}

QByteArray AdminHub::countersMessage() const
{
    const Metrics &m = *m_context.metrics;
    QByteArray out =
        "{\"t\":\"counters\",\"time\":\"" + isoTime(QDateTime::currentMSecsSinceEpoch()) + "\",";
    appendNumber(out, "steadyMs", m_clock.elapsed());
    out += ',';
    appendNumber(out, "uids", m_context.registry->uidCount());
    out += ',';
    appendNumber(out, "connections", m_context.registry->connectionCount());
    out += ",\"pushes\":{";
    appendNumber(out, "ok", qint64(m.pushesWith(PushStatus::Ok)));
    out += ',';
    appendNumber(out, "fail", qint64(m.pushesWith(PushStatus::Fail)));
    out += ',';
    appendNumber(out, "error", qint64(m.pushesWith(PushStatus::Error)));
    out += ',';
    appendNumber(out, "queued", qint64(m.pushesWith(PushStatus::Queued)));
    out += "},\"cluster\":{";
    appendNumber(out, "sent", qint64(m.clusterSent));
    out += ',';
    appendNumber(out, "received", qint64(m.clusterReceived));
    out += ',';
    appendNumber(out, "linkLosses", qint64(m.clusterLinkLosses));
    out += "},\"offline\":{";
    appendNumber(out, "stored", qint64(m.offlineStored));
    out += ',';
    appendNumber(out, "delivered", qint64(m.offlineDelivered));
    out += ',';
    appendNumber(out, "dropped", qint64(m.offlineDropped));
    out += ',';
    appendNumber(out, "expired", qint64(m.offlineExpired));
    out += "}}";
    return out;
}

QByteArray AdminHub::eventsSnapshot() const
{
    const QList<Event> events = m_context.log->snapshot();
    QByteArray out = "{\"t\":\"events\",\"events\":[";
    for (qsizetype i = qMax<qsizetype>(0, events.size() - SnapshotEvents); i < events.size(); ++i) {
        if (out.back() != '[')
            out += ',';
        out += AdminEventJson::write(events[i]);
    }
    out += "]}";
    return out;
}
