// The SQLite offline store's write-ahead log is copied into the database by
// a thread of its own (SqliteCheckpointer): the store's connection, on the
// event loop, never checkpoints (so never waits for the disk), the log stays
// bounded, and no store fails because a checkpoint runs beside it. What it
// saves in stalls is measured by bench/offline-stall.sh, not here.
#include "Metrics.h"
#include "SqliteCheckpointer.h"
#include "SqliteOfflineStore.h"
#include "TestMain.h"
#include "TestSupport.h"

#include <QFileInfo>
#include <QTemporaryDir>

class tst_SqliteStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void storesConnectionNeverCheckpoints();
    void logIsCopiedAndReused();
    void storesBesideCheckpointsNeverFail();

private:
    static qint64 logSize(const QString &path)
    {
        return QFileInfo(path + QStringLiteral("-wal")).size();
    }
    // Stores n messages of size bytes, each its own transaction as a push's.
    static int storeMany(SqliteOfflineStore &store, int from, int n, int size);

    QTemporaryDir m_dir;
    Metrics m_metrics;
};

void tst_SqliteStore::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

int tst_SqliteStore::storeMany(SqliteOfflineStore &store, int from, int n, int size)
{
    const QByteArray payload(size, 'p');
    int stored = 0;
    for (int i = from; i < from + n; ++i)
        stored += store.storeNow({"u" + QByteArray::number(i % 1000)}, payload);
    return stored;
}

// Without the checkpoint thread the log only grows: SQLite's automatic
// checkpoint (every 1 000 pages, 4 MiB), which would run on the store's
// connection and wait for the disk there, is off.
void tst_SqliteStore::storesConnectionNeverCheckpoints()
{
    const QString path = m_dir.filePath(QStringLiteral("none.sqlite"));
    SqliteOfflineStore store({}, &m_metrics);
    store.setCheckpointInterval(0);
    QString error;
    QVERIFY2(store.open(path, &error), qPrintable(error));
    QVERIFY(!store.checkpointer());
    QCOMPARE(storeMany(store, 0, 3000, 4096), 3000);
    // 3 000 x 4 KiB: about 12 MiB of log, three times what the automatic
    // checkpoint would have let it reach.
    QVERIFY2(logSize(path) > 10 * 1024 * 1024, QByteArray::number(logSize(path)));
}

// With it, each batch is copied, and the next one starts the log over
// instead of growing it.
void tst_SqliteStore::logIsCopiedAndReused()
{
    const QString path = m_dir.filePath(QStringLiteral("copied.sqlite"));
    OfflineStore::Limits limits;
    limits.maxTotal = 1000000;
    limits.maxBytes = qint64(1) << 30;
    limits.maxBytesPerUid = qint64(1) << 30;
    limits.maxPerUid = 1000000;
    SqliteOfflineStore store(limits, &m_metrics);
    store.setCheckpointInterval(10);
    QString error;
    QVERIFY2(store.open(path, &error), qPrintable(error));
    const SqliteCheckpointer *checkpointer = store.checkpointer();
    QVERIFY(checkpointer);
    qint64 oneRound = 0;
    for (int round = 0; round < 3; ++round) {
        QCOMPARE(storeMany(store, round * 1000, 1000, 4096), 1000);
        const quint64 before = checkpointer->checkpoints();
        // A checkpoint that started after the last commit has copied it.
        WAIT_VERIFY2(checkpointer->checkpoints() >= before + 2 && checkpointer->logFrames() > 0
                && checkpointer->copiedFrames() == checkpointer->logFrames(),
            QByteArray::number(checkpointer->logFrames()) + " frames, "
                + QByteArray::number(checkpointer->copiedFrames()) + " copied");
        if (round == 0)
            oneRound = logSize(path);
    }
    QCOMPARE(checkpointer->failures(), 0u);
    // Each transaction logs every page it touched (about 5 of 4 KiB for one
    // of these pushes), so a round is some 20 MiB of log. It was started
    // over each round: the file holds one round's worth, not three.
    QVERIFY(oneRound > 4 * 1024 * 1024);
    QVERIFY2(logSize(path) < oneRound * 3 / 2,
        QByteArray::number(logSize(path)) + " against " + QByteArray::number(oneRound));
    QCOMPARE(store.total(), 3000);
}

// A checkpoint every millisecond beside stores, reads and deletes: none of
// them fails for it (the store's connection does not wait for locks), and
// everything is in the file after a restart.
void tst_SqliteStore::storesBesideCheckpointsNeverFail()
{
    const QString path = m_dir.filePath(QStringLiteral("busy.sqlite"));
    {
        SqliteOfflineStore store({}, &m_metrics);
        store.setCheckpointInterval(1);
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        int fetched = 0;
        for (int i = 0; i < 3000; ++i) {
            QCOMPARE(store.storeNow({"u" + QByteArray::number(i % 500)}, QByteArray(512, 'x')), 1);
            if (i % 100 == 99) {
                bool fine = false;
                store.fetch(
                    "u7", 0, 1 << 20, [&](bool ok, const QList<OfflineStore::Message> &messages) {
                        fine = ok;
                        fetched += int(messages.size());
                    });
                QVERIFY(fine);
            }
        }
        QVERIFY(fetched > 0);
        store.acknowledge("u1", qint64(1) << 40);
        QCOMPARE(store.total(), 3000 - 6);
        WAIT_VERIFY(store.checkpointer()->checkpoints() > 20);
        QCOMPARE(store.checkpointer()->failures(), 0u);
    }
    SqliteOfflineStore again({}, &m_metrics);
    QString error;
    QVERIFY2(again.open(path, &error), qPrintable(error));
    QCOMPARE(again.total(), 3000 - 6);
    QCOMPARE(again.count("u2"), 6);
}

PUSHCONSOLE_TEST_MAIN(tst_SqliteStore)
#include "tst_sqlitestore.moc"
