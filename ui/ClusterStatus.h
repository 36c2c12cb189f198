#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

class ClusterLink;
class PushServer;

// The console's view of cluster mode, shared by the online panel and the
// status bar: off, joining (just started, Redis not answered yet), up, or
// down. Joining exists so a normal start does not flash "link down" for
// the milliseconds the first connection takes.
class ClusterStatus final : public QObject
{
    Q_OBJECT
public:
    enum class State { Off, Joining, Up, Down };

    explicit ClusterStatus(PushServer *server, QObject *parent = nullptr);

    ClusterLink *link() const; // null outside cluster mode
    State state() const { return m_state; }
    // How long a first join may take before it counts as down.
    void setJoinGrace(int ms) { m_grace.setInterval(ms); }

Q_SIGNALS:
    // Cluster mode began: the gateway's first successful start made the link.
    void attached(ClusterLink *link);
    void stateChanged(ClusterStatus::State state);

private:
    void attach();
    void setState(State state);

    PushServer *m_server;
    QPointer<ClusterLink> m_link;
    QTimer m_grace;
    State m_state = State::Off;
};
