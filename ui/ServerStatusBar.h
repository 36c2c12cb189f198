#pragma once

#include <QStatusBar>
#include <QTimer>

class PushServer;
class QLabel;

// The counters an operator glances at: who is online, where the gateway
// listens, for how long, and how pushes went.
class ServerStatusBar final : public QStatusBar
{
    Q_OBJECT
public:
    explicit ServerStatusBar(PushServer *server, QWidget *parent = nullptr);

    void setOnline(int uids, int connections);
    void refresh();

private:
    PushServer *m_server;
    QLabel *m_online;
    QLabel *m_listening;
    QLabel *m_uptime;
    QLabel *m_pushes;
    QTimer m_timer;
};
