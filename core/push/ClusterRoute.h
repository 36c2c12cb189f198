#pragma once

#include <QByteArray>

#include <functional>

// What the push router needs from cluster mode: which other nodes hold a
// uid, and a way to hand them a push. The cluster layer (ClusterLink, over
// Redis) implements it; the router knows nothing of Redis.
class ClusterRoute
{
public:
    // Nodes are bits of a 64-bit mask: routing stays a single lookup.
    using NodeMask = quint64;
    // Runs once with how many of the addressed nodes received the push; 0
    // when none could be asked or the link was lost before they answered.
    using PublishHandler = std::function<void(int receivers)>;

    // Answered from memory, never waiting for the network.
    virtual NodeMask nodesHolding(const QByteArray &uid) const = 0;
    // The line, to each node in the mask; done runs once all answered.
    virtual void publish(NodeMask nodes, const QByteArray &line, PublishHandler done) = 0;
    // To every other node; done gets those that received it and had a
    // client when it was sent.
    virtual void publishBroadcast(const QByteArray &line, PublishHandler done) = 0;

protected:
    ~ClusterRoute() = default;
};
