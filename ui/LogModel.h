#pragma once

#include "Event.h"

#include <QAbstractTableModel>
#include <QIcon>
#include <QList>
#include <QTimer>

#include <vector>

class GatewaySource;

// The message log: a ring of the latest events, oldest dropped. Events from
// the gateway are queued and inserted in one batch per interval, so 20 000
// pushes a second become about twenty model updates a second, and the queue
// itself never holds more than one ring's worth.
class LogModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        TimeColumn,
        DirectionColumn,
        UidColumn,
        OriginColumn,
        SizeColumn,
        TextColumn,
        ResultColumn,
        ColumnCount
    };
    enum Role {
        EventRole = Qt::UserRole + 1, // the Event itself
        FullTextRole,
    };

    static constexpr int DefaultBatchMs = 80;

    LogModel(GatewaySource *source, int capacity, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    int capacity() const { return m_capacity; }
    const Event &event(int row) const;
    // Events that were dropped, from the ring or before they reached it.
    quint64 dropped() const { return m_dropped; }
    int pending() const { return int(m_pending.size()); }
    void setBatchInterval(int ms) { m_timer.setInterval(ms); }

    // Inserts what is queued now instead of at the next tick.
    void flush();
    void clear();

Q_SIGNALS:
    void batchInserted(int rows);

private:
    void enqueue(const QList<Event> &events);
    int slot(int row) const { return (m_head + row) % m_capacity; }

    std::vector<Event> m_ring;
    QList<Event> m_pending;
    QTimer m_timer;
    int m_capacity;
    int m_head = 0; // slot of row 0
    int m_size = 0;
    quint64 m_dropped = 0;
    QIcon m_directionIcons[3];
};
