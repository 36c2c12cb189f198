#pragma once

#include "OfflineStore.h"

#include <QHash>
#include <QSqlDatabase>
#include <QTimer>

#include <memory>

class QSqlQuery;

// The single node's offline store: one SQLite file (Qt Sql), so stored
// messages survive a restart. Write-ahead logging without a sync per
// commit: a crash of the process loses nothing, a power cut may lose the
// last moments. Counts are kept in memory so the caps cost no scan.
class SqliteOfflineStore final : public OfflineStore
{
    Q_OBJECT
public:
    SqliteOfflineStore(const Limits &limits, Metrics *metrics, QObject *parent = nullptr);
    ~SqliteOfflineStore() override;

    // Creates the file (and its folder) when missing.
    bool open(const QString &path, QString *error);
    // Where the file goes when --offline-db is not given.
    static QString defaultPath();

    bool isAvailable() const override { return m_open; }
    void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) override;
    // The same, for callers that know the store answers at once.
    int storeNow(const QList<QByteArray> &uids, const QByteArray &payload);
    void take(const QByteArray &uid, TakeHandler handler) override;
    QString description() const override;

    int count(const QByteArray &uid) const { return m_counts.value(uid); }
    int total() const { return m_total; }
    // Drops what is older than the TTL; runs by itself on a timer.
    void purgeExpired();

private:
    bool exec(QSqlQuery &query);
    bool storeOne(const QByteArray &uid, const QByteArray &payload, qint64 now);
    void dropOldest(int count);
    void dropOldestOf(const QByteArray &uid, int count);

    QString m_connection;
    QString m_path;
    bool m_open = false;
    QHash<QByteArray, int> m_counts;
    int m_total = 0;
    QTimer m_purge;
    std::unique_ptr<QSqlQuery> m_insert, m_select, m_delete;
};
