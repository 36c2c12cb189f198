#include "RefusalReporter.h"

#include "EventLog.h"

RefusalReporter::RefusalReporter(EventLog *log, QObject *parent)
    : RefusalReporter(log, Event::Type::Rejected,
        QStringLiteral("%1 more connections refused in the last second (last: %2)"), parent)
{ }

RefusalReporter::RefusalReporter(
    EventLog *log, Event::Type type, const QString &summary, QObject *parent)
    : QObject(parent)
    , m_log(log)
    , m_type(type)
    , m_summary(summary)
{
    m_window.setSingleShot(true);
    m_window.setInterval(1000);
    connect(&m_window, &QTimer::timeout, this, &RefusalReporter::flush);
}

void RefusalReporter::report(const QString &what, const QString &peer)
{
    if (m_window.isActive()) {
        ++m_suppressed;
        m_lastReason = what;
        return;
    }
    Event e;
    e.type = m_type;
    e.level = Event::Level::Warning;
    e.peer = peer;
    e.detail = what;
    m_log->append(std::move(e));
    m_window.start();
}

void RefusalReporter::flush()
{
    if (m_suppressed == 0)
        return;
    Event e;
    e.type = m_type;
    e.level = Event::Level::Warning;
    e.detail = m_summary.arg(m_suppressed).arg(m_lastReason);
    m_log->append(std::move(e));
    m_suppressed = 0;
    m_window.start(); // keep summing while the flood lasts
}
