#pragma once

#include "SessionInfo.h"

#include <QAbstractTableModel>
#include <QList>
#include <QTimer>

class SessionRegistry;

// The connections of one uid, for the detail pane under the online table.
// Rows are keyed by connection id: a refresh inserts, removes and updates
// rows in place, so a selection survives a tab opening next to it.
class ConnectionsModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        IdColumn,
        PeerColumn,
        ConnectedColumn,
        ActivityColumn,
        InColumn,
        OutColumn,
        BytesInColumn,
        BytesOutColumn,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1 };

    explicit ConnectionsModel(SessionRegistry *registry, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    QByteArray uid() const { return m_uid; }
    void setUid(const QByteArray &uid);
    void refresh();

private:
    SessionRegistry *m_registry;
    QByteArray m_uid;
    QList<SessionInfo> m_rows;
    QTimer m_timer;
    qint64 m_now = 0;
};
