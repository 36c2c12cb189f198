#include "OfflineDelivery.h"

#include "EventLog.h"
#include "Events.h"
#include "Metrics.h"
#include "SessionRegistry.h"
#include "WsConnection.h"
#include "WsFrame.h"

#include <QPointer>

#include <deque>
#include <utility>

namespace {
// Uids that bound while the store was unreachable, kept to deliver to when
// it is back; an outage with more binds than this waits for rebinds.
constexpr int MaxMissed = 100000;
} // namespace

struct OfflineDelivery::Session
{
    QByteArray uid;
    std::deque<OfflineStore::Message> ready; // read, not sent yet, oldest first
    qint64 readyBytes = 0;
    qint64 cursor = 0; // the last sequence read from the store
    qint64 acked = 0; // the last sequence acknowledged to it
    qint64 reserved = 0; // buffer held for the read under way
    // Connections watched for their drain -> the last sequence written to
    // each (0: none yet).
    QHash<quint64, qint64> sentTo;
    bool active = true; // the store may hold more: live pushes go behind
    bool fetching = false;
    bool more = false; // something was stored during the read under way
    bool waiting = false; // for room in the buffer
    bool pumping = false;
    bool ended = false;
};

OfflineDelivery::OfflineDelivery(SessionRegistry *registry, OfflineStore *store, EventLog *log,
    Metrics *metrics, const Options &options, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_store(store)
    , m_log(log)
    , m_metrics(metrics)
    , m_options(options)
{
    connect(registry, &SessionRegistry::uidOnline, this, &OfflineDelivery::start);
    connect(registry, &SessionRegistry::uidOffline, this,
        [this](const QByteArray &uid) { end(uid, false); });
    connect(registry, &SessionRegistry::uidChanged, this, [this](const QByteArray &uid, int) {
        // A connection came (it gets the rest) or went (it may have been
        // the one the backlog waited for).
        const auto it = m_sessions.constFind(uid);
        if (it != m_sessions.cend())
            pump(it.value());
    });
    connect(store, &OfflineStore::availabilityChanged, this, &OfflineDelivery::availabilityChanged);
    connect(store, &OfflineStore::storedElsewhere, this, &OfflineDelivery::start);
}

OfflineDelivery::~OfflineDelivery()
{
    // Watches on connections go with this object; what was sent and not
    // acknowledged stays stored.
}

bool OfflineDelivery::isActive(const QByteArray &uid) const
{
    const auto it = m_sessions.constFind(uid);
    return it != m_sessions.cend() && it.value()->active;
}

qint64 OfflineDelivery::reservation() const
{
    // A read returns at most a batch, or one message when that is larger.
    return qMax(m_options.batchBytes, m_options.maxMessage);
}

void OfflineDelivery::start(const QByteArray &uid)
{
    if (!m_registry->isOnline(uid))
        return;
    if (!m_store->isAvailable()) {
        if (m_missed.size() < MaxMissed)
            m_missed.insert(uid);
        return;
    }
    const auto it = m_sessions.constFind(uid);
    if (it != m_sessions.cend()) {
        const SessionPtr s = it.value();
        if (s->fetching) {
            s->more = true;
        } else if (!s->active) {
            s->active = true;
            ++m_active;
        }
        pump(s);
        return;
    }
    if (!m_store->mayHave(uid))
        return;
    auto s = std::make_shared<Session>();
    s->uid = uid;
    m_sessions.insert(uid, s);
    ++m_active;
    pump(s);
}

void OfflineDelivery::appended(const QByteArray &uid)
{
    // Redis answers in order: a read sent before this store cannot see it.
    const auto it = m_sessions.constFind(uid);
    if (it != m_sessions.cend() && it.value()->fetching)
        it.value()->more = true;
}

void OfflineDelivery::pump(SessionPtr s)
{
    if (s->pumping || s->ended)
        return;
    if (!m_registry->connections(s->uid)) {
        end(s->uid, false);
        return;
    }
    s->pumping = true;
    for (;;) {
        if (s->ready.empty()) {
            if (!s->active || s->fetching || s->waiting || !fetch(s) || s->ended)
                break;
            continue; // SQLite answered at once
        }
        if (!sendNext(s))
            break;
    }
    s->pumping = false;
    if (!s->ended) {
        acknowledgeDrained(*s);
        bool unacked = false;
        for (const qint64 sent : std::as_const(s->sentTo))
            unacked = unacked || sent > s->acked;
        if (!s->active && s->ready.empty() && !s->fetching && !unacked)
            end(s->uid, false);
    }
    admitWaiting();
}

bool OfflineDelivery::sendNext(const SessionPtr &s)
{
    const SessionRegistry::Connections *list = m_registry->connections(s->uid);
    const OfflineStore::Message &m = s->ready.front();
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(m.payload.size())));
    const qint64 frame = head.size() + m.payload.size();
    bool open = false;
    for (WsConnection *c : *list) {
        if (c->state() != WsConnection::State::Open)
            continue;
        open = true;
        const qint64 pending = c->pendingBytes();
        if (pending > 0
            && (pending > m_options.lowWaterBytes || pending + frame > m_options.maxOutput)) {
            watch(*s, c); // the drain brings us back
            return false;
        }
    }
    if (!open)
        return false; // closing: the registry tells when that changes
    int delivered = 0;
    if (frame > m_options.maxOutput) {
        // No connection can ever queue it: dropped, and acknowledged with
        // the messages around it.
        ++m_metrics->offlineDropped;
        Event e = Events::error(
            Event::Level::Warning, Events::why(Event::Reason::StoredTooLarge, m_options.maxOutput));
        e.uid = s->uid;
        e.size = m.payload.size();
        m_log->append(std::move(e));
        for (WsConnection *c : *list) {
            watch(*s, c);
            s->sentTo[c->id()] = m.seq;
        }
    } else {
        for (WsConnection *c : *list) {
            if (c->state() != WsConnection::State::Open)
                continue;
            watch(*s, c);
            if (c->sendFrame(head, m.payload)) {
                ++delivered;
                s->sentTo[c->id()] = m.seq;
            }
        }
        m_metrics->messagesOut += quint64(delivered);
        m_metrics->bytesOut += quint64(delivered) * quint64(frame);
        if (delivered > 0)
            ++m_metrics->offlineDelivered;
        if (m_log->captures(Event::Level::Debug))
            logDelivery(s->uid, m.payload, delivered);
        else
            m_log->noteUnbuilt(Event::Type::Push);
    }
    s->readyBytes -= m.payload.size();
    m_buffered -= m.payload.size();
    s->ready.pop_front();
    return true;
}

