#pragma once

#include "OfflineStore.h"

#include <QHash>
#include <QSqlDatabase>
#include <QTimer>

#include <memory>

class QSqlQuery;
class SqliteCheckpointer;

// The single node's offline store: one SQLite file (Qt Sql), so stored
// messages survive a restart. Write-ahead logging without a sync per
// commit: a crash of the process loses nothing, a power cut may lose the
// last moments. The log is copied into the file by a thread of its own
// (SqliteCheckpointer), so the waits for the disk are not the event loop's. Counts and bytes are
// kept in memory so the caps cost no scan. Every statement is checked: a push is answered stored
// only once its transaction (insert, then the caps' trimming) committed, and a failed one changes
// nothing, not even the counts.
class SqliteOfflineStore final : public OfflineStore
{
    Q_OBJECT
public:
    SqliteOfflineStore(const Limits &limits, Metrics *metrics, QObject *parent = nullptr);
    ~SqliteOfflineStore() override;

    // How often the checkpoint thread looks at the log; before open().
    // 0: no checkpoint at all, the log only grows (tests).
    static constexpr int DefaultCheckpointMs = 200;
    void setCheckpointInterval(int ms) { m_checkpointMs = ms; }
    const SqliteCheckpointer *checkpointer() const { return m_checkpointer.get(); }
    // Above this the log file is cut back once it has been copied.
    static constexpr qint64 LogSizeLimit = 16 * 1024 * 1024;

    // Creates the file (and its folder) when missing.
    bool open(const QString &path, QString *error);
    // Where the file goes when --offline-db is not given.
    static QString defaultPath();

    bool isAvailable() const override { return m_open; }
    bool mayHave(const QByteArray &uid) const override { return m_usage.contains(uid); }
    void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) override;
    // The same, for callers that know the store answers at once: how many
    // were stored (0 when the store failed or refused it).
    int storeNow(const QList<QByteArray> &uids, const QByteArray &payload);
    void fetch(const QByteArray &uid, qint64 after, qint64 maxBytes, FetchHandler handler) override;
    void acknowledge(const QByteArray &uid, qint64 upTo) override;
    QString description() const override;

    int count(const QByteArray &uid) const { return m_usage.value(uid).count; }
    qint64 bytes(const QByteArray &uid) const { return m_usage.value(uid).bytes; }
    int total() const { return m_total.count; }
    qint64 totalBytes() const { return m_total.bytes; }
    // Drops what is older than the TTL; runs by itself on a timer.
    void purgeExpired();

private:
    struct Usage
    {
        int count = 0;
        qint64 bytes = 0; // payload bytes
    };
    // What a transaction changed in memory, undone if it is rolled back.
    struct Journal
    {
        struct Change
        {
            QByteArray uid;
            int count;
            qint64 bytes;
        };
        QList<Change> changes;
        qint64 firstNewId = -1; // rows from here on are this transaction's
        int ownDropped = 0;
        int othersDropped = 0;
    };
    struct Outcome
    {
        int stored = 0;
        int failed = 0;
    };

    Outcome storeAll(const QList<QByteArray> &uids, const QByteArray &payload);
    bool trimUid(const QByteArray &uid, Journal *journal);
    bool trimTotal(Journal *journal);
    void adjust(const QByteArray &uid, int count, qint64 bytes, Journal *journal = nullptr);
    void undo(const Journal &journal);
    bool run(QSqlQuery &query, const char *what);
    QSqlDatabase database() const;

    std::unique_ptr<SqliteCheckpointer> m_checkpointer;
    int m_checkpointMs = DefaultCheckpointMs;
    QString m_connection;
    QString m_path;
    bool m_open = false;
    QHash<QByteArray, Usage> m_usage;
    Usage m_total;
    QTimer m_purge;
    std::unique_ptr<QSqlQuery> m_insert, m_select, m_oldestOf, m_deleteOf, m_oldest, m_deleteUpTo,
        m_sumOf, m_expiredOf, m_deleteExpiredOf;
};
