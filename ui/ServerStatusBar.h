#pragma once

#include <QStatusBar>
#include <QTimer>

class ClusterStatus;
class PushServer;
class QLabel;

// The counters an operator glances at: who is online, the cluster link in
// cluster mode, where the gateway listens, for how long, and how pushes went
// (queued among them with offline delivery).
class ServerStatusBar final : public QStatusBar
{
    Q_OBJECT
public:
    ServerStatusBar(PushServer *server, ClusterStatus *cluster, QWidget *parent = nullptr);

    void setOnline(int uids, int connections);
    void refresh();

private:
    void refreshCluster();

    PushServer *m_server;
    ClusterStatus *m_cluster;
    QLabel *m_online;
    QLabel *m_clusterState;
    QLabel *m_listening;
    QLabel *m_uptime;
    QLabel *m_pushes;
    QTimer m_timer;
};
