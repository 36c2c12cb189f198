#include "OfflineStore.h"

#include "Logging.h"
#include "Metrics.h"
#include "ThrottledReport.h"

namespace {
// A full store or a full disk repeats for every push: one line, then a sum.
constexpr int ReportWindowMs = 10 * 1000;
} // namespace

OfflineStore::OfflineStore(const Limits &limits, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_limits(limits)
    , m_metrics(metrics)
{ }

OfflineStore::~OfflineStore() = default;

void OfflineStore::setEventLog(EventLog *log)
{
    m_dropReport = std::make_unique<ThrottledReport>(log, Event::Level::Warning, ReportWindowMs);
    m_refusalReport = std::make_unique<ThrottledReport>(log, Event::Level::Warning, ReportWindowMs);
    m_errorReport = std::make_unique<ThrottledReport>(log, Event::Level::Error, ReportWindowMs);
}

void OfflineStore::refused(const QByteArray &uid, qint64 size, int uids)
{
    m_metrics->offlineDropped += quint64(uids);
    const Events::Why why = Events::why(Event::Reason::OfflineRefused,
        {QString::number(size), QString::number(uids), QString::fromUtf8(uid),
            QString::number(m_limits.maxBytesPerUid), QString::number(m_limits.maxBytes)});
    if (m_refusalReport)
        m_refusalReport->report(why);
    else
        qCWarning(lcCluster) << Events::english(why);
}

void OfflineStore::dropped(const QByteArray &uid, int ownOldest, int othersOldest)
{
    if (ownOldest + othersOldest <= 0)
        return;
    m_metrics->offlineDropped += quint64(ownOldest + othersOldest);
    Events::Why why;
    if (ownOldest > 0 && othersOldest > 0)
        why = Events::why(Event::Reason::OfflineDroppedBoth,
            {QString::number(ownOldest), QString::fromUtf8(uid), QString::number(othersOldest)});
    else if (ownOldest > 0)
        why = Events::why(
            Event::Reason::OfflineDroppedOwn, {QString::number(ownOldest), QString::fromUtf8(uid)});
    else
        why = Events::why(Event::Reason::OfflineDroppedAll, othersOldest);
    if (m_dropReport)
        m_dropReport->report(why);
    else
        qCDebug(lcCluster) << Events::english(why);
}

void OfflineStore::failed(const QString &what, const QString &error)
{
    ++m_metrics->offlineStoreErrors;
    const Events::Why why = Events::why(Event::Reason::OfflineFailed, {what, error});
    if (m_errorReport)
        m_errorReport->report(why);
    else
        qCWarning(lcCluster) << Events::english(why);
}
