#include "PushRouter.h"

#include "ClusterLink.h"
#include "EventLog.h"
#include "Metrics.h"
#include "OfflineStore.h"
#include "SessionRegistry.h"
#include "WsConnection.h"
#include "WsFrame.h"

#include <chrono>
#include <memory>
#include <utility>

PushRouter::PushRouter(SessionRegistry *registry, EventLog *log, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_log(log)
    , m_metrics(metrics)
{ }

PushResult PushRouter::push(
    const QByteArray &line, PushSource source, const QString &origin, Completion done)
{
    return deliver(PushRequest::parse(line), line, source, origin, std::move(done));
}

PushResult PushRouter::deliver(const PushRequest &request, const QByteArray &payload,
    PushSource source, const QString &origin, Completion done)
{
    PushResult result;
    if (!request.isValid()) {
        result.status = PushStatus::Error;
        result.error = request.error;
        record(request, payload, source, origin, result);
        return result;
    }
    const auto started = std::chrono::steady_clock::now();
    // One header for every target: a broadcast encodes nothing per client.
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
    int delivered = 0;
    int dropped = 0;
    bool held = false;
    const auto send = [&](WsConnection *c) {
        if (c->sendFrame(head, payload))
            ++delivered;
        else
            ++dropped;
    };
    if (request.broadcast) {
        m_registry->forEachConnection(send);
    } else {
        for (const QByteArray &uid : request.uids) {
            if (const SessionRegistry::Connections *list = m_registry->connections(uid)) {
                if (Q_UNLIKELY(!m_held.isEmpty())) {
                    const auto wait = m_held.find(uid);
                    if (wait != m_held.end()) {
                        wait.value().append(payload);
                        held = true;
                        continue;
                    }
                }
                for (WsConnection *c : *list)
                    send(c);
            }
        }
    }
    m_metrics->observePushLatency(
        std::chrono::nanoseconds(std::chrono::steady_clock::now() - started).count());
    result.delivered = delivered;
    result.dropped = dropped;
    // "ok" promises every target has it queued: one that could not take it
    // (a slow consumer dropped just now or before) makes the push a fail.
    result.status = (delivered > 0 || held) && dropped == 0 ? PushStatus::Ok : PushStatus::Fail;
    m_metrics->messagesOut += quint64(delivered);
    m_metrics->bytesOut += quint64(delivered) * quint64(head.size() + payload.size());
    // What came from another node was routed there already.
    if (Q_UNLIKELY(m_cluster || m_offline) && source != PushSource::Cluster)
        return routeBeyond(request, payload, source, origin, result, std::move(done));
    record(request, payload, source, origin, result);
    return result;
}

PushResult PushRouter::routeBeyond(const PushRequest &request, const QByteArray &payload,
    PushSource source, const QString &origin, const PushResult &local, Completion done)
{
    // The parts that go to Redis answer when Redis does; the push is
    // answered once all have. With SQLite, or nothing to send, that is now.
    struct Pending
    {
        PushResult result;
        int waiting = 1; // one for the code below
        bool answered = false; // returned to the caller already
        Completion done;
    };
    auto pending = std::make_shared<Pending>();
    pending->result = local;
    const auto settle = [this, pending, request, payload, source, origin] {
        if (--pending->waiting > 0)
            return;
        record(request, payload, source, origin, pending->result);
        if (pending->answered && pending->done)
            pending->done(pending->result);
    };

    if (request.broadcast) {
        // Never stored: "everyone" has no one to wait for.
        if (m_cluster) {
            ++pending->waiting;
            m_cluster->publishBroadcast(payload, [pending, settle](int receivers) {
                pending->result.nodes = receivers;
                if (receivers > 0 && pending->result.dropped == 0)
                    pending->result.status = PushStatus::Ok;
                settle();
            });
        }
    } else {
        ClusterLink::NodeMask nodes = 0;
        QList<QByteArray> absent;
        for (const QByteArray &uid : request.uids) {
            const ClusterLink::NodeMask holding = m_cluster ? m_cluster->nodesHolding(uid) : 0;
            nodes |= holding;
            // Each uid of an array that is online nowhere gets its own copy.
            if (!holding && m_offline && !m_registry->isOnline(uid))
                absent.append(uid);
        }
        if (nodes) {
            ++pending->waiting;
            m_cluster->publish(nodes, payload, [pending, settle](int receivers) {
                pending->result.nodes = receivers;
                if (receivers > 0 && pending->result.dropped == 0)
                    pending->result.status = PushStatus::Ok;
                settle();
            });
        }
        if (!absent.isEmpty() && m_offline->isAvailable()) {
            ++pending->waiting;
            m_offline->store(absent, payload, [pending, settle](int stored) {
                pending->result.stored = stored;
                if (stored > 0 && pending->result.status == PushStatus::Fail
                    && pending->result.dropped == 0)
                    pending->result.status = PushStatus::Queued;
                settle();
            });
        }
    }
    settle();
    if (pending->waiting == 0)
        return pending->result; // answered at once, recorded already
    pending->answered = true;
    pending->done = std::move(done);
    PushResult waiting = pending->result;
    waiting.pending = true;
    return waiting;
}

void PushRouter::deliverStored(const QByteArray &uid)
{
    if (!m_offline || m_held.contains(uid))
        return;
    if (!m_offline->isAvailable()) {
        // Bounded: an outage with more binds than this waits for rebinds.
        if (m_missed.size() < 100000)
            m_missed.insert(uid);
        return;
    }
    m_held.insert(uid, {});
    // SQLite answers at once, Redis later; either way exactly once.
    m_offline->take(uid, [this, uid](const QList<QByteArray> &stored) {
        const QList<QByteArray> live = m_held.take(uid);
        sendStored(uid, stored, true);
        sendStored(uid, live, false);
    });
}

void PushRouter::retryStored()
{
    const QSet<QByteArray> missed = std::exchange(m_missed, {});
    for (const QByteArray &uid : missed) {
        if (m_registry->isOnline(uid))
            deliverStored(uid);
    }
}

void PushRouter::sendStored(
    const QByteArray &uid, const QList<QByteArray> &payloads, bool fromStore)
{
    char header[WsFrame::MaxHeaderSize];
    for (qsizetype i = 0; i < payloads.size(); ++i) {
        const QByteArray &payload = payloads[i];
        // Looked up per message, like a push: the uid may have gone meanwhile.
        const SessionRegistry::Connections *list = m_registry->connections(uid);
        if (!list) {
            // Gone while Redis answered: what was stored goes back.
            if (fromStore && m_offline && m_offline->isAvailable()) {
                for (; i < payloads.size(); ++i)
                    m_offline->store({uid}, payloads[i], {});
            }
            return;
        }
        const QByteArrayView head(
            header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
        int delivered = 0;
        for (WsConnection *c : *list) {
            if (c->sendFrame(head, payload))
                ++delivered;
        }
        m_metrics->messagesOut += quint64(delivered);
        m_metrics->bytesOut += quint64(delivered) * quint64(head.size() + payload.size());
        if (fromStore)
            m_metrics->offlineDelivered += delivered > 0 ? 1 : 0;
        if (!fromStore || !m_log->captures(Event::Level::Debug))
            continue;
        Event e;
        e.type = Event::Type::Push;
        e.level = Event::Level::Debug;
        e.status = delivered > 0 ? PushStatus::Ok : PushStatus::Fail;
        e.delivered = delivered;
        e.uid = uid;
        e.peer = QStringLiteral("offline store");
        e.size = payload.size();
        e.text = payload.size() <= Event::MaxText ? payload : payload.left(Event::MaxText);
        e.detail = QStringLiteral("stored while offline");
        m_log->append(std::move(e));
    }
}

void PushRouter::record(const PushRequest &request, const QByteArray &payload, PushSource source,
    const QString &origin, const PushResult &result)
{
    m_metrics->countPush(source, result.status);
    // A malformed request is a bug in some backend: worth a warning. Single
    // pushes are too many to print by default.
    const Event::Level level =
        result.status == PushStatus::Error ? Event::Level::Warning : Event::Level::Debug;
    if (!m_log->captures(level))
        return;
    Event e;
    e.type = Event::Type::Push;
    e.level = level;
    e.source = source;
    e.status = result.status;
    e.delivered = result.delivered;
    e.dropped = result.dropped;
    e.peer = origin;
    e.size = payload.size();
    e.text = payload.size() <= Event::MaxText ? payload : payload.left(Event::MaxText);
    e.detail = QString::fromUtf8(result.error);
    if (request.broadcast) {
        e.uid = QByteArrayLiteral("*");
    } else if (request.uids.size() == 1) {
        e.uid = request.uids.front();
    } else if (!request.uids.isEmpty()) {
        constexpr int Shown = 8;
        for (qsizetype i = 0; i < qMin<qsizetype>(Shown, request.uids.size()); ++i)
            e.uid += (i ? "," : "") + request.uids[i];
        if (request.uids.size() > Shown)
            e.uid += ",…(+" + QByteArray::number(request.uids.size() - Shown) + ')';
    }
    m_log->append(std::move(e));
}
