#include "StatsChart.h"

#include "StatsSampler.h"

#include <QLocale>
#include <QPainter>
#include <QPainterPath>

#include <cmath>

namespace {

// 1, 2, 5, 10, 20, 50 ...: a scale top that reads well.
double niceCeiling(double v)
{
    if (v <= 5)
        return 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
    for (double step : {1.0, 2.0, 5.0, 10.0}) {
        if (v <= step * magnitude)
            return step * magnitude;
    }
    return 10 * magnitude;
}

QString number(double v)
{
    return QLocale().toString(v, 'f', v < 10 && v != std::floor(v) ? 1 : 0);
}

} // namespace

StatsChart::StatsChart(StatsSampler *sampler, QWidget *parent)
    : QWidget(parent)
    , m_sampler(sampler)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    connect(sampler, &StatsSampler::sampled, this, qOverload<>(&QWidget::update));
}

QSize StatsChart::sizeHint() const
{
    return {420, 10 * fontMetrics().height()};
}

QSize StatsChart::minimumSizeHint() const
{
    return {220, 7 * fontMetrics().height()};
}

double StatsChart::value(int i, Series series) const
{
    const StatsSampler::Sample &s = m_sampler->at(i);
    return series == Series::Connections ? double(s.connections) : s.pushesPerSecond;
}

void StatsChart::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    p.setRenderHint(QPainter::Antialiasing);

    const QFontMetrics fm = fontMetrics();
    const double axis = fm.height() + 2; // time labels under the lanes
    const QRectF area = QRectF(rect()).adjusted(8, 4, -8, -axis);
    const double laneHeight = (area.height() - 6) / 2;
    paintLane(p, QRectF(area.left(), area.top(), area.width(), laneHeight), Series::Connections);
    paintLane(p, QRectF(area.left(), area.top() + laneHeight + 6, area.width(), laneHeight),
        Series::Pushes);

    // Time axis: the window the ring covers, oldest at the left.
    p.setPen(palette().color(QPalette::PlaceholderText));
    const int minutes = m_sampler->capacity() / 60;
    const QRectF labels(area.left(), area.bottom() + 1, area.width(), axis);
    p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, tr("%1 min ago").arg(minutes));
    p.drawText(labels, Qt::AlignHCenter | Qt::AlignVCenter, tr("%1 min ago").arg(minutes / 2.0));
    p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter, tr("now"));
}

void StatsChart::paintLane(QPainter &p, const QRectF &lane, Series series)
{
    const bool connections = series == Series::Connections;
    const QColor color = connections ? QColor(0x2f, 0x80, 0xed) : QColor(0xe0, 0x7b, 0x00);
    const QFontMetrics fm = fontMetrics();
    const int n = m_sampler->size();
    const double current = n > 0 ? value(n - 1, series) : 0;
    const double peak =
        connections ? double(m_sampler->peakConnections()) : m_sampler->peakPushesPerSecond();
    const double top = niceCeiling(peak);

    // Title line: name and current value at the left, the scale at the right.
    QFont bold = font();
    bold.setBold(true);
    const QString title = connections ? tr("Online connections") : tr("Pushes per second");
    const QRectF head(lane.left(), lane.top(), lane.width(), fm.height());
    p.setFont(bold);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(head, Qt::AlignLeft | Qt::AlignVCenter, title);
    const double titleWidth = QFontMetricsF(bold).horizontalAdvance(title);
    p.setPen(color);
    p.drawText(head.adjusted(titleWidth + fm.horizontalAdvance(QLatin1Char(' ')) * 2, 0, 0, 0),
        Qt::AlignLeft | Qt::AlignVCenter, number(current));
    p.setFont(font());
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(head, Qt::AlignRight | Qt::AlignVCenter,
        tr("peak %1 · scale %2").arg(number(peak), number(top)));

    const QRectF plot = lane.adjusted(0, fm.height() + 3, 0, 0);
    QColor grid = palette().color(QPalette::Mid);
    grid.setAlpha(90);
    p.setPen(QPen(grid, 1, Qt::DashLine));
    for (int g = 1; g <= 3; ++g) {
        const double y = plot.top() + plot.height() * g / 4.0;
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
    }
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawRect(plot);
    if (n == 0)
        return;

    const int slots = qMax(2, m_sampler->capacity());
    const double dx = plot.width() / (slots - 1);
    const auto point = [&](int i) {
        const double x = plot.right() - (n - 1 - i) * dx;
        const double y = plot.bottom() - plot.height() * qMin(1.0, value(i, series) / top);
        return QPointF(x, y);
    };
    QPainterPath line;
    line.moveTo(point(0));
    for (int i = 1; i < n; ++i)
        line.lineTo(point(i));
    QPainterPath fill = line;
    fill.lineTo(QPointF(point(n - 1).x(), plot.bottom()));
    fill.lineTo(QPointF(point(0).x(), plot.bottom()));
    fill.closeSubpath();
    QColor shade = color;
    shade.setAlpha(50);
    p.save();
    p.setClipRect(plot);
    p.fillPath(fill, shade);
    p.setPen(QPen(color, 1.6));
    p.drawPath(line);
    p.restore();
}
