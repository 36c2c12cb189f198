#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

class EventLog;

#include "Event.h"

// Logs refused connections without letting a flood of them flood the log:
// the first refusal of each second is logged as it happens, the rest of that
// second are counted and summed up in one line when the second is over.
// Also serves other floods of one kind of event (evictions), with their own
// event type and summary (%1: how many, %2: the last reason).
class RefusalReporter final : public QObject
{
    Q_OBJECT
public:
    explicit RefusalReporter(EventLog *log, QObject *parent = nullptr);
    RefusalReporter(
        EventLog *log, Event::Type type, const QString &summary, QObject *parent = nullptr);

    void report(const QString &what, const QString &peer);

private:
    void flush();

    EventLog *m_log;
    Event::Type m_type = Event::Type::Rejected;
    QString m_summary;
    QTimer m_window;
    int m_suppressed = 0;
    QString m_lastReason;
};
