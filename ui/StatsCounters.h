#pragma once

#include <QWidget>

class PushServer;
class QLabel;

// Under the chart: the counters of cluster mode and of offline delivery,
// each line shown only while that feature is on, so a single gateway's
// console looks as before.
class StatsCounters final : public QWidget
{
    Q_OBJECT
public:
    explicit StatsCounters(PushServer *server, QWidget *parent = nullptr);

    // Once a second, with the chart's samples.
    void refresh();

private:
    PushServer *m_server;
    QLabel *m_clusterTitle;
    QLabel *m_cluster;
    QLabel *m_offlineTitle;
    QLabel *m_offline;
};
