#include "OnlineModel.h"

#include "GatewaySource.h"
#include "TimeText.h"

#include <QDateTime>

#include <algorithm>
#include <functional>
#include <utility>

namespace {
constexpr int ApplyDelayMs = 100;
constexpr int RefreshMs = 1000;
constexpr int PeersShown = 2;
// Past this many rows in one batch after a presence reset (a node with
// thousands of uids joined or left, the link to Redis went down), one model
// reset is cheaper for views and proxies than as many scattered removals.
constexpr size_t RebuildThreshold = 500;
const QString Dash = QStringLiteral("—");
} // namespace

OnlineModel::OnlineModel(GatewaySource *source, QObject *parent)
    : QAbstractTableModel(parent)
    , m_source(source)
{
    m_applyTimer.setSingleShot(true);
    m_applyTimer.setInterval(ApplyDelayMs);
    connect(&m_applyTimer, &QTimer::timeout, this, &OnlineModel::applyPending);
    m_refreshTimer.setInterval(RefreshMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &OnlineModel::refreshCounters);
    m_refreshTimer.start();

    connect(source, &GatewaySource::presenceChanged, this, &OnlineModel::markDirty);
    connect(source, &GatewaySource::presenceReset, this, &OnlineModel::markAllDirty);
    connect(source, &GatewaySource::clusterChanged, this, &OnlineModel::clusterChanged);

    const ClusterState cluster = source->cluster();
    m_cluster = cluster.enabled;
    m_nodeId = cluster.nodeId;
    // A window opened on a running cluster shows it whole from the start.
    m_now = QDateTime::currentMSecsSinceEpoch();
    const QList<QByteArray> uids = source->onlineUids();
    m_rows.reserve(size_t(uids.size()));
    for (const QByteArray &uid : uids) {
        Row row = source->presence(uid);
        if (row.isOnline()) {
            m_rowOf.insert(uid, int(m_rows.size()));
            m_rows.push_back(std::move(row));
        }
    }
    updateTotals();
}

void OnlineModel::clusterChanged()
{
    const ClusterState cluster = m_source->cluster();
    if (cluster.enabled == m_cluster && cluster.nodeId == m_nodeId)
        return;
    m_cluster = cluster.enabled;
    m_nodeId = cluster.nodeId;
    // Local rows now name this node.
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, NodeColumn), index(int(m_rows.size()) - 1, NodeColumn));
}

int OnlineModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int OnlineModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QByteArray OnlineModel::uidAt(int row) const
{
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].uid : QByteArray();
}

bool OnlineModel::isLocal(const QByteArray &uid) const
{
    const int row = rowOf(uid);
    return row >= 0 && m_rows[size_t(row)].connections > 0;
}

QStringList OnlineModel::otherNodesOf(const QByteArray &uid) const
{
    const int row = rowOf(uid);
    return row >= 0 ? m_rows[size_t(row)].otherNodes : QStringList();
}

QString OnlineModel::nodeText(const Row &row) const
{
    if (!m_cluster)
        return {};
    QStringList nodes = row.otherNodes;
    if (row.connections > 0)
        nodes.prepend(m_nodeId); // this node first: the rows it can act on
    return nodes.join(QStringLiteral(", "));
}

QVariant OnlineModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    const int column = index.column();
    if (role == UidRole)
        return QString::fromUtf8(r.uid);
    if (role == LocalRole)
        return r.connections > 0;
    if (column == NodeColumn) {
        switch (role) {
        case Qt::DisplayRole:
        case SortRole:
            return nodeText(r);
        case Qt::ToolTipRole:
            if (!m_cluster)
                return {};
            if (r.connections == 0)
                return tr("Connected to %1 only, not to this node")
                    .arg(r.otherNodes.join(QStringLiteral(", ")));
            if (!r.otherNodes.isEmpty())
                return tr("Connected to this node (%1) and to %2")
                    .arg(m_nodeId, r.otherNodes.join(QStringLiteral(", ")));
            return tr("Connected to this node (%1)").arg(m_nodeId);
        }
        return {};
    }
    if (r.connections == 0 && column != UidColumn) {
        // Held by other nodes only: the replica knows which, nothing about
        // their connections.
        switch (role) {
        case Qt::DisplayRole:
            // One dash says "not known here"; a row of them would only be noise.
            return column == ConnectionsColumn ? QVariant(Dash) : QVariant();
        case Qt::ToolTipRole:
            return tr("Connected to %1, not to this node: that node's console shows its "
                      "connections")
                .arg(r.otherNodes.join(QStringLiteral(", ")));
        case Qt::TextAlignmentRole:
            return column == ConnectionsColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                               : QVariant();
        }
    }
    return localData(r, column, role);
}

