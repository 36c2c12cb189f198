#include "SqliteOfflineStore.h"

#include "Logging.h"
#include "Metrics.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

namespace {
int nextConnection = 0;
} // namespace

SqliteOfflineStore::SqliteOfflineStore(const Limits &limits, Metrics *metrics, QObject *parent)
    : OfflineStore(limits, metrics, parent)
    , m_connection(QStringLiteral("pushconsole-offline-%1").arg(++nextConnection))
{
    // Expired messages are also skipped when taken; this only frees space.
    m_purge.setInterval(int(qBound(qint64(1000), m_limits.ttlMs / 4, qint64(60 * 1000))));
    connect(&m_purge, &QTimer::timeout, this, &SqliteOfflineStore::purgeExpired);
}

SqliteOfflineStore::~SqliteOfflineStore()
{
    m_insert.reset();
    m_select.reset();
    m_delete.reset();
    if (QSqlDatabase::contains(m_connection)) {
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

QString SqliteOfflineStore::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
        + QStringLiteral("/offline.sqlite");
}

QString SqliteOfflineStore::description() const
{
    return QStringLiteral("sqlite:") + m_path;
}

bool SqliteOfflineStore::open(const QString &path, QString *error)
{
    m_path = QFileInfo(path).absoluteFilePath();
    const auto fail = [&](const QString &why) {
        *error = tr("cannot open the offline store %1: %2").arg(m_path, why);
        return false;
    };
    if (!QDir().mkpath(QFileInfo(m_path).absolutePath()))
        return fail(tr("cannot create its folder"));
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    if (!db.isValid())
        return fail(tr("the Qt SQLite driver is missing (Debian: libqt6sql6-sqlite)"));
    db.setDatabaseName(m_path);
    if (!db.open())
        return fail(db.lastError().text());
    QSqlQuery q(db);
    const char *setup[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "CREATE TABLE IF NOT EXISTS messages ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " uid BLOB NOT NULL,"
        " stored_ms INTEGER NOT NULL,"
        " payload BLOB NOT NULL)",
        "CREATE INDEX IF NOT EXISTS messages_by_uid ON messages (uid, id)",
    };
    for (const char *sql : setup) {
        if (!q.exec(QString::fromLatin1(sql)))
            return fail(q.lastError().text());
    }
    m_insert = std::make_unique<QSqlQuery>(db);
    m_select = std::make_unique<QSqlQuery>(db);
    m_delete = std::make_unique<QSqlQuery>(db);
    if (!m_insert->prepare(
            QStringLiteral("INSERT INTO messages (uid, stored_ms, payload) VALUES (?, ?, ?)"))
        || !m_select->prepare(
            QStringLiteral("SELECT stored_ms, payload FROM messages WHERE uid = ? ORDER BY id"))
        || !m_delete->prepare(QStringLiteral("DELETE FROM messages WHERE uid = ?")))
        return fail(m_insert->lastError().text());
    m_open = true;
    purgeExpired();
    m_counts.clear();
    m_total = 0;
    if (!q.exec(QStringLiteral("SELECT uid, COUNT(*) FROM messages GROUP BY uid")))
        return fail(q.lastError().text());
    while (q.next()) {
        const int n = q.value(1).toInt();
        m_counts.insert(q.value(0).toByteArray(), n);
        m_total += n;
    }
    m_purge.start();
    qCDebug(lcCluster) << "offline store" << m_path << m_total << "messages";
    return true;
}

bool SqliteOfflineStore::exec(QSqlQuery &query)
{
    if (query.exec())
        return true;
    qCWarning(lcCluster) << "offline store:" << query.lastError().text();
    return false;
}

void SqliteOfflineStore::store(
    const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done)
{
    const int stored = storeNow(uids, payload);
    if (done)
        done(stored);
}

int SqliteOfflineStore::storeNow(const QList<QByteArray> &uids, const QByteArray &payload)
{
    if (!m_open || uids.isEmpty())
        return 0;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    // One transaction for an array push: one commit instead of thousands.
    const bool batch = uids.size() > 1 && db.transaction();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    int stored = 0;
    for (const QByteArray &uid : uids) {
        if (storeOne(uid, payload, now))
            ++stored;
    }
    if (batch)
        db.commit();
    m_metrics->offlineStored += quint64(stored);
    return stored;
}

bool SqliteOfflineStore::storeOne(const QByteArray &uid, const QByteArray &payload, qint64 now)
{
    const int mine = m_counts.value(uid);
    if (m_limits.maxPerUid > 0 && mine >= m_limits.maxPerUid)
        dropOldestOf(uid, mine - m_limits.maxPerUid + 1);
    if (m_limits.maxTotal > 0 && m_total >= m_limits.maxTotal)
        dropOldest(m_total - m_limits.maxTotal + 1);
    m_insert->bindValue(0, uid);
    m_insert->bindValue(1, now);
    m_insert->bindValue(2, payload);
    if (!exec(*m_insert))
        return false;
    ++m_counts[uid];
    ++m_total;
    return true;
}

void SqliteOfflineStore::dropOldestOf(const QByteArray &uid, int count)
{
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM messages WHERE id IN "
                             "(SELECT id FROM messages WHERE uid = ? ORDER BY id LIMIT ?)"));
    q.addBindValue(uid);
    q.addBindValue(count);
    if (!exec(q))
        return;
    const int n = q.numRowsAffected();
    m_metrics->offlineDropped += quint64(n);
    m_total -= n;
    if ((m_counts[uid] -= n) <= 0)
        m_counts.remove(uid);
}

