#include "PushHistoryModel.h"

#include "TimeText.h"

#include <QBrush>
#include <QColor>
#include <QVariantMap>

namespace {
QString singleLine(const QString &text)
{
    return text.simplified();
}
} // namespace

PushHistoryModel::PushHistoryModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

int PushHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant PushHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_entries.at(index.row());
    const QString target = e.broadcast ? tr("everyone") : e.targets;
    switch (role) {
    case Qt::DisplayRole:
        return tr("%1  →  %2   %3").arg(TimeText::clock(e.time), target, singleLine(e.payload));
    case Qt::ToolTipRole:
        return tr("To: %1\nSent: %2\nResult: %3\n\n%4")
            .arg(target, TimeText::clock(e.time), e.result, e.payload);
    case Qt::ForegroundRole:
        return e.ok ? QVariant() : QVariant(QBrush(QColor(0xb0, 0x5a, 0x00)));
    }
    return {};
}

void PushHistoryModel::add(const Entry &entry)
{
    for (int r = 0; r < m_entries.size(); ++r) {
        const Entry &old = m_entries.at(r);
        if (old.targets == entry.targets && old.broadcast == entry.broadcast
            && old.payload == entry.payload) {
            beginRemoveRows(QModelIndex(), r, r);
            m_entries.removeAt(r);
            endRemoveRows();
            break;
        }
    }
    beginInsertRows(QModelIndex(), 0, 0);
    m_entries.prepend(entry);
    endInsertRows();
    if (m_entries.size() > m_capacity) {
        beginRemoveRows(QModelIndex(), m_capacity, int(m_entries.size()) - 1);
        m_entries.resize(m_capacity);
        endRemoveRows();
    }
}

void PushHistoryModel::setCapacity(int capacity)
{
    m_capacity = qMax(1, capacity);
    if (m_entries.size() > m_capacity) {
        beginRemoveRows(QModelIndex(), m_capacity, int(m_entries.size()) - 1);
        m_entries.resize(m_capacity);
        endRemoveRows();
    }
}

QVariantList PushHistoryModel::toVariant() const
{
    QVariantList list;
    for (const Entry &e : m_entries) {
        list.append(QVariantMap {
            {QStringLiteral("targets"), e.targets},
            {QStringLiteral("broadcast"), e.broadcast},
            {QStringLiteral("payload"), e.payload},
            {QStringLiteral("time"), e.time},
            {QStringLiteral("result"), e.result},
            {QStringLiteral("ok"), e.ok},
        });
    }
    return list;
}

void PushHistoryModel::fromVariant(const QVariantList &list)
{
    QList<Entry> entries;
    for (const QVariant &v : list) {
        const QVariantMap m = v.toMap();
        Entry e;
        e.targets = m.value(QStringLiteral("targets")).toString();
        e.broadcast = m.value(QStringLiteral("broadcast")).toBool();
        e.payload = m.value(QStringLiteral("payload")).toString();
        e.time = m.value(QStringLiteral("time")).toLongLong();
        e.result = m.value(QStringLiteral("result")).toString();
        e.ok = m.value(QStringLiteral("ok")).toBool();
        if (!e.payload.isEmpty() && entries.size() < m_capacity)
            entries.append(e);
    }
    beginResetModel();
    m_entries = entries;
    endResetModel();
}
