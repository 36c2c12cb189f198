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

void ThrottledReport::report(const QString &detail)
{
    if (m_window.isActive()) {
        ++m_suppressed;
        m_last = detail;
        return;
    }
    Event e;
    e.type = Event::Type::Error;
    e.level = m_level;
    e.detail = detail;
    m_log->append(std::move(e));
    m_window.start();
}

void ThrottledReport::flush()
{
    if (m_suppressed == 0)
        return;
    Event e;
    e.type = Event::Type::Error;
    e.level = m_level;
    e.detail = QStringLiteral("%1 more in the last %2 s (last: %3)")
                   .arg(m_suppressed)
                   .arg(m_window.interval() / 1000)
                   .arg(m_last);
    m_log->append(std::move(e));
    m_suppressed = 0;
    m_window.start(); // keep summing while it lasts
}
