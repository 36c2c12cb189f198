#include "SqliteCheckpointer.h"

#include "Logging.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <chrono>

namespace {
std::atomic<int> nextConnection {0};
} // namespace

SqliteCheckpointer::SqliteCheckpointer(int intervalMs)
    : m_intervalMs(intervalMs)
{ }

SqliteCheckpointer::~SqliteCheckpointer()
{
    if (!m_thread.joinable())
        return;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

bool SqliteCheckpointer::start(const QString &path, QString *error)
{
    QString why;
    m_thread = std::thread([this, path, &why] { run(path, &why); });
    std::unique_lock<std::mutex> lock(m_mutex);
    m_wake.wait(lock, [this] { return m_started; });
    if (why.isEmpty())
        return true;
    lock.unlock();
    m_thread.join();
    *error = why;
    return false;
}

void SqliteCheckpointer::run(const QString &path, QString *error)
{
    // Qt Sql connections belong to the thread that made them: this one
    // is made, used and removed here.
    const QString name = QStringLiteral("pushconsole-checkpoint-%1").arg(++nextConnection);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        // Never wait for the store's connection: a checkpoint that cannot
        // take its lock now runs at the next tick.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=0"));
        const bool opened = db.open();
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            if (!opened)
                *error = db.lastError().text(); // read by start() once m_started is seen
            m_started = true;
        }
        m_wake.notify_all();
        if (opened) {
            QSqlQuery q(db);
            bool failing = false;
            std::unique_lock<std::mutex> lock(m_mutex);
            while (!m_wake.wait_for(
                lock, std::chrono::milliseconds(m_intervalMs), [this] { return m_stop; })) {
                lock.unlock();
                // Returns (busy, frames in the log, frames copied).
                if (q.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)")) && q.next()) {
                    m_logFrames = q.value(1).toLongLong();
                    m_copiedFrames = q.value(2).toLongLong();
                    ++m_checkpoints;
                    failing = false;
                } else {
                    ++m_failures;
                    if (!failing)
                        qCWarning(lcCluster)
                            << "offline store checkpoint failed:" << q.lastError().text();
                    failing = true;
                }
                q.finish();
                lock.lock();
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
}
