#pragma once

#include "Event.h"

#include <QSortFilterProxyModel>

// Filters the message log by direction, uid and text. It reads the events
// directly instead of going through data(), because it runs for every row
// of every batch.
class LogFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit LogFilterProxy(QObject *parent = nullptr);

    void setDirectionShown(Event::Direction direction, bool shown);
    bool isDirectionShown(Event::Direction direction) const;
    // Substring of the uid, case-insensitive; empty shows every uid.
    void setUidFilter(const QString &text);
    // Substring of the text, origin or result, case-insensitive.
    void setTextFilter(const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    bool m_shown[3] = {true, true, true};
    QByteArray m_uid;
    QString m_text;
};
