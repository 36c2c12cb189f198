#include "LogModel.h"

#include "EventText.h"
#include "GatewaySource.h"
#include "TimeText.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QIcon>

namespace {
constexpr int DisplayedChars = 300; // the view elides anyway; the tooltip has more
constexpr int TooltipChars = 2000;

QString oneLine(QString text)
{
    if (text.size() > DisplayedChars) {
        text.truncate(DisplayedChars);
        text += QChar(0x2026);
    }
    for (QChar &c : text) {
        if (c == QLatin1Char('\n') || c == QLatin1Char('\r') || c == QLatin1Char('\t'))
            c = QLatin1Char(' ');
    }
    return text;
}

QColor resultColor(const Event &e)
{
    if (e.type == Event::Type::Push) {
        switch (e.status) {
        case PushStatus::Ok:
            return QColor(0x1b, 0x80, 0x3c);
        case PushStatus::Fail:
            return QColor(0xb0, 0x5a, 0x00);
        case PushStatus::Error:
            return QColor(0xc6, 0x28, 0x28);
        case PushStatus::Queued:
            return QColor(0x55, 0x6b, 0x8d);
        }
    }
    if (e.level >= Event::Level::Warning)
        return QColor(0xc6, 0x28, 0x28);
    return {};
}
} // namespace

LogModel::LogModel(GatewaySource *source, int capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(qMax(1, capacity))
{
    m_ring.resize(size_t(m_capacity));
    m_directionIcons[int(Event::Direction::In)] = QIcon(QStringLiteral(":/icons/dir-in.svg"));
    m_directionIcons[int(Event::Direction::Out)] = QIcon(QStringLiteral(":/icons/dir-out.svg"));
    m_directionIcons[int(Event::Direction::System)] =
        QIcon(QStringLiteral(":/icons/dir-system.svg"));
    m_timer.setSingleShot(true);
    m_timer.setInterval(DefaultBatchMs);
    connect(&m_timer, &QTimer::timeout, this, &LogModel::flush);
    connect(source, &GatewaySource::eventsArrived, this, &LogModel::enqueue);

    // What happened before the window opened, e.g. the listening line.
    const QList<Event> earlier = source->recentEvents();
    const qsizetype skip = qMax<qsizetype>(0, earlier.size() - m_capacity);
    for (qsizetype i = skip; i < earlier.size(); ++i)
        m_ring[size_t(m_size++)] = earlier.at(i);
}

void LogModel::enqueue(const QList<Event> &events)
{
    // Only a ring's worth can ever be shown: older queued events would be
    // inserted just to be dropped again.
    const qsizetype skip = qMax<qsizetype>(0, events.size() - m_capacity);
    m_dropped += quint64(skip);
    const qsizetype overflow = m_pending.size() + events.size() - skip - m_capacity;
    if (overflow > 0) {
        m_pending.remove(0, overflow);
        m_dropped += quint64(overflow);
    }
    for (qsizetype i = skip; i < events.size(); ++i)
        m_pending.append(events.at(i));
    if (!m_timer.isActive())
        m_timer.start();
}

void LogModel::flush()
{
    m_timer.stop();
    if (m_pending.isEmpty())
        return;
    const int count = int(m_pending.size());
    const int overflow = m_size + count - m_capacity;
    if (overflow > 0) {
        beginRemoveRows(QModelIndex(), 0, overflow - 1);
        for (int r = 0; r < overflow; ++r)
            m_ring[size_t(slot(r))] = Event(); // release payloads now
        m_head = slot(overflow);
        m_size -= overflow;
        m_dropped += quint64(overflow);
        endRemoveRows();
    }
    beginInsertRows(QModelIndex(), m_size, m_size + count - 1);
    for (Event &e : m_pending) {
        m_ring[size_t(slot(m_size))] = std::move(e);
        ++m_size;
    }
    m_pending.clear();
    endInsertRows();
    Q_EMIT batchInserted(count);
}

void LogModel::clear()
{
    beginResetModel();
    m_ring.assign(size_t(m_capacity), Event());
    m_pending.clear();
    m_head = 0;
    m_size = 0;
    endResetModel();
}

int LogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_size;
}

int LogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const Event &LogModel::event(int row) const
{
    Q_ASSERT(row >= 0 && row < m_size);
    return m_ring[size_t(slot(row))];
}

QVariant LogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Event &e = event(index.row());
    const int column = index.column();
    switch (role) {
    case EventRole:
        return QVariant::fromValue(e);
    case FullTextRole:
        return EventText::text(e);
    case Qt::DisplayRole:
        switch (column) {
        case TimeColumn:
            return TimeText::clock(e.time, true);
        case DirectionColumn:
            return EventText::direction(e.direction());
        case UidColumn:
            return QString::fromUtf8(e.uid);
        case OriginColumn:
            return EventText::origin(e);
        case SizeColumn:
            return e.size >= 0 && e.type != Event::Type::Closed ? TimeText::bytes(e.size)
                                                                : QString();
        case TextColumn:
            return oneLine(EventText::text(e));
        case ResultColumn:
            return EventText::result(e);
        }
        return {};
    case Qt::ToolTipRole:
        switch (column) {
        case TimeColumn:
            return QDateTime::fromMSecsSinceEpoch(e.time).toString(Qt::ISODateWithMs);
        case TextColumn: {
            QString text = EventText::text(e);
            if (text.size() > TooltipChars)
                text = text.left(TooltipChars) + QChar(0x2026);
            return text;
        }
        case UidColumn:
        case OriginColumn:
        case ResultColumn:
            return data(index, Qt::DisplayRole);
        }
        return {};
    case Qt::DecorationRole:
        if (column == DirectionColumn)
            return m_directionIcons[int(e.direction())];
        return {};
    case Qt::ForegroundRole:
        if (column == ResultColumn || (column == TextColumn && e.type == Event::Type::Error)) {
            const QColor c = resultColor(e);
            if (c.isValid())
                return QBrush(c);
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column == SizeColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    return {};
}

QVariant LogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case DirectionColumn:
        return tr("Direction");
    case UidColumn:
        return tr("uid");
    case OriginColumn:
        return tr("From");
    case SizeColumn:
        return tr("Size");
    case TextColumn:
        return tr("Text");
    case ResultColumn:
        return tr("Result");
    }
    return {};
}
