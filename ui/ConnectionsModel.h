#pragma once

#include "SessionInfo.h"

#include <QAbstractTableModel>
#include <QList>
#include <QTimer>

class GatewaySource;

// The connections of one uid, for the detail pane under the online table.
// Rows are keyed by connection id: a refresh inserts, removes and updates
// rows in place, so a selection survives a tab opening next to it. The
// source answers a request at once or after a round trip; one request is
// in flight at a time, and an answer for a uid no longer shown is dropped.
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

    explicit ConnectionsModel(GatewaySource *source, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    QByteArray uid() const { return m_uid; }
    void setUid(const QByteArray &uid);
    void refresh();

private:
    void apply(const QList<SessionInfo> &fresh);

    GatewaySource *m_source;
    QByteArray m_uid;
    quint64 m_request = 0; // the latest request; older answers are stale
    bool m_inFlight = false;
    bool m_again = false; // asked to refresh while a request was in flight
    QList<SessionInfo> m_rows;
    QTimer m_timer;
    qint64 m_now = 0;
};
