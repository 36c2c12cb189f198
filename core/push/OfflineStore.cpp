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
    const QString detail =
        QStringLiteral("offline store: a message of %1 bytes for %2 uid(s) (%3) is over the "
                       "caps (--offline-max-bytes-per-uid %4, --offline-max-bytes %5): not stored")
            .arg(size)
            .arg(uids)
            .arg(QString::fromUtf8(uid))
            .arg(m_limits.maxBytesPerUid)
            .arg(m_limits.maxBytes);
    if (m_refusalReport)
        m_refusalReport->report(detail);
    else
        qCWarning(lcCluster) << detail;
}

void OfflineStore::dropped(const QByteArray &uid, int ownOldest, int othersOldest)
{
    if (ownOldest + othersOldest <= 0)
        return;
    m_metrics->offlineDropped += quint64(ownOldest + othersOldest);
    QString detail = QStringLiteral("offline store full: dropped");
    if (ownOldest > 0)
        detail += QStringLiteral(" the %1 oldest message(s) of uid %2 (per-uid caps)")
                      .arg(ownOldest)
                      .arg(QString::fromUtf8(uid));
    if (othersOldest > 0)
        detail += QStringLiteral("%1 the %2 oldest message(s) of all (total caps)")
                      .arg(ownOldest > 0 ? QStringLiteral(" and") : QString())
                      .arg(othersOldest);
    if (m_dropReport)
        m_dropReport->report(detail);
    else
        qCDebug(lcCluster) << detail;
}

void OfflineStore::failed(const QString &what, const QString &error)
{
    ++m_metrics->offlineStoreErrors;
    const QString detail = QStringLiteral("offline store: %1 failed: %2").arg(what, error);
    if (m_errorReport)
        m_errorReport->report(detail);
    else
        qCWarning(lcCluster) << detail;
}
