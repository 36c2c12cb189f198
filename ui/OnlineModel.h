#pragma once

#include "GatewayTypes.h"

#include <QAbstractTableModel>
#include <QByteArray>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <vector>

class GatewaySource;

// One row per online uid, keyed by uid. The source's presence signals only
// mark a uid dirty; a short timer applies them as row inserts, removals and
// dataChanged, so ten thousand clients connecting at once cost a few model
// updates, never a reset. A second timer refreshes the per-uid counters.
//
// In cluster mode the model also holds the uids bound only on other nodes
// (the source knows the uid and its nodes, no connection details). Their
// changes go through the same dirty set; a proxy (OnlineFilterProxy) hides
// them for the "this node" view.
class OnlineModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        UidColumn,
        NodeColumn,
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
        LocalRole, // bool: bound on this node (else only on other nodes)
    };

    explicit OnlineModel(GatewaySource *source, QObject *parent = nullptr);

    // Cluster mode: rows name their nodes.
    bool isCluster() const { return m_cluster; }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    QByteArray uidAt(int row) const;
    int rowOf(const QByteArray &uid) const { return m_rowOf.value(uid, -1); }
    // This node's uids and connections; rows also counts uids held elsewhere.
    int localUidCount() const { return m_localUids; }
    int connectionCount() const { return m_connections; }
    bool isLocal(const QByteArray &uid) const;
    // The other nodes holding uid, sorted; empty outside cluster mode.
    QStringList otherNodesOf(const QByteArray &uid) const;

    // Both run on their own timers; public so tests need not wait for them.
    void applyPending();
    void refreshCounters();
    void setRefreshInterval(int ms) { m_refreshTimer.setInterval(ms); }

Q_SIGNALS:
    // uids and connections on this node; emitted after every batch, also
    // when only other nodes' uids changed.
    void countsChanged(int uids, int connections);

private:
    using Row = PresenceEntry;

    void markDirty(const QByteArray &uid);
    void markAllDirty();
    void collectAllDirty();
    void clusterChanged();
    QString nodeText(const Row &row) const;
    QVariant localData(const Row &row, int column, int role) const;
    void reindexFrom(int row);
    void updateTotals();

    GatewaySource *m_source;
    bool m_cluster = false;
    QString m_nodeId;
    std::vector<Row> m_rows;
    QHash<QByteArray, int> m_rowOf;
    QSet<QByteArray> m_dirty;
    // Set by a presence reset: every uid is read again at the next batch,
    // and a batch that large may be applied as one model reset instead of
    // thousands of scattered row changes.
    bool m_allStale = false;
    QTimer m_applyTimer;
    QTimer m_refreshTimer;
    int m_localUids = 0;
    int m_connections = 0;
    qint64 m_now = 0; // when the counters were read; "5 s ago" is relative to it
};
