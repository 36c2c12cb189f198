#pragma once

#include <QString>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

// Copies the offline store's write-ahead log into its database file from a
// thread of its own. A checkpoint is where SQLite waits for the disk: an
// fdatasync of the log, then of the database, 10 to 70 ms each on the
// development VM (bench/offline-stall.sh), more on a busy disk. Run by the
// store's own connection (SQLite's automatic checkpoint), it held the event
// loop, and with it every client and push, that long every few thousand
// stored pushes. The store's connection turns the automatic checkpoint off
// and commits without a sync (synchronous=NORMAL: nothing committed is lost
// when the process dies); this thread's connection runs a PASSIVE
// checkpoint on a timer, which never waits for the store's connection nor
// makes it wait, and costs nothing when the log has no new frames.
class SqliteCheckpointer final
{
public:
    explicit SqliteCheckpointer(int intervalMs);
    // Stops the thread. SQLite checkpoints once more on the last close.
    ~SqliteCheckpointer();
    SqliteCheckpointer(const SqliteCheckpointer &) = delete;
    SqliteCheckpointer &operator=(const SqliteCheckpointer &) = delete;

    // Opens a connection to path in the new thread and waits for that
    // (start-up only); false with error when it could not.
    bool start(const QString &path, QString *error);

    // Checkpoints that ran, and the log as the last one found it (frames in
    // it, frames now copied to the database); for tests and diagnostics.
    quint64 checkpoints() const { return m_checkpoints.load(); }
    quint64 failures() const { return m_failures.load(); }
    qint64 logFrames() const { return m_logFrames.load(); }
    qint64 copiedFrames() const { return m_copiedFrames.load(); }

private:
    void run(const QString &path, QString *error);

    const int m_intervalMs;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake; // m_started or m_stop changed
    bool m_started = false; // under m_mutex
    bool m_stop = false; // under m_mutex
    std::atomic<quint64> m_checkpoints {0};
    std::atomic<quint64> m_failures {0};
    std::atomic<qint64> m_logFrames {0};
    std::atomic<qint64> m_copiedFrames {0};
};
