#pragma once

#include "Events.h"

#include <QObject>
#include <QTimer>

class EventLog;

// One kind of trouble that can repeat for every request (a full disk, a
// full store): the first event of a window is logged as it happens, the
// rest are counted and summed up in one line when the window is over, so a
// flood of them cannot flood the log.
class ThrottledReport final : public QObject
{
    Q_OBJECT
public:
    ThrottledReport(EventLog *log, Event::Level level, int windowMs, QObject *parent = nullptr);

    void report(const Events::Why &what);

private:
    void flush();

    EventLog *m_log;
    Event::Level m_level;
    QTimer m_window;
    int m_suppressed = 0;
    Events::Why m_last;
};
