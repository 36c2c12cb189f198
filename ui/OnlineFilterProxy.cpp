#include "OnlineFilterProxy.h"

#include "OnlineModel.h"

OnlineFilterProxy::OnlineFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(OnlineModel::SortRole);
    setFilterKeyColumn(OnlineModel::UidColumn);
    setFilterRole(OnlineModel::UidRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    // A uid that binds here after being held elsewhere changes LocalRole
    // in place; the scope filter must see that.
    setDynamicSortFilter(true);
}

void OnlineFilterProxy::setThisNodeOnly(bool on)
{
    if (on == m_thisNodeOnly)
        return;
    m_thisNodeOnly = on;
    // Re-filters row by row: rows come and go, the selection of the others stays.
    invalidateFilter();
}

void OnlineFilterProxy::setUidFilter(const QString &text)
{
    setFilterFixedString(text.trimmed());
}

bool OnlineFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (m_thisNodeOnly) {
        const QModelIndex uid =
            sourceModel()->index(sourceRow, OnlineModel::UidColumn, sourceParent);
        if (!uid.data(OnlineModel::LocalRole).toBool())
            return false;
    }
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}
