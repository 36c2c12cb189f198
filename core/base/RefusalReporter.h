#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

class EventLog;

#include "Events.h"

// Logs refused connections without letting a flood of them flood the log:
// the first refusal of each second is logged as it happens, the rest of that
// second are counted and summed up in one line when the second is over.
// Also serves other floods of one kind of event (evictions), with their own
// event type and summary reason (arguments: how many, the last reason).
class RefusalReporter final : public QObject
{
    Q_OBJECT
public:
    explicit RefusalReporter(EventLog *log, QObject *parent = nullptr);
    RefusalReporter(
        EventLog *log, Event::Type type, Event::Reason summary, QObject *parent = nullptr);

    void report(const Events::Why &what, const QString &peer);

private:
    void flush();

    EventLog *m_log;
    Event::Type m_type = Event::Type::Rejected;
    Event::Reason m_summary = Event::Reason::RefusalsRepeated;
    QTimer m_window;
    int m_suppressed = 0;
    Events::Why m_lastReason;
};
