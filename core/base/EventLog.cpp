#include "EventLog.h"

#include <QDateTime>

EventLog::EventLog(int capacity, QObject *parent)
    : QObject(parent)
    , m_capacity(qMax(1, capacity))
{ }

void EventLog::append(Event event)
{
    if (!captures(event.level))
        return;
    if (event.time == 0)
        event.time = QDateTime::currentMSecsSinceEpoch();
    // Bounded here, once for the ring, the console and stdout alike.
    event.limit();
    ++m_total;
    if (m_ring.size() < m_capacity) {
        // Grown by hand so that a full ring holds exactly m_capacity slots,
        // not up to twice as many.
        if (m_ring.size() == m_ring.capacity())
            m_ring.reserve(qMin<qsizetype>(m_capacity, qMax<qsizetype>(64, 2 * m_ring.size())));
        m_ring.append(event);
    } else {
        m_ring[m_head] = event;
        m_head = (m_head + 1) % m_capacity;
    }
    Q_EMIT eventAdded(event);
}

std::array<quint64, Event::TypeCount> EventLog::takeUnbuilt()
{
    std::array<quint64, Event::TypeCount> out = m_unbuilt;
    m_unbuilt = {};
    return out;
}

QList<Event> EventLog::snapshot() const
{
    QList<Event> out;
    out.reserve(m_ring.size());
    for (qsizetype i = 0; i < m_ring.size(); ++i)
        out.append(m_ring.at((m_head + i) % m_ring.size()));
    return out;
}
