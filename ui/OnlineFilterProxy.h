#pragma once

#include <QSortFilterProxyModel>

// Sorts the online table and filters it by uid and by scope: the whole
// cluster, or this node only (rows whose uid is bound here).
class OnlineFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit OnlineFilterProxy(QObject *parent = nullptr);

    bool thisNodeOnly() const { return m_thisNodeOnly; }
    void setThisNodeOnly(bool on);
    void setUidFilter(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    bool m_thisNodeOnly = false;
};