void OfflineDelivery::watch(Session &s, WsConnection *c)
{
    if (s.sentTo.contains(c->id()))
        return;
    s.sentTo.insert(c->id(), 0);
    connect(c, &WsConnection::outputDrained, this, [this, c] { drained(c); });
}

void OfflineDelivery::acknowledgeDrained(Session &s)
{
    // What a connection that is still up handed to the kernel was handed
    // over. Connections that went are forgotten: what only they had stays
    // stored.
    const SessionRegistry::Connections *list = m_registry->connections(s.uid);
    QHash<quint64, qint64> kept;
    qint64 upTo = s.acked;
    if (list) {
        for (WsConnection *c : *list) {
            const auto it = s.sentTo.constFind(c->id());
            if (it == s.sentTo.cend())
                continue;
            kept.insert(c->id(), it.value());
            if (it.value() > upTo && c->state() != WsConnection::State::Closed
                && c->pendingBytes() == 0)
                upTo = it.value();
        }
    }
    s.sentTo = std::move(kept);
    if (upTo > s.acked) {
        m_store->acknowledge(s.uid, upTo);
        s.acked = upTo;
    }
}

bool OfflineDelivery::fetch(const SessionPtr &s)
{
    const qint64 need = reservation();
    const qint64 used = m_buffered + m_reserved;
    if (used > 0 && used + need > m_options.bufferBytes) {
        if (!s->waiting) {
            s->waiting = true;
            m_waiting.append(s->uid);
        }
        return false;
    }
    s->fetching = true;
    s->more = false;
    s->reserved = need;
    m_reserved += need;
    const QPointer<OfflineDelivery> self(this);
    const std::weak_ptr<Session> weak = s;
    m_store->fetch(s->uid, s->cursor, m_options.batchBytes,
        [self, weak](bool ok, const QList<OfflineStore::Message> &messages) {
            const SessionPtr session = weak.lock();
            if (self && session && !session->ended)
                self->fetched(session, ok, messages);
        });
    return true;
}

