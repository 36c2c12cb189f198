#include "OnlineModel.h"

#include "SessionRegistry.h"
#include "TimeText.h"

#include <QDateTime>

#include <algorithm>
#include <functional>
#include <utility>

namespace {
constexpr int ApplyDelayMs = 100;
constexpr int RefreshMs = 1000;
constexpr int PeersShown = 2;
} // namespace

OnlineModel::OnlineModel(SessionRegistry *registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_applyTimer.setSingleShot(true);
    m_applyTimer.setInterval(ApplyDelayMs);
    connect(&m_applyTimer, &QTimer::timeout, this, &OnlineModel::applyPending);
    m_refreshTimer.setInterval(RefreshMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &OnlineModel::refreshCounters);
    m_refreshTimer.start();

    connect(registry, &SessionRegistry::uidOnline, this, &OnlineModel::markDirty);
    connect(registry, &SessionRegistry::uidOffline, this, &OnlineModel::markDirty);
    connect(registry, &SessionRegistry::uidChanged, this,
        [this](const QByteArray &uid, int) { markDirty(uid); });

    m_now = QDateTime::currentMSecsSinceEpoch();
    const QList<QByteArray> uids = registry->uids();
    m_rows.reserve(size_t(uids.size()));
    for (const QByteArray &uid : uids) {
        Row row;
        row.uid = uid;
        if (readRow(&row)) {
            m_rowOf.insert(uid, int(m_rows.size()));
            m_rows.push_back(std::move(row));
        }
    }
    updateTotals();
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

QVariant OnlineModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows[size_t(index.row())];
    if (role == UidRole)
        return QString::fromUtf8(r.uid);
    if (role == Qt::TextAlignmentRole) {
        if (index.column() == ConnectionsColumn || index.column() == InColumn
            || index.column() == OutColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == SortRole) {
        switch (index.column()) {
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
        switch (index.column()) {
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
    switch (index.column()) {
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
        case ConnectionsColumn:
            return tr("Open WebSocket connections bound to this uid");
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

bool OnlineModel::readRow(Row *row) const
{
    const QList<SessionInfo> sessions = m_registry->sessions(row->uid);
    if (sessions.isEmpty())
        return false;
    row->connections = int(sessions.size());
    row->peers.clear();
    row->connectedAt = sessions.front().connectedAt;
    row->lastActivity = 0;
    row->messagesIn = 0;
    row->messagesOut = 0;
    for (const SessionInfo &s : sessions) {
        row->peers.append(s.peer);
        row->connectedAt = qMin(row->connectedAt, s.connectedAt);
        row->lastActivity = qMax(row->lastActivity, s.lastActivity);
        row->messagesIn += s.messagesIn;
        row->messagesOut += s.messagesOut;
    }
    return true;
}

void OnlineModel::applyPending()
{
    m_applyTimer.stop();
    if (m_dirty.isEmpty())
        return;
    const QSet<QByteArray> dirty = std::exchange(m_dirty, {});
    m_now = QDateTime::currentMSecsSinceEpoch();

    std::vector<int> gone;
    std::vector<Row> added;
    for (const QByteArray &uid : dirty) {
        const int at = rowOf(uid);
        Row fresh;
        fresh.uid = uid;
        const bool online = readRow(&fresh);
        if (at < 0) {
            if (online)
                added.push_back(std::move(fresh));
        } else if (!online) {
            gone.push_back(at);
        } else {
            m_rows[size_t(at)] = std::move(fresh);
            Q_EMIT dataChanged(index(at, 0), index(at, ColumnCount - 1));
        }
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
    for (Row &row : m_rows)
        readRow(&row);
    // "Last activity" is relative and changes every second for every row,
    // so one range covers what changed without comparing rows one by one.
    Q_EMIT dataChanged(index(0, PeersColumn), index(int(m_rows.size()) - 1, OutColumn));
}

void OnlineModel::updateTotals()
{
    int connections = 0;
    for (const Row &row : m_rows)
        connections += row.connections;
    m_connections = connections;
    Q_EMIT countsChanged(int(m_rows.size()), m_connections);
}
