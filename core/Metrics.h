#pragma once

#include "PushResult.h"

#include <QtGlobal>

// Plain counters, written only by the gateway's thread. The console polls
// them; the later metrics endpoint reads the same fields.
struct Metrics
{
    static constexpr int SourceCount = 4;
    static constexpr int StatusCount = 4;

    quint64 connectionsAccepted = 0; // WebSocket TCP connections accepted
    quint64 connectionsOpen = 0; // WebSocket connections now open
    quint64 textConnectionsOpen = 0;
    quint64 messagesIn = 0; // text + binary frames from clients
    quint64 messagesOut = 0; // push frames written to clients
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    quint64 evictedIdle = 0; // heartbeat timeouts
    quint64 bindTimeouts = 0;
    quint64 rejected = 0; // invalid first message, handshake, protocol
    quint64 replacedByCap = 0; // oldest closed by the per-uid cap
    quint64 droppedSlow = 0; // slow consumers dropped past --max-output
    quint64 kicked = 0; // closed by an operator
    quint64 refusedTotal = 0; // at accept: --max-connections
    quint64 refusedPerIp = 0; // at accept: --max-conns-per-ip
    quint64 refusedUnbound = 0; // at accept: --max-unbound
    quint64 refusedText = 0; // push port: not allowed or over --max-text-conns
    quint64 pushes[SourceCount][StatusCount] = {};
    // Cluster mode (--redis).
    quint64 clusterSent = 0; // push messages published to other nodes
    quint64 clusterReceived = 0; // pushes other nodes published to this one
    quint64 clusterLinkLosses = 0; // times the link to Redis went down
    // Offline delivery (--offline-ttl).
    quint64 offlineStored = 0;
    quint64 offlineDelivered = 0;
    quint64 offlineDropped = 0; // the oldest, dropped by a cap
    quint64 offlineExpired = 0; // older than the TTL, never delivered

    void countPush(PushSource source, PushStatus status) { ++pushes[int(source)][int(status)]; }
    quint64 pushesWith(PushStatus status) const
    {
        quint64 sum = 0;
        for (const auto &bySource : pushes)
            sum += bySource[int(status)];
        return sum;
    }
};
