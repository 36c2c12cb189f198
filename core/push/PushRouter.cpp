#include "PushRouter.h"

#include "ClusterRoute.h"
#include "EventLog.h"
#include "Events.h"
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
    , m_fanOut(registry, metrics)
{
    // Told at once when a socket thread catches up (caughtUp()); the timer
    // is the safety net.
    m_caughtUpPoll.setInterval(10);
    connect(&m_caughtUpPoll, &QTimer::timeout, this, &PushRouter::checkCaughtUp);
}

void PushRouter::whenCaughtUp(QObject *context, std::function<void()> resume)
{
    m_waitingForThreads.emplace_back(context, std::move(resume));
    if (!m_caughtUpPoll.isActive())
        m_caughtUpPoll.start();
}

void PushRouter::caughtUp()
{
    if (!m_waitingForThreads.empty())
        checkCaughtUp();
}

void PushRouter::checkCaughtUp()
{
    if (isBackedUp())
        return;
    m_caughtUpPoll.stop();
    auto waiting = std::exchange(m_waitingForThreads, {});
    for (auto &[context, resume] : waiting) {
        if (context)
            resume();
    }
}

bool PushRouter::mayAnswerLater() const
{
    // Could this push be sliced (isLarge)? A uid list has no more targets
    // than there are connections.
    return m_cluster || m_offline || m_registry->connectionCount() > m_fanOut.slice().connections;
}

