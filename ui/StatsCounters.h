#pragma once

#include <QWidget>

class GatewaySource;
class QLabel;

// Under the chart: the counters of cluster mode and of offline delivery,
// each line shown only while that feature is on, so a single gateway's
// console looks as before.
class StatsCounters final : public QWidget
{
    Q_OBJECT
public:
    explicit StatsCounters(GatewaySource *source, QWidget *parent = nullptr);

    // With each sample of the source, about once a second.
    void refresh();

private:
    GatewaySource *m_source;
    QLabel *m_clusterTitle;
    QLabel *m_cluster;
    QLabel *m_offlineTitle;
    QLabel *m_offline;
};