void OfflineDelivery::fetched(
    const SessionPtr &s, bool ok, const QList<OfflineStore::Message> &messages)
{
    m_reserved -= s->reserved;
    s->reserved = 0;
    s->fetching = false;
    if (!ok) {
        // Tried again when the store is back, else on the next bind.
        end(s->uid, true);
        admitWaiting();
        return;
    }
    for (const OfflineStore::Message &m : messages) {
        if (m.seq <= s->cursor)
            continue;
        s->cursor = m.seq;
        s->readyBytes += m.payload.size();
        m_buffered += m.payload.size();
        s->ready.push_back(m);
    }
    if (messages.isEmpty()) {
        if (s->more)
            s->more = false; // read again: something came during this read
        else
            setInactive(*s);
    }
    pump(s); // nothing when the pump is the caller (SQLite answers at once)
}

void OfflineDelivery::drained(WsConnection *c)
{
    if (!c->isBound())
        return;
    const auto it = m_sessions.constFind(c->uid());
    if (it != m_sessions.cend())
        pump(it.value());
}

void OfflineDelivery::setInactive(Session &s)
{
    if (s.active) {
        s.active = false;
        --m_active;
    }
}

void OfflineDelivery::end(const QByteArray &uid, bool retryLater)
{
    const auto it = m_sessions.find(uid);
    if (it == m_sessions.end())
        return;
    const SessionPtr s = it.value();
    m_sessions.erase(it);
    s->ended = true;
    setInactive(*s);
    m_reserved -= s->reserved;
    s->reserved = 0;
    m_buffered -= s->readyBytes;
    s->readyBytes = 0;
    s->ready.clear();
    if (s->waiting)
        m_waiting.removeOne(uid);
    if (const SessionRegistry::Connections *list = m_registry->connections(uid)) {
        for (WsConnection *c : *list)
            disconnect(c, &WsConnection::outputDrained, this, nullptr);
    }
    if (retryLater && m_registry->isOnline(uid) && m_missed.size() < MaxMissed)
        m_missed.insert(uid);
}

void OfflineDelivery::admitWaiting()
{
    if (m_admitting)
        return;
    m_admitting = true;
    while (!m_waiting.isEmpty()) {
        const qint64 used = m_buffered + m_reserved;
        if (used > 0 && used + reservation() > m_options.bufferBytes)
            break;
        const QByteArray uid = m_waiting.takeFirst();
        const auto it = m_sessions.constFind(uid);
        if (it == m_sessions.cend() || !it.value()->waiting)
            continue;
        const SessionPtr s = it.value();
        s->waiting = false;
        pump(s);
    }
    m_admitting = false;
}

void OfflineDelivery::availabilityChanged(bool available)
{
    if (!available) {
        // What was sent and not acknowledged stays stored; the rest is read
        // again when the store is back.
        const QList<QByteArray> uids = m_sessions.keys();
        for (const QByteArray &uid : uids)
            end(uid, true);
        return;
    }
    const QSet<QByteArray> missed = std::exchange(m_missed, {});
    for (const QByteArray &uid : missed)
        start(uid);
}

void OfflineDelivery::logDelivery(const QByteArray &uid, const QByteArray &payload, int delivered)
{
    Event e =
        Events::pushed(PushSource::TextPort, Event::Level::Debug, QStringLiteral("offline store"));
    e.status = delivered > 0 ? PushStatus::Ok : PushStatus::Fail;
    e.delivered = delivered;
    e.uid = uid;
    e.size = payload.size();
    e.text = payload.size() <= Event::MaxText ? payload : payload.left(Event::MaxText);
    e.reason = Event::Reason::StoredWhileOffline;
    m_log->append(std::move(e));
}
