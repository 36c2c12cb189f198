#include "SqliteOfflineStore.h"

#include "Logging.h"
#include "Metrics.h"
#include "SqliteCheckpointer.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

namespace {
int nextConnection = 0;
// Rows looked at per step when the caps trim: a trim is rarely more than one.
constexpr int TrimStep = 256;
} // namespace

SqliteOfflineStore::SqliteOfflineStore(const Limits &limits, Metrics *metrics, QObject *parent)
    : OfflineStore(limits, metrics, parent)
    , m_connection(QStringLiteral("pushconsole-offline-%1").arg(++nextConnection))
{
    // Expired messages are also skipped when fetched; this only frees space.
    m_purge.setInterval(int(qBound(qint64(1000), m_limits.ttlMs / 4, qint64(60 * 1000))));
    connect(&m_purge, &QTimer::timeout, this, &SqliteOfflineStore::purgeExpired);
}

SqliteOfflineStore::~SqliteOfflineStore()
{
    // First: the store's own close is then the last, and checkpoints.
    m_checkpointer.reset();
    for (auto *q : {&m_insert, &m_select, &m_oldestOf, &m_deleteOf, &m_oldest, &m_deleteUpTo,
             &m_sumOf, &m_expiredOf, &m_deleteExpiredOf})
        q->reset();
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

QSqlDatabase SqliteOfflineStore::database() const
{
    return QSqlDatabase::database(m_connection, false);
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
    // The file is this process's: a lock held by someone else (a stray
    // sqlite3 shell) fails the statement at once instead of stalling every
    // client for Qt's default five seconds; the push is answered fail.
    db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=0"));
    if (!db.open())
        return fail(db.lastError().text());
    QSqlQuery q(db);
    const char *setup[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        // Checkpoints are the checkpoint thread's (see SqliteCheckpointer).
        "PRAGMA wal_autocheckpoint=0",
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
    if (!q.exec(QStringLiteral("PRAGMA journal_size_limit=%1").arg(LogSizeLimit)))
        return fail(q.lastError().text());
    const struct
    {
        std::unique_ptr<QSqlQuery> *query;
        const char *sql;
    } statements[] = {
        {&m_insert, "INSERT INTO messages (uid, stored_ms, payload) VALUES (?, ?, ?)"},
        {&m_select,
            "SELECT id, payload FROM messages WHERE uid = ? AND id > ? AND stored_ms >= ? "
            "ORDER BY id"},
        {&m_oldestOf, "SELECT id, LENGTH(payload) FROM messages WHERE uid = ? ORDER BY id LIMIT ?"},
        {&m_deleteOf, "DELETE FROM messages WHERE uid = ? AND id <= ?"},
        {&m_oldest, "SELECT id, uid, LENGTH(payload) FROM messages ORDER BY id LIMIT ?"},
        {&m_deleteUpTo, "DELETE FROM messages WHERE id <= ?"},
        {&m_sumOf,
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM messages "
            "WHERE uid = ? AND id <= ?"},
        {&m_expiredOf,
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM messages "
            "WHERE uid = ? AND stored_ms < ?"},
        {&m_deleteExpiredOf, "DELETE FROM messages WHERE uid = ? AND stored_ms < ?"},
    };
    for (const auto &s : statements) {
        *s.query = std::make_unique<QSqlQuery>(db);
        // Rows are read once, in order: no cache of a whole result.
        (*s.query)->setForwardOnly(true);
        if (!(*s.query)->prepare(QString::fromLatin1(s.sql)))
            return fail((*s.query)->lastError().text());
    }
    m_usage.clear();
    m_total = {};
    if (!q.exec(QStringLiteral(
            "SELECT uid, COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM messages GROUP BY uid")))
        return fail(q.lastError().text());
    while (q.next()) {
        const Usage u = {q.value(1).toInt(), q.value(2).toLongLong()};
        m_usage.insert(q.value(0).toByteArray(), u);
        m_total.count += u.count;
        m_total.bytes += u.bytes;
    }
    q.finish();
    if (m_checkpointMs > 0) {
        m_checkpointer = std::make_unique<SqliteCheckpointer>(m_checkpointMs);
        QString why;
        if (!m_checkpointer->start(m_path, &why)) {
            m_checkpointer.reset();
            return fail(tr("checkpoint thread: %1").arg(why));
        }
    }
    m_open = true;
    purgeExpired();
    m_purge.start();
    qCDebug(lcCluster) << "offline store" << m_path << m_total.count << "messages" << m_total.bytes
                       << "bytes";
    return true;
}

bool SqliteOfflineStore::run(QSqlQuery &query, const char *what)
{
    if (query.exec())
        return true;
    failed(QString::fromLatin1(what), query.lastError().text());
    return false;
}

void SqliteOfflineStore::adjust(const QByteArray &uid, int count, qint64 bytes, Journal *journal)
{
    auto it = m_usage.find(uid);
    if (it == m_usage.end())
        it = m_usage.insert(uid, {});
    it->count += count;
    it->bytes += bytes;
    if (it->count <= 0)
        m_usage.erase(it);
    m_total.count += count;
    m_total.bytes += bytes;
    if (journal)
        journal->changes.append({uid, count, bytes});
}

void SqliteOfflineStore::undo(const Journal &journal)
{
    for (qsizetype i = journal.changes.size() - 1; i >= 0; --i) {
        const Journal::Change &c = journal.changes[i];
        adjust(c.uid, -c.count, -c.bytes);
    }
}

void SqliteOfflineStore::store(
    const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done)
{
    const Outcome outcome = storeAll(uids, payload);
    if (done)
        done(outcome.stored, outcome.failed);
}

int SqliteOfflineStore::storeNow(const QList<QByteArray> &uids, const QByteArray &payload)
{
    return storeAll(uids, payload).stored;
}

SqliteOfflineStore::Outcome SqliteOfflineStore::storeAll(
    const QList<QByteArray> &uids, const QByteArray &payload)
{
    const int n = int(uids.size());
    if (n == 0)
        return {};
    if (!m_open)
        return {0, n};
    const qint64 size = payload.size();
    if (size > m_limits.largestMessage() || size * n > m_limits.maxBytes || n > m_limits.maxTotal) {
        refused(uids.front(), size, n);
        return {};
    }
    QSqlDatabase db = database();
    // One transaction: the message for every uid, then the trimming the
    // caps ask for. Nothing is deleted unless the new message is in.
    if (!db.transaction()) {
        failed(QStringLiteral("begin"), db.lastError().text());
        return {0, n};
    }
    Journal journal;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    bool ok = true;
    for (const QByteArray &uid : uids) {
        m_insert->bindValue(0, uid);
        m_insert->bindValue(1, now);
        m_insert->bindValue(2, payload);
        if (!(ok = run(*m_insert, "insert")))
            break;
        if (journal.firstNewId < 0)
            journal.firstNewId = m_insert->lastInsertId().toLongLong();
        adjust(uid, 1, size, &journal);
        if (!(ok = trimUid(uid, &journal)))
            break;
    }
    if (ok)
        ok = trimTotal(&journal);
    if (ok && !db.commit()) {
        failed(QStringLiteral("commit"), db.lastError().text());
        ok = false;
    }
    if (!ok) {
        // Often rolled back by SQLite already (a full disk); this makes sure.
        db.rollback();
        undo(journal);
        return {0, n};
    }
    m_metrics->offlineStored += quint64(n);
    dropped(uids.front(), journal.ownDropped, journal.othersDropped);
    return {n, 0};
}

bool SqliteOfflineStore::trimUid(const QByteArray &uid, Journal *journal)
{
    const Usage mine = m_usage.value(uid);
    if (mine.count <= m_limits.maxPerUid && mine.bytes <= m_limits.maxBytesPerUid)
        return true;
    // Oldest first, never the message just stored (the newest).
    m_oldestOf->bindValue(0, uid);
    m_oldestOf->bindValue(1, mine.count - 1);
    if (!run(*m_oldestOf, "trim"))
        return false;
    Usage drop;
    qint64 cutoff = -1;
    while ((mine.count - drop.count > m_limits.maxPerUid
               || mine.bytes - drop.bytes > m_limits.maxBytesPerUid)
        && m_oldestOf->next()) {
        cutoff = m_oldestOf->value(0).toLongLong();
        ++drop.count;
        drop.bytes += m_oldestOf->value(1).toLongLong();
    }
    m_oldestOf->finish();
    if (cutoff < 0)
        return true;
    m_deleteOf->bindValue(0, uid);
    m_deleteOf->bindValue(1, cutoff);
    if (!run(*m_deleteOf, "trim"))
        return false;
    adjust(uid, -drop.count, -drop.bytes, journal);
    journal->ownDropped += drop.count;
    return true;
}

bool SqliteOfflineStore::trimTotal(Journal *journal)
{
    while (m_total.count > m_limits.maxTotal || m_total.bytes > m_limits.maxBytes) {
        m_oldest->bindValue(0, TrimStep);
        if (!run(*m_oldest, "trim"))
            return false;
        QHash<QByteArray, Usage> drops;
        Usage drop;
        qint64 cutoff = -1;
        while ((m_total.count - drop.count > m_limits.maxTotal
                   || m_total.bytes - drop.bytes > m_limits.maxBytes)
            && m_oldest->next()) {
            const qint64 id = m_oldest->value(0).toLongLong();
            if (journal->firstNewId >= 0 && id >= journal->firstNewId)
                break; // never what this transaction stores (refused before)
            const qint64 size = m_oldest->value(2).toLongLong();
            Usage &u = drops[m_oldest->value(1).toByteArray()];
            ++u.count;
            u.bytes += size;
            ++drop.count;
            drop.bytes += size;
            cutoff = id;
        }
        m_oldest->finish();
        if (cutoff < 0)
            return true; // nothing older left to drop
        m_deleteUpTo->bindValue(0, cutoff);
        if (!run(*m_deleteUpTo, "trim"))
            return false;
        for (auto it = drops.cbegin(); it != drops.cend(); ++it)
            adjust(it.key(), -it->count, -it->bytes, journal);
        journal->othersDropped += drop.count;
    }
    return true;
}

void SqliteOfflineStore::fetch(
    const QByteArray &uid, qint64 after, qint64 maxBytes, FetchHandler handler)
{
    if (!m_open) {
        handler(false, {});
        return;
    }
    if (!m_usage.contains(uid)) {
        handler(true, {});
        return;
    }
    const qint64 cutoff =
        m_limits.ttlMs > 0 ? QDateTime::currentMSecsSinceEpoch() - m_limits.ttlMs : 0;
    // The uid's expired messages go first (counted); should that fail they
    // are still skipped below.
    if (m_limits.ttlMs > 0) {
        m_expiredOf->bindValue(0, uid);
        m_expiredOf->bindValue(1, cutoff);
        if (run(*m_expiredOf, "expiry") && m_expiredOf->next()) {
            const Usage expired = {
                m_expiredOf->value(0).toInt(), m_expiredOf->value(1).toLongLong()};
            m_expiredOf->finish();
            if (expired.count > 0) {
                m_deleteExpiredOf->bindValue(0, uid);
                m_deleteExpiredOf->bindValue(1, cutoff);
                if (run(*m_deleteExpiredOf, "expiry")) {
                    adjust(uid, -expired.count, -expired.bytes);
                    m_metrics->offlineExpired += quint64(expired.count);
                }
            }
        }
        m_expiredOf->finish();
    }
    QList<Message> out;
    m_select->bindValue(0, uid);
    m_select->bindValue(1, after);
    m_select->bindValue(2, cutoff);
    if (!run(*m_select, "read")) {
        handler(false, {});
        return;
    }
    qint64 bytes = 0;
    while (m_select->next()) {
        Message m = {m_select->value(0).toLongLong(), m_select->value(1).toByteArray()};
        if (!out.isEmpty() && bytes + m.payload.size() > maxBytes)
            break;
        bytes += m.payload.size();
        out.append(std::move(m));
    }
    m_select->finish();
    handler(true, out);
}

void SqliteOfflineStore::acknowledge(const QByteArray &uid, qint64 upTo)
{
    if (!m_open || !m_usage.contains(uid))
        return;
    // Counted first, then deleted: nothing runs in between on this thread.
    m_sumOf->bindValue(0, uid);
    m_sumOf->bindValue(1, upTo);
    if (!run(*m_sumOf, "acknowledge") || !m_sumOf->next()) {
        m_sumOf->finish();
        return;
    }
    const Usage gone = {m_sumOf->value(0).toInt(), m_sumOf->value(1).toLongLong()};
    m_sumOf->finish();
    if (gone.count == 0)
        return;
    m_deleteOf->bindValue(0, uid);
    m_deleteOf->bindValue(1, upTo);
    if (run(*m_deleteOf, "acknowledge"))
        adjust(uid, -gone.count, -gone.bytes);
}

void SqliteOfflineStore::purgeExpired()
{
    if (!m_open || m_limits.ttlMs <= 0)
        return;
    const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - m_limits.ttlMs;
    QSqlDatabase db = database();
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!q.prepare(QStringLiteral("SELECT uid, COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) "
                                  "FROM messages WHERE stored_ms < ? GROUP BY uid"))) {
        failed(QStringLiteral("purge"), q.lastError().text());
        return;
    }
    q.addBindValue(cutoff);
    if (!run(q, "purge"))
        return;
    QHash<QByteArray, Usage> expired;
    while (q.next())
        expired.insert(q.value(0).toByteArray(), {q.value(1).toInt(), q.value(2).toLongLong()});
    q.finish();
    if (expired.isEmpty())
        return;
    QSqlQuery del(db);
    if (!del.prepare(QStringLiteral("DELETE FROM messages WHERE stored_ms < ?"))) {
        failed(QStringLiteral("purge"), del.lastError().text());
        return;
    }
    del.addBindValue(cutoff);
    if (!run(del, "purge"))
        return;
    for (auto it = expired.cbegin(); it != expired.cend(); ++it) {
        m_metrics->offlineExpired += quint64(it->count);
        adjust(it.key(), -it->count, -it->bytes);
    }
}