QVariant OnlineModel::localData(const Row &r, int column, int role) const
{
    if (role == Qt::TextAlignmentRole) {
        if (column == ConnectionsColumn || column == InColumn || column == OutColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == SortRole) {
        switch (column) {
        case UidColumn:
            return QString::fromUtf8(r.uid);
        case ConnectionsColumn:
            return r.connections;
        case PeersColumn:
            return r.peers.value(0);
        case ConnectedColumn:
            return r.connectedAt;
        case ActivityColumn:
            return r.lastActivity;
        case InColumn:
            return r.messagesIn;
        case OutColumn:
            return r.messagesOut;
        }
        return {};
    }
    if (role == Qt::ToolTipRole) {
        switch (column) {
        case PeersColumn:
            return r.peers.join(QLatin1Char('\n'));
        case ConnectedColumn:
            return tr("Connected for %1").arg(TimeText::duration(m_now - r.connectedAt));
        case ActivityColumn:
            return QDateTime::fromMSecsSinceEpoch(r.lastActivity).toString(Qt::ISODateWithMs);
        }
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case UidColumn:
        return QString::fromUtf8(r.uid);
    case ConnectionsColumn:
        return r.connections;
    case PeersColumn:
        if (r.peers.size() <= PeersShown)
            return r.peers.join(QStringLiteral(", "));
        return tr("%1 and %2 more")
            .arg(r.peers.mid(0, PeersShown).join(QStringLiteral(", ")))
            .arg(r.peers.size() - PeersShown);
    case ConnectedColumn:
        return TimeText::clock(r.connectedAt);
    case ActivityColumn:
        return TimeText::ago(r.lastActivity, m_now);
    case InColumn:
        return r.messagesIn;
    case OutColumn:
        return r.messagesOut;
    }
    return {};
}

QVariant OnlineModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case NodeColumn:
            return tr("The gateways of the cluster this uid is connected to, this one first");
        case ConnectionsColumn:
            return tr("Open WebSocket connections bound to this uid on this node");
        case InColumn:
            return tr("Frames received from this uid's clients, the bind message included");
        case OutColumn:
            return tr("Pushes delivered to this uid's connections");
        }
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case UidColumn:
        return tr("uid");
    case NodeColumn:
        return tr("Node");
    case ConnectionsColumn:
        return tr("Connections");
    case PeersColumn:
        return tr("Peers");
    case ConnectedColumn:
        return tr("Connected since");
    case ActivityColumn:
        return tr("Last activity");
    case InColumn:
        return tr("In");
    case OutColumn:
        return tr("Out");
    }
    return {};
}

void OnlineModel::markDirty(const QByteArray &uid)
{
    m_dirty.insert(uid);
    if (!m_applyTimer.isActive())
        m_applyTimer.start();
}

void OnlineModel::markAllDirty()
{
    // Read at the next batch, not now: a cluster link reports a fresh
    // snapshot before it counts itself up, and until then its presence
    // reads empty.
    m_allStale = true;
    if (!m_applyTimer.isActive())
        m_applyTimer.start();
}

void OnlineModel::collectAllDirty()
{
    // What was shown and what is online now; rows that read the same are
    // left alone when applied.
    for (const Row &row : m_rows)
        m_dirty.insert(row.uid);
    const QList<QByteArray> uids = m_source->onlineUids();
    for (const QByteArray &uid : uids)
        m_dirty.insert(uid);
}

