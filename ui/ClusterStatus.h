#pragma once

#include "GatewayTypes.h"

#include <QObject>
#include <QTimer>

class GatewaySource;

// The console's view of cluster mode, shared by the online panel and the
// status bar: off, joining (just started, Redis not answered yet), up, or
// down. Joining exists so a normal start does not flash "link down" for
// the milliseconds the first connection takes.
class ClusterStatus final : public QObject
{
    Q_OBJECT
public:
    enum class State { Off, Joining, Up, Down };

    explicit ClusterStatus(GatewaySource *source, QObject *parent = nullptr);

    bool isEnabled() const { return m_state != State::Off; }
    State state() const { return m_state; }
    // What the source said last (empty outside cluster mode).
    const ClusterState &cluster() const { return m_cluster; }
    QString nodeId() const { return m_cluster.nodeId; }
    int nodeCount() const { return int(m_cluster.nodes.size()); }
    // How long a first join may take before it counts as down.
    void setJoinGrace(int ms) { m_grace.setInterval(ms); }

Q_SIGNALS:
    // Cluster mode began: the gateway's first successful start made the link.
    void attached();
    void stateChanged(ClusterStatus::State state);
    // Anything of cluster() changed (nodes came or went, the link).
    void changed();

private:
    void update();
    void setState(State state);

    GatewaySource *m_source;
    ClusterState m_cluster;
    QTimer m_grace;
    State m_state = State::Off;
};
