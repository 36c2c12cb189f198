#include "RefusalReporter.h"

#include "EventLog.h"

RefusalReporter::RefusalReporter(EventLog *log, QObject *parent)
    : RefusalReporter(log, Event::Type::Rejected, Event::Reason::RefusalsRepeated, parent)
{ }

RefusalReporter::RefusalReporter(
    EventLog *log, Event::Type type, Event::Reason summary, QObject *parent)
    : QObject(parent)
    , m_log(log)
    , m_type(type)
    , m_summary(summary)
{
    m_window.setSingleShot(true);
    m_window.setInterval(1000);
    connect(&m_window, &QTimer::timeout, this, &RefusalReporter::flush);
}

void RefusalReporter::report(const Events::Why &what, const QString &peer)
{
    if (m_window.isActive()) {
        ++m_suppressed;
        m_lastReason = what;
        return;
    }
    m_log->append(Events::refused(m_type, peer, what));
    m_window.start();
}

void RefusalReporter::flush()
{
    if (m_suppressed == 0)
        return;
    m_log->append(Events::refused(
        m_type, QString(), Events::wrap(m_summary, {QString::number(m_suppressed)}, m_lastReason)));
    m_suppressed = 0;
    m_window.start(); // keep summing while the flood lasts
}
