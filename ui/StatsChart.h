#pragma once

#include <QWidget>

class StatsSampler;

// Online connections and pushes per second over the last minutes, two lanes
// painted with QPainter: no chart library for two lines.
class StatsChart final : public QWidget
{
    Q_OBJECT
public:
    explicit StatsChart(StatsSampler *sampler, QWidget *parent = nullptr);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    enum class Series { Connections, Pushes };
    void paintLane(QPainter &p, const QRectF &lane, Series series);
    double value(int i, Series series) const;

    StatsSampler *m_sampler;
};
