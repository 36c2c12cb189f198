#pragma once

#include "Event.h"

#include <QList>
#include <QObject>

// A bounded ring of the latest events; the oldest is dropped when full so a
// flood of pushes cannot grow memory.
class EventLog final : public QObject
{
    Q_OBJECT
public:
    explicit EventLog(int capacity = 10000, QObject *parent = nullptr);

    void append(Event event);

    int capacity() const { return m_capacity; }
    int size() const { return int(m_ring.size()); }
    quint64 totalAppended() const { return m_total; }
    // Oldest first.
    QList<Event> snapshot() const;

Q_SIGNALS:
    void eventAdded(const Event &event);

private:
    QList<Event> m_ring;
    int m_capacity;
    int m_head = 0; // index of the oldest event once the ring is full
    quint64 m_total = 0;
};
