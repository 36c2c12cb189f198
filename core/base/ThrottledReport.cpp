#include "ThrottledReport.h"

#include "EventLog.h"

ThrottledReport::ThrottledReport(EventLog *log, Event::Level level, int windowMs, QObject *parent)
    : QObject(parent)
    , m_log(log)
    , m_level(level)
{
    m_window.setSingleShot(true);
    m_window.setInterval(windowMs);
    connect(&m_window, &QTimer::timeout, this, &ThrottledReport::flush);
}

void ThrottledReport::report(const Events::Why &what)
{
    if (m_window.isActive()) {
        ++m_suppressed;
        m_last = what;
        return;
    }
    m_log->append(Events::error(m_level, what));
    m_window.start();
}

void ThrottledReport::flush()
{
    if (m_suppressed == 0)
        return;
    m_log->append(Events::error(m_level,
        Events::wrap(Event::Reason::Repeated,
            {QString::number(m_suppressed), QString::number(m_window.interval() / 1000)}, m_last)));
    m_suppressed = 0;
    m_window.start(); // keep summing while it lasts
}
