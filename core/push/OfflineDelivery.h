#pragma once

#include "OfflineStore.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSet>

#include <memory>

struct Metrics;
class EventLog;
class SessionRegistry;
class WsConnection;

// Hands a uid's stored messages (its backlog) to its connections on this
// node at the pace they read, and removes each from the store only once a
// connection took it (its output queue drained past it to the kernel).
//
// - Pace: the next message goes when every connection of the uid has less
//   than the low-water mark unsent and room for it under --max-output, so a
//   backlog never makes a reader a slow consumer. Reads from the store are
//   bounded batches; all uids together keep at most bufferBytes read and
//   not sent yet (plus one message), the rest wait their turn.
// - Order: while a backlog is being delivered, live pushes to the uid are
//   appended to the store (PushRouter asks holdsBack()), so they arrive
//   behind it; "queued" is answered once they are stored.
// - At least once: a message goes to every connection of the uid bound here
//   when it is sent, and leaves the store once one of them took it. If they
//   all drop first it stays stored and comes again on the next bind. On
//   several nodes each reads what is still stored, so a message may reach
//   the uid's connections on more than one node.
class OfflineDelivery final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        qint64 maxOutput = 8 * 1024 * 1024; // a connection's output cap (--max-output)
        qint64 maxMessage = 1024 * 1024; // the largest push (--max-line)
        qint64 batchBytes = 256 * 1024; // payload read from the store at a time
        qint64 lowWaterBytes = 256 * 1024; // the next message waits while more is unsent
        qint64 bufferBytes = 16 * 1024 * 1024; // read and not sent yet, all uids together
    };

    OfflineDelivery(SessionRegistry *registry, OfflineStore *store, EventLog *log, Metrics *metrics,
        const Options &options, QObject *parent = nullptr);
    ~OfflineDelivery() override;

    // True while uid's backlog is being delivered here: a live push to it
    // must be stored behind the backlog, not sent.
    bool holdsBack(const QByteArray &uid) const
    {
        return m_active > 0 && isActive(uid) && m_store->isAvailable();
    }
    // A live push for uid was handed to the store behind its backlog.
    void appended(const QByteArray &uid);
    // uid is bound here, or something was stored for it: deliver it.
    void start(const QByteArray &uid);

    // For tests and the console.
    int sessionCount() const { return int(m_sessions.size()); }
    qint64 bufferedBytes() const { return m_buffered; }

private:
    struct Session;
    using SessionPtr = std::shared_ptr<Session>;

    bool isActive(const QByteArray &uid) const;
    // By value: the session may end (leave the hash) while it runs.
    void pump(SessionPtr s);
    bool sendNext(const SessionPtr &s);
    void acknowledgeDrained(Session &s);
    bool fetch(const SessionPtr &s);
    void fetched(const SessionPtr &s, bool ok, const QList<OfflineStore::Message> &messages);
    void drained(WsConnection *c);
    void watch(Session &s, WsConnection *c);
    void end(const QByteArray &uid, bool retryLater);
    void setInactive(Session &s);
    void admitWaiting();
    void availabilityChanged(bool available);
    void logDelivery(const QByteArray &uid, const QByteArray &payload, int delivered);
    qint64 reservation() const;

    SessionRegistry *m_registry;
    OfflineStore *m_store;
    EventLog *m_log;
    Metrics *m_metrics;
    Options m_options;
    QHash<QByteArray, SessionPtr> m_sessions;
    QList<QByteArray> m_waiting; // sessions waiting for room in the buffer, oldest first
    QSet<QByteArray> m_missed; // bound while the store was unreachable
    qint64 m_buffered = 0; // payload read and not sent yet
    qint64 m_reserved = 0; // held for reads under way
    int m_active = 0; // sessions that hold live pushes back
    bool m_admitting = false;
};
