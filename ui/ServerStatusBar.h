#pragma once

#include <QStatusBar>
#include <QTimer>

#include "GatewaySource.h"

class ClusterStatus;
class QLabel;

// The counters an operator glances at: the link to a remote gateway when it
// is not up, who is online, the cluster link in cluster mode, where the
// gateway listens, for how long, and how pushes went (queued among them
// with offline delivery).
class ServerStatusBar final : public QStatusBar
{
    Q_OBJECT
public:
    ServerStatusBar(GatewaySource *source, ClusterStatus *cluster, QWidget *parent = nullptr);

    void setOnline(int uids, int connections);
    void refresh();

private:
    void refreshCluster();
    void refreshLink();

    GatewaySource *m_source;
    ClusterStatus *m_cluster;
    QLabel *m_link;
    QLabel *m_online;
    QLabel *m_clusterState;
    QLabel *m_listening;
    QLabel *m_uptime;
    QLabel *m_pushes;
    QTimer m_timer;
};