bool PushRouter::isLarge(const PushRequest &request) const
{
    // Counting a uid list's connections would cost a look-up per uid: its
    // uids are the measure (a uid has few connections, --max-conns-per-uid).
    const int slice = m_fanOut.slice().connections;
    return m_registry->connectionCount() > slice
        && (request.broadcast || request.uids.size() > slice);
}

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
    if (Q_UNLIKELY(isLarge(request)))
        return fanOut(request, payload, source, origin, std::move(done));
    const auto started = std::chrono::steady_clock::now();
    // One header for every target: a broadcast encodes nothing per client.
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
    int delivered = 0;
    int dropped = 0;
    QList<QByteArray> behind; // backlogs being delivered: stored behind them
    const auto send = [&](WsConnection *c) {
        m_fanOut.settle(c); // a sliced fan-out sent before this goes first
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
                if (Q_UNLIKELY(m_delivery) && m_delivery->holdsBack(uid)) {
                    behind.append(uid);
                    continue;
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
    result.status = delivered > 0 && dropped == 0 ? PushStatus::Ok : PushStatus::Fail;
    m_metrics->messagesOut += quint64(delivered);
    m_metrics->bytesOut += quint64(delivered) * quint64(head.size() + payload.size());
    // What came from another node was routed there already (but may have
    // to wait behind a backlog here).
    if (Q_UNLIKELY(m_cluster || m_offline) && (source != PushSource::Cluster || !behind.isEmpty()))
        return routeBeyond(request, payload, source, origin, result, behind, std::move(done));
    record(request, payload, source, origin, result);
    return result;
}

PushResult PushRouter::fanOut(const PushRequest &request, const QByteArray &payload,
    PushSource source, const QString &origin, Completion done)
{
    const auto started = std::chrono::steady_clock::now();
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
    QList<QByteArray> uids;
    QList<QByteArray> behind;
    if (!request.broadcast) {
        uids.reserve(request.uids.size());
        for (const QByteArray &uid : request.uids) {
            if (Q_UNLIKELY(m_delivery) && m_registry->isOnline(uid) && m_delivery->holdsBack(uid))
                behind.append(uid);
            else
                uids.append(uid);
        }
    }
    PushResult local;
    local.status = PushStatus::Fail; // until a target has it
    const PushResult result = routeBeyond(request, payload, source, origin, local, behind,
        std::move(done), [&](FanOut::Finished finished) {
            m_fanOut.start(request.broadcast, std::move(uids), head, payload, std::move(finished));
        });
    // The part that held the loop: the first slice.
    m_metrics->observePushLatency(
        std::chrono::nanoseconds(std::chrono::steady_clock::now() - started).count());
    return result;
}

PushResult PushRouter::routeBeyond(const PushRequest &request, const QByteArray &payload,
    PushSource source, const QString &origin, const PushResult &local,
    const QList<QByteArray> &behind, Completion done,
    const std::function<void(FanOut::Finished)> &sliced)
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
    // Kept until Redis answers: what the log shows (a few KiB at most, and
    // only when it logs pushes), never the request itself (up to 10 000
    // uids) nor its line (up to --max-line).
    std::shared_ptr<const Event> described;
    if (m_log->captures(Event::Level::Debug)) {
        described = std::make_shared<const Event>(
            describe(request, payload, source, origin, Event::Level::Debug));
    } else {
        m_log->noteUnbuilt(Event::Type::Push);
    }
    const auto settle = [this, pending, source, described] {
        if (--pending->waiting > 0)
            return;
        record(source, described.get(), pending->result);
        if (pending->answered && pending->done)
            pending->done(pending->result);
    };

    if (sliced)
        ++pending->waiting; // the local delivery, started below
    const bool beyond = source != PushSource::Cluster;
    if (request.broadcast) {
        // Never stored: "everyone" has no one to wait for.
        if (m_cluster && beyond) {
            ++pending->waiting;
            m_cluster->publishBroadcast(payload, [pending, settle](int receivers) {
                pending->result.nodes = receivers;
                if (receivers > 0 && pending->result.dropped == 0)
                    pending->result.status = PushStatus::Ok;
                settle();
            });
        }
    } else {
        ClusterRoute::NodeMask nodes = 0;
        QList<QByteArray> toStore = behind;
        for (const QByteArray &uid : request.uids) {
            if (!beyond)
                break;
            const ClusterRoute::NodeMask holding = m_cluster ? m_cluster->nodesHolding(uid) : 0;
            nodes |= holding;
            // Each uid of an array that is online nowhere gets its own copy.
            if (!holding && m_offline && !m_registry->isOnline(uid))
                toStore.append(uid);
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
        if (!toStore.isEmpty() && !m_offline->isAvailable()) {
            // Redis is out of reach: the node cannot tell an absent uid
            // from one elsewhere, nor keep it. A fail worth retrying.
            pending->result.storeFailed = true;
        } else if (!toStore.isEmpty()) {
            ++pending->waiting;
            // queued only when every uid has it: a partial store is a fail
            // (a retry may store it twice for some; delivery is at least
            // once anyway).
            m_offline->store(toStore, payload, [pending, settle](int stored, int failed) {
                pending->result.stored = stored;
                if (failed > 0)
                    pending->result.storeFailed = true;
                else if (stored > 0 && pending->result.status == PushStatus::Fail
                    && pending->result.dropped == 0)
                    pending->result.status = PushStatus::Queued;
                settle();
            });
            // Sent after any read the backlog has under way: it must read again.
            for (const QByteArray &uid : behind)
                m_delivery->appended(uid);
        }
    }
    if (sliced) {
        // After the publish: other nodes get it no later than unsliced.
        sliced([pending, settle](int delivered, int dropped) {
            PushResult &r = pending->result;
            r.delivered = delivered;
            r.dropped = dropped;
            // As for an unsliced push: a drop fails it whatever else went
            // well; a delivery makes it ok.
            if (dropped > 0)
                r.status = PushStatus::Fail;
            else if (delivered > 0)
                r.status = PushStatus::Ok;
            settle();
        });
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

void PushRouter::setOfflineStore(OfflineStore *store, const OfflineDelivery::Options &options)
{
    m_delivery.reset();
    m_offline = store;
    if (store)
        m_delivery =
            std::make_unique<OfflineDelivery>(m_registry, store, m_log, m_metrics, options);
}

void PushRouter::record(const PushRequest &request, const QByteArray &payload, PushSource source,
    const QString &origin, const PushResult &result)
{
    // A malformed request is a bug in some backend: worth a warning. Single
    // pushes are too many to print by default.
    const Event::Level level =
        result.status == PushStatus::Error ? Event::Level::Warning : Event::Level::Debug;
    if (!m_log->captures(level)) {
        m_log->noteUnbuilt(Event::Type::Push);
        record(source, nullptr, result);
        return;
    }
    const Event e = describe(request, payload, source, origin, level);
    record(source, &e, result);
}

void PushRouter::record(PushSource source, const Event *described, const PushResult &result)
{
    m_metrics->countPush(source, result.status);
    if (!described)
        return;
    Event e = *described;
    e.status = result.status;
    e.delivered = result.delivered;
    e.dropped = result.dropped;
    Events::Why why;
    if (!result.error.isEmpty())
        why = Events::fromEnglish(QString::fromUtf8(result.error));
    else if (result.storeFailed)
        why = Events::why(Event::Reason::StoreFailed);
    e.reason = why.reason;
    e.args = why.args;
    m_log->append(std::move(e));
}

Event PushRouter::describe(const PushRequest &request, const QByteArray &payload, PushSource source,
    const QString &origin, Event::Level level) const
{
    Event e = Events::pushed(source, level, origin);
    e.size = payload.size();
    e.text = payload.size() <= Event::MaxText ? payload : payload.left(Event::MaxText);
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
    return e;
}