void OnlineModel::applyPending()
{
    m_applyTimer.stop();
    const bool mayRebuild = std::exchange(m_allStale, false);
    if (mayRebuild)
        collectAllDirty();
    if (m_dirty.isEmpty())
        return;
    const QSet<QByteArray> dirty = std::exchange(m_dirty, {});
    m_now = QDateTime::currentMSecsSinceEpoch();

    std::vector<int> gone;
    std::vector<Row> added;
    std::vector<std::pair<int, Row>> changed;
    for (const QByteArray &uid : dirty) {
        const int at = rowOf(uid);
        Row fresh = m_source->presence(uid);
        const bool online = fresh.isOnline();
        if (at < 0) {
            if (online)
                added.push_back(std::move(fresh));
        } else if (!online) {
            gone.push_back(at);
        } else if (fresh != m_rows[size_t(at)]) {
            changed.emplace_back(at, std::move(fresh));
        }
    }

    if (mayRebuild && gone.size() + added.size() > RebuildThreshold) {
        beginResetModel();
        for (auto &[at, row] : changed)
            m_rows[size_t(at)] = std::move(row);
        std::vector<bool> drop(m_rows.size(), false);
        for (int at : gone)
            drop[size_t(at)] = true;
        size_t kept = 0;
        for (size_t r = 0; r < m_rows.size(); ++r) {
            if (!drop[r])
                m_rows[kept++] = std::move(m_rows[r]);
        }
        m_rows.resize(kept);
        for (Row &row : added)
            m_rows.push_back(std::move(row));
        m_rowOf.clear();
        reindexFrom(0);
        endResetModel();
        updateTotals();
        return;
    }

    for (auto &[at, row] : changed) {
        m_rows[size_t(at)] = std::move(row);
        Q_EMIT dataChanged(index(at, 0), index(at, ColumnCount - 1));
    }

    // Remove from the bottom up, one signal per run of adjacent rows.
    std::sort(gone.begin(), gone.end(), std::greater<int>());
    for (size_t i = 0; i < gone.size();) {
        size_t j = i;
        while (j + 1 < gone.size() && gone[j + 1] == gone[j] - 1)
            ++j;
        const int first = gone[j];
        const int last = gone[i];
        beginRemoveRows(QModelIndex(), first, last);
        for (int r = first; r <= last; ++r)
            m_rowOf.remove(m_rows[size_t(r)].uid);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
        i = j + 1;
    }
    if (!gone.empty())
        reindexFrom(gone.back());

    if (!added.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(added.size()) - 1);
        for (Row &row : added) {
            m_rowOf.insert(row.uid, int(m_rows.size()));
            m_rows.push_back(std::move(row));
        }
        endInsertRows();
    }
    updateTotals();
}

void OnlineModel::reindexFrom(int row)
{
    for (int r = row; r < int(m_rows.size()); ++r)
        m_rowOf[m_rows[size_t(r)].uid] = r;
}

void OnlineModel::refreshCounters()
{
    // Pending membership changes first, so every row read here is online.
    applyPending();
    if (m_rows.empty())
        return;
    m_now = QDateTime::currentMSecsSinceEpoch();
    // Rows of other nodes have no counters here; their changes come as
    // presence signals, and so do changes of membership.
    for (Row &row : m_rows) {
        if (row.connections == 0)
            continue;
        Row fresh = m_source->presence(row.uid);
        fresh.otherNodes = std::move(row.otherNodes);
        row = std::move(fresh);
    }
    // "Last activity" is relative and changes every second for every row,
    // so one range covers what changed without comparing rows one by one.
    Q_EMIT dataChanged(index(0, PeersColumn), index(int(m_rows.size()) - 1, OutColumn));
}

void OnlineModel::updateTotals()
{
    int uids = 0;
    int connections = 0;
    for (const Row &row : m_rows) {
        if (row.connections > 0) {
            ++uids;
            connections += row.connections;
        }
    }
    m_localUids = uids;
    m_connections = connections;
    Q_EMIT countsChanged(m_localUids, m_connections);
}
