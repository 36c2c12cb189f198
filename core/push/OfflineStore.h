#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

struct Metrics;
class EventLog;
class ThrottledReport;

// Where pushes to a uid that is online nowhere wait for it (--offline-ttl):
// SQLite on a single node, Redis in a cluster. Messages come back oldest
// first with a sequence number, and leave the store only when the reader
// acknowledges them (after they were handed to a connection), so a
// connection that drops mid-backlog loses nothing: delivery is at least
// once.
class OfflineStore : public QObject
{
    Q_OBJECT
public:
    struct Limits
    {
        qint64 ttlMs = 0; // a message older than this is dropped unseen
        int maxPerUid = 100; // past it the uid's oldest is dropped
        int maxTotal = 100000; // past it the oldest of all is dropped
        qint64 maxBytesPerUid = 1024 * 1024; // payload bytes per uid, the same
        qint64 maxBytes = 256 * 1024 * 1024; // payload bytes in all, the same

        // A message is refused (never stored) when it could not stay in the
        // store without pushing itself, or another uid of its own array
        // push, out again.
        qint64 largestMessage() const { return qMin(maxBytesPerUid, maxBytes); }
    };
    struct Message
    {
        qint64 seq = 0; // increases with every message stored, per store
        QByteArray payload;
    };
    // How many of the uids the message was durably stored for, and for how
    // many the store failed (disk full, a Redis error, the link lost): such
    // a push may be retried. A message over the caps is neither.
    using StoreHandler = std::function<void(int stored, int failed)>;
    // ok false: the store could not be read (then messages is empty).
    using FetchHandler = std::function<void(bool ok, const QList<Message> &messages)>;

    OfflineStore(const Limits &limits, Metrics *metrics, QObject *parent = nullptr);
    ~OfflineStore() override;

    const Limits &limits() const { return m_limits; }
    // Drops and store errors go to the log too (rate-limited); without a
    // log only to the debug output.
    void setEventLog(EventLog *log);
    // False while the store cannot take messages (Redis unreachable).
    virtual bool isAvailable() const = 0;
    // False only when the uid surely has nothing stored (so a bind costs
    // nothing); a store that cannot tell without asking says true.
    virtual bool mayHave(const QByteArray &uid) const = 0;
    // Stores payload once for each uid; done runs once, only after they are
    // durable (SQLite committed, Redis replied): at once (SQLite) or when
    // Redis answers.
    virtual void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) = 0;
    // The uid's messages after sequence `after`, oldest first, not removed:
    // as many as fit in maxBytes of payload, and at least one. At once
    // (SQLite) or when Redis answers; the handler always runs once.
    virtual void fetch(
        const QByteArray &uid, qint64 after, qint64 maxBytes, FetchHandler handler) = 0;
    // Removes the uid's messages up to and including sequence upTo: they
    // were handed over.
    virtual void acknowledge(const QByteArray &uid, qint64 upTo) = 0;
    // For the log: "sqlite:/path/offline.sqlite", "redis".
    virtual QString description() const = 0;

Q_SIGNALS:
    // isAvailable() changed.
    void availabilityChanged(bool available);
    // Something was stored for uid by someone else (another node): a reader
    // that has it online should fetch again.
    void storedElsewhere(const QByteArray &uid);

protected:
    // A message over the caps was not stored.
    void refused(const QByteArray &uid, qint64 size, int uids);
    // The caps pushed the oldest out to make room for uid's message.
    void dropped(const QByteArray &uid, int ownOldest, int othersOldest);
    // A statement or command failed; what says which.
    void failed(const QString &what, const QString &error);

    Limits m_limits;
    Metrics *m_metrics;

private:
    std::unique_ptr<ThrottledReport> m_dropReport;
    std::unique_ptr<ThrottledReport> m_refusalReport;
    std::unique_ptr<ThrottledReport> m_errorReport;
};
