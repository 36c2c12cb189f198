#include "LogFilterProxy.h"

#include "EventText.h"
#include "LogModel.h"

LogFilterProxy::LogFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{ }

void LogFilterProxy::setDirectionShown(Event::Direction direction, bool shown)
{
    if (m_shown[int(direction)] == shown)
        return;
    m_shown[int(direction)] = shown;
    invalidateRowsFilter();
}

bool LogFilterProxy::isDirectionShown(Event::Direction direction) const
{
    return m_shown[int(direction)];
}

void LogFilterProxy::setUidFilter(const QString &text)
{
    const QByteArray uid = text.trimmed().toUtf8().toLower();
    if (uid == m_uid)
        return;
    m_uid = uid;
    invalidateRowsFilter();
}

void LogFilterProxy::setTextFilter(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateRowsFilter();
}

bool LogFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    Q_UNUSED(sourceParent);
    const auto *log = static_cast<const LogModel *>(sourceModel());
    const Event &e = log->event(sourceRow);
    if (!m_shown[int(e.direction())])
        return false;
    // uids are ASCII by contract, so lower-casing bytes is enough.
    if (!m_uid.isEmpty() && !e.uid.toLower().contains(m_uid))
        return false;
    if (!m_text.isEmpty()) {
        return EventText::text(e).contains(m_text, Qt::CaseInsensitive)
            || EventText::origin(e).contains(m_text, Qt::CaseInsensitive)
            || EventText::result(e).contains(m_text, Qt::CaseInsensitive);
    }
    return true;
}
