#include "ClusterStatus.h"

#include "GatewaySource.h"

namespace {
constexpr int JoinGraceMs = 3000;
}

ClusterStatus::ClusterStatus(GatewaySource *source, QObject *parent)
    : QObject(parent)
    , m_source(source)
{
    m_grace.setSingleShot(true);
    m_grace.setInterval(JoinGraceMs);
    connect(&m_grace, &QTimer::timeout, this, [this] {
        if (m_state == State::Joining)
            setState(State::Down);
    });
    // Cluster mode begins with the first start that gets past the Redis
    // URL, which may be a retry from the window.
    connect(source, &GatewaySource::clusterChanged, this, &ClusterStatus::update);
    update();
}

void ClusterStatus::update()
{
    const bool wasEnabled = m_cluster.enabled;
    m_cluster = m_source->cluster();
    if (!m_cluster.enabled) {
        setState(State::Off);
        Q_EMIT changed();
        return;
    }
    if (!wasEnabled)
        Q_EMIT attached();
    if (m_cluster.up) {
        setState(State::Up);
    } else if (m_state == State::Off) {
        setState(State::Joining);
        m_grace.start();
    } else if (m_state == State::Up) {
        setState(State::Down);
    }
    // Joining stays so until the link is up or the grace is over; Down until up.
    Q_EMIT changed();
}

void ClusterStatus::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    if (state != State::Joining)
        m_grace.stop();
    Q_EMIT stateChanged(state);
}
