#pragma once

#include "PushResult.h"

#include <QtGlobal>

#include <iterator>

// Why output already queued for a client, pushes answered "ok" among it,
// was thrown away before the client got it.
enum class DropReason : quint8 {
    SlowConsumer, // over --max-output
    Heartbeat, // idle past --heartbeat
    CloseTimeout, // closed (kicked, uid cap, protocol error) and never answered
    PeerGone, // reset or hung up with output still unread
    Shutdown, // still unread at --shutdown-timeout
};

inline const char *dropReasonName(DropReason reason)
{
    switch (reason) {
    case DropReason::SlowConsumer:
        return "slow_consumer";
    case DropReason::Heartbeat:
        return "heartbeat";
    case DropReason::CloseTimeout:
        return "close_timeout";
    case DropReason::PeerGone:
        return "peer_gone";
    case DropReason::Shutdown:
        return "shutdown";
    }
    return "unknown";
}

// Plain counters, written only by the gateway's thread. The console polls
// them; GET /metrics (HttpApi) reads the same fields.
struct Metrics
{
    static constexpr int SourceCount = 4;
    static constexpr int StatusCount = 4;
    static constexpr int DropReasonCount = 5;

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
    quint64 replacedByCap = 0; // oldest closed by the per-uid cap (per-token with tokens)
    quint64 refusedUidFull = 0; // with tokens: uid at its cap, none of it with this token
    quint64 droppedSlow = 0; // slow consumers dropped past --max-output
    quint64 kicked = 0; // closed on request (console, HTTP API)
    quint64 refusedTotal = 0; // at accept: --max-connections
    quint64 refusedPerIp = 0; // at accept: --max-conns-per-ip
    quint64 refusedUnbound = 0; // at accept: --max-unbound
    quint64 refusedText = 0; // push port: not allowed or over --max-text-conns
    quint64 refusedTextHttp = 0; // push port: an HTTP request (a web page), closed
    quint64 textIdleTimeouts = 0; // push connections closed by --text-idle-timeout
    quint64 textLineTimeouts = 0; // push connections closed by --text-line-timeout
    quint64 evictedUnbound = 0; // oldest unbound connection closed for a new one (--max-unbound)
    // Bytes queued for clients (frames answered ok) that never reached them,
    // by DropReason.
    quint64 droppedBytes[DropReasonCount] = {};
    quint64 refusedHttp = 0; // HTTP API: over --max-http-conns
    // Admin streams (GET /api/events): open now, and events not sent to one
    // of them (over its output cap or its rate), summed over the streams.
    quint64 adminStreamsOpen = 0;
    quint64 adminEventsSkipped = 0;
    quint64 pushes[SourceCount][StatusCount] = {};
    // Cluster mode (--redis).
    quint64 clusterSent = 0; // push messages published to other nodes
    quint64 clusterReceived = 0; // pushes other nodes published to this one
    quint64 clusterLinkLosses = 0; // times the link to Redis went down
    // Publishes answered fail at once: --cluster-max-in-flight was reached.
    quint64 clusterPublishRefused = 0;
    // Offline delivery (--offline-ttl).
    quint64 offlineStored = 0;
    quint64 offlineDelivered = 0;
    quint64 offlineDropped = 0; // the oldest, dropped by a cap; or refused, over the caps
    quint64 offlineExpired = 0; // older than the TTL, never delivered
    // A store, read or acknowledgement the offline store could not do (disk
    // full, a Redis error); a push that failed so was answered fail.
    quint64 offlineStoreErrors = 0;

    // Time PushRouter spends delivering one valid push (writing its frame to
    // every target), as a histogram. Upper bounds in nanoseconds; the last
    // bucket of pushLatency is +Inf. Counts are per bucket, not cumulative.
    static constexpr qint64 LatencyBoundsNs[] = {5'000, 10'000, 25'000, 50'000, 100'000, 250'000,
        500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 25'000'000, 50'000'000, 100'000'000,
        250'000'000, 1'000'000'000};
    static constexpr int LatencyBucketCount = int(std::size(LatencyBoundsNs)) + 1;
    quint64 pushLatency[LatencyBucketCount] = {};
    quint64 pushLatencySumNs = 0;

    void countPush(PushSource source, PushStatus status) { ++pushes[int(source)][int(status)]; }
    void observePushLatency(qint64 ns)
    {
        int i = 0;
        while (i < LatencyBucketCount - 1 && ns > LatencyBoundsNs[i])
            ++i;
        ++pushLatency[i];
        pushLatencySumNs += quint64(qMax<qint64>(ns, 0));
    }
    quint64 pushLatencyCount() const
    {
        quint64 sum = 0;
        for (quint64 n : pushLatency)
            sum += n;
        return sum;
    }
    quint64 pushesWith(PushStatus status) const
    {
        quint64 sum = 0;
        for (const auto &bySource : pushes)
            sum += bySource[int(status)];
        return sum;
    }
};
