#include "ConnectionsModel.h"

#include "GatewaySource.h"
#include "TimeText.h"

#include <QDateTime>
#include <QSet>

#include <utility>

ConnectionsModel::ConnectionsModel(GatewaySource *source, QObject *parent)
    : QAbstractTableModel(parent)
    , m_source(source)
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ConnectionsModel::refresh);
    m_timer.start();
    // Only the shown uid matters; a comparison per presence signal is cheap.
    connect(source, &GatewaySource::presenceChanged, this, [this](const QByteArray &uid) {
        if (uid == m_uid)
            refresh();
    });
    connect(source, &GatewaySource::presenceReset, this, &ConnectionsModel::refresh);
}

int ConnectionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

void ConnectionsModel::setUid(const QByteArray &uid)
{
    if (uid == m_uid)
        return;
    m_uid = uid;
    // Whatever is in flight answers for the previous uid, whose rows go now
    // rather than stay under the new uid's title until the answer comes.
    m_inFlight = false;
    m_again = false;
    ++m_request;
    apply({});
    refresh();
}

void ConnectionsModel::refresh()
{
    if (m_uid.isEmpty()) {
        apply({});
        return;
    }
    if (m_inFlight) {
        m_again = true;
        return;
    }
    m_inFlight = true;
    const quint64 request = ++m_request;
    m_source->requestSessions(m_uid, this, [this, request](const QList<SessionInfo> &fresh) {
        if (request != m_request)
            return;
        m_inFlight = false;
        apply(fresh);
        if (std::exchange(m_again, false))
            refresh();
    });
}

void ConnectionsModel::apply(const QList<SessionInfo> &fresh)
{
    m_now = QDateTime::currentMSecsSinceEpoch();
    QSet<quint64> freshIds;
    for (const SessionInfo &s : fresh)
        freshIds.insert(s.id);

    for (int r = int(m_rows.size()) - 1; r >= 0; --r) {
        if (!freshIds.contains(m_rows.at(r).id)) {
            beginRemoveRows(QModelIndex(), r, r);
            m_rows.removeAt(r);
            endRemoveRows();
        }
    }
    QSet<quint64> known;
    for (int r = 0; r < m_rows.size(); ++r) {
        known.insert(m_rows.at(r).id);
        for (const SessionInfo &s : fresh) {
            if (s.id == m_rows.at(r).id) {
                m_rows[r] = s;
                break;
            }
        }
    }
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
    QList<SessionInfo> added;
    for (const SessionInfo &s : fresh) {
        if (!known.contains(s.id))
            added.append(s);
    }
    if (!added.isEmpty()) {
        const int first = int(m_rows.size());
        beginInsertRows(QModelIndex(), first, first + int(added.size()) - 1);
        m_rows.append(added);
        endInsertRows();
    }
}

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionInfo &s = m_rows.at(index.row());
    const int column = index.column();
    if (role == Qt::TextAlignmentRole) {
        if (column == IdColumn || column >= InColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == SortRole) {
        switch (column) {
        case IdColumn:
            return s.id;
        case PeerColumn:
            return s.peer;
        case ConnectedColumn:
            return s.connectedAt;
        case ActivityColumn:
            return s.lastActivity;
        case InColumn:
            return s.messagesIn;
        case OutColumn:
            return s.messagesOut;
        case BytesInColumn:
            return s.bytesIn;
        case BytesOutColumn:
            return s.bytesOut;
        }
        return {};
    }
    if (role == Qt::ToolTipRole && column == ConnectedColumn)
        return tr("Connected for %1").arg(TimeText::duration(m_now - s.connectedAt));
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case IdColumn:
        return s.id;
    case PeerColumn:
        return s.peer;
    case ConnectedColumn:
        return TimeText::clock(s.connectedAt);
    case ActivityColumn:
        return TimeText::ago(s.lastActivity, m_now);
    case InColumn:
        return s.messagesIn;
    case OutColumn:
        return s.messagesOut;
    case BytesInColumn:
        return TimeText::bytes(qint64(s.bytesIn));
    case BytesOutColumn:
        return TimeText::bytes(qint64(s.bytesOut));
    }
    return {};
}

QVariant ConnectionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn:
        return tr("Connection");
    case PeerColumn:
        return tr("Peer");
    case ConnectedColumn:
        return tr("Connected since");
    case ActivityColumn:
        return tr("Last activity");
    case InColumn:
        return tr("In");
    case OutColumn:
        return tr("Out");
    case BytesInColumn:
        return tr("Bytes in");
    case BytesOutColumn:
        return tr("Bytes out");
    }
    return {};
}
