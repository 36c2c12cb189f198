#pragma once

#include <QAbstractTableModel>
#include <QByteArray>
#include <QHash>
#include <QSet>
#include <QTimer>

#include <vector>

class SessionRegistry;

// One row per online uid, keyed by uid. Registry signals only mark a uid
// dirty; a short timer applies them as row inserts, removals and
// dataChanged, so ten thousand clients connecting at once cost a few model
// updates, never a reset. A second timer refreshes the per-uid counters.
class OnlineModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        UidColumn,
        ConnectionsColumn,
        PeersColumn,
        ConnectedColumn,
        ActivityColumn,
        InColumn,
        OutColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw value: numbers and times sort as numbers
        UidRole,
    };

    explicit OnlineModel(SessionRegistry *registry, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    QByteArray uidAt(int row) const;
    int rowOf(const QByteArray &uid) const { return m_rowOf.value(uid, -1); }
    int connectionCount() const { return m_connections; }

    // Both run on their own timers; public so tests need not wait for them.
    void applyPending();
    void refreshCounters();
    void setRefreshInterval(int ms) { m_refreshTimer.setInterval(ms); }

Q_SIGNALS:
    void countsChanged(int uids, int connections);

private:
    struct Row
    {
        QByteArray uid;
        int connections = 0;
        QStringList peers;
        qint64 connectedAt = 0; // the oldest connection, ms since the epoch
        qint64 lastActivity = 0; // the latest of all connections
        quint64 messagesIn = 0;
        quint64 messagesOut = 0;
    };

    void markDirty(const QByteArray &uid);
    bool readRow(Row *row) const; // false when the uid is gone
    void reindexFrom(int row);
    void updateTotals();

    SessionRegistry *m_registry;
    std::vector<Row> m_rows;
    QHash<QByteArray, int> m_rowOf;
    QSet<QByteArray> m_dirty;
    QTimer m_applyTimer;
    QTimer m_refreshTimer;
    int m_connections = 0;
    qint64 m_now = 0; // when the counters were read; "5 s ago" is relative to it
};
