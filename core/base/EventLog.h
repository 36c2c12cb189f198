#pragma once

#include "Event.h"

#include <QList>
#include <QObject>

#include <array>

// A bounded ring of the latest events; the oldest is dropped when full so a
// flood of pushes cannot grow memory, and each event is cut to its bounds
// (Event::limit()), so the ring holds at most capacity x ~3.2 KiB.
class EventLog final : public QObject
{
    Q_OBJECT
public:
    explicit EventLog(int capacity = 10000, QObject *parent = nullptr);

    void append(Event event);

    // Events below this level are not kept or signalled. Callers on hot
    // paths check captures() before they build an event at all: a headless
    // server at "info" must not pay for a debug event per push.
    void setCaptureLevel(Event::Level level) { m_captureLevel = level; }
    Event::Level captureLevel() const { return m_captureLevel; }
    bool captures(Event::Level level) const
    {
        return level >= m_captureLevel || (m_watchers > 0 && !m_watchersSaturated);
    }
    // Someone reads every event as it comes (an attached console's stream):
    // while there is one, every level is kept and signalled, whatever the
    // capture level; the headless log still prints only its own level.
    void addWatcher() { ++m_watchers; }
    void removeWatcher() { m_watchers = qMax(0, m_watchers - 1); }
    // Every watcher has had its share of events for now (the admin
    // stream's rate cap): events below the capture level are not built at
    // all, which keeps a flood of pushes as cheap as with nobody watching.
    // The hot paths report what they did not build (noteUnbuilt()), so the
    // watchers can still say how many they missed, by type.
    void setWatchersSaturated(bool saturated) { m_watchersSaturated = saturated; }
    bool watchersSaturated() const { return m_watchersSaturated; }
    void noteUnbuilt(Event::Type type)
    {
        if (m_watchers > 0)
            ++m_unbuilt[size_t(type)];
    }
    // What was not built since the last call, by Event::Type; then zeroes.
    std::array<quint64, Event::TypeCount> takeUnbuilt();

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
    Event::Level m_captureLevel = Event::Level::Debug;
    int m_watchers = 0;
    bool m_watchersSaturated = false;
    std::array<quint64, Event::TypeCount> m_unbuilt = {};
};
