#include "ClusterStatus.h"

#include "ClusterLink.h"
#include "PushServer.h"

namespace {
constexpr int JoinGraceMs = 3000;
}

ClusterStatus::ClusterStatus(PushServer *server, QObject *parent)
    : QObject(parent)
    , m_server(server)
{
    m_grace.setSingleShot(true);
    m_grace.setInterval(JoinGraceMs);
    connect(&m_grace, &QTimer::timeout, this, [this] {
        if (m_state == State::Joining)
            setState(State::Down);
    });
    // The link is made by the first start that gets past the Redis URL,
    // which may be a retry from the window.
    connect(server, &PushServer::listeningChanged, this, &ClusterStatus::attach);
    attach();
}

ClusterLink *ClusterStatus::link() const
{
    return m_link;
}

void ClusterStatus::attach()
{
    ClusterLink *link = m_server->cluster();
    if (!link || link == m_link)
        return;
    m_link = link;
    connect(link, &ClusterLink::linkChanged, this,
        [this](bool up) { setState(up ? State::Up : State::Down); });
    connect(link, &QObject::destroyed, this, [this] { setState(State::Off); });
    Q_EMIT attached(link);
    if (link->isUp()) {
        setState(State::Up);
    } else {
        setState(State::Joining);
        m_grace.start();
    }
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