void SqliteOfflineStore::dropOldest(int count)
{
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("SELECT id, uid FROM messages ORDER BY id LIMIT ?"));
    q.addBindValue(count);
    if (!exec(q))
        return;
    QList<qint64> ids;
    QList<QByteArray> owners;
    while (q.next()) {
        ids.append(q.value(0).toLongLong());
        owners.append(q.value(1).toByteArray());
    }
    QSqlQuery del(QSqlDatabase::database(m_connection, false));
    del.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    for (qsizetype i = 0; i < ids.size(); ++i) {
        del.bindValue(0, ids[i]);
        if (!exec(del))
            continue;
        ++m_metrics->offlineDropped;
        --m_total;
        if (--m_counts[owners[i]] <= 0)
            m_counts.remove(owners[i]);
    }
}

void SqliteOfflineStore::take(const QByteArray &uid, TakeHandler handler)
{
    QList<QByteArray> out;
    if (m_open && m_counts.contains(uid)) {
        const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - m_limits.ttlMs;
        m_select->bindValue(0, uid);
        if (exec(*m_select)) {
            while (m_select->next()) {
                if (m_select->value(0).toLongLong() >= cutoff)
                    out.append(m_select->value(1).toByteArray());
                else
                    ++m_metrics->offlineExpired;
            }
            m_select->finish();
            m_delete->bindValue(0, uid);
            if (exec(*m_delete)) {
                m_total -= m_counts.take(uid);
            }
        }
    }
    handler(out);
}

void SqliteOfflineStore::purgeExpired()
{
    if (!m_open || m_limits.ttlMs <= 0)
        return;
    const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - m_limits.ttlMs;
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    q.prepare(
        QStringLiteral("SELECT uid, COUNT(*) FROM messages WHERE stored_ms < ? GROUP BY uid"));
    q.addBindValue(cutoff);
    if (!exec(q))
        return;
    QHash<QByteArray, int> expired;
    while (q.next())
        expired.insert(q.value(0).toByteArray(), q.value(1).toInt());
    if (expired.isEmpty())
        return;
    QSqlQuery del(db);
    del.prepare(QStringLiteral("DELETE FROM messages WHERE stored_ms < ?"));
    del.addBindValue(cutoff);
    if (!exec(del))
        return;
    for (auto it = expired.cbegin(); it != expired.cend(); ++it) {
        m_metrics->offlineExpired += quint64(it.value());
        m_total -= it.value();
        auto c = m_counts.find(it.key());
        if (c != m_counts.end() && (c.value() -= it.value()) <= 0)
            m_counts.erase(c);
    }
}
