#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>

struct Metrics;

// Where pushes to a uid that is online nowhere wait for it (--offline-ttl):
// SQLite on a single node, Redis in a cluster. Messages come back oldest
// first and are removed as they are handed over, so each is delivered once.
class OfflineStore : public QObject
{
    Q_OBJECT
public:
    struct Limits
    {
        qint64 ttlMs = 0; // a message older than this is dropped unseen
        int maxPerUid = 100; // past it the uid's oldest is dropped
        int maxTotal = 100000; // past it the oldest of all is dropped
    };
    using TakeHandler = std::function<void(const QList<QByteArray> &payloads)>;
    // How many of the uids the message was durably stored for.
    using StoreHandler = std::function<void(int stored)>;

    OfflineStore(const Limits &limits, Metrics *metrics, QObject *parent = nullptr)
        : QObject(parent)
        , m_limits(limits)
        , m_metrics(metrics)
    { }

    const Limits &limits() const { return m_limits; }
    // False while the store cannot take messages (Redis unreachable).
    virtual bool isAvailable() const = 0;
    // Stores payload once for each uid; done runs once with how many were
    // stored, only after they are durable (SQLite committed, Redis replied):
    // at once (SQLite) or when Redis answers (0 if the link is lost first).
    virtual void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) = 0;
    // Removes the uid's messages and hands them to handler, oldest first:
    // at once (SQLite) or when Redis answers. The handler always runs, with
    // an empty list when there was nothing or the store failed.
    virtual void take(const QByteArray &uid, TakeHandler handler) = 0;
    // For the log: "sqlite:/path/offline.sqlite", "redis".
    virtual QString description() const = 0;

protected:
    Limits m_limits;
    Metrics *m_metrics;
};
