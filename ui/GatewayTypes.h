#pragma once

#include "PushResult.h"

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

// Value types the console reads from a GatewaySource. No pointer into the
// gateway: a remote source builds them from JSON as easily as the
// in-process one from the core's objects.

// One uid as the online table shows it: its connections on the gateway the
// console watches (summed over them) and, in cluster mode, the other nodes
// where it is bound too. The other nodes' connections are not known here.
struct PresenceEntry
{
    QByteArray uid;
    int connections = 0; // on the watched gateway; 0: bound on other nodes only
    QStringList peers; // one per connection, oldest first
    qint64 connectedAt = 0; // the oldest connection, ms since the epoch
    qint64 lastActivity = 0; // the latest of all connections
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    QStringList otherNodes; // sorted; empty outside cluster mode

    // Bound somewhere: false for a uid that left everywhere.
    bool isOnline() const { return connections > 0 || !otherNodes.isEmpty(); }
    bool operator==(const PresenceEntry &o) const;
    bool operator!=(const PresenceEntry &o) const { return !(*this == o); }
};

// The counters the console shows, read at one moment. Totals since the
// gateway started; the console derives rates from two samples.
struct CounterSample
{
    qint64 time = 0; // ms since the epoch, UTC: the chart's time axis
    // The source's steady clock (ms): rates are computed over its
    // differences, so a wall clock step or a late tick shows no spike.
    qint64 steadyMs = 0;
    int uids = 0; // bound on the watched gateway
    int connections = 0; // bound WebSocket connections there
    quint64 pushes[4] = {}; // by PushStatus: ok, fail, error, queued
    quint64 clusterSent = 0;
    quint64 clusterReceived = 0;
    quint64 clusterLinkLosses = 0;
    quint64 offlineStored = 0;
    quint64 offlineDelivered = 0;
    quint64 offlineDropped = 0;
    quint64 offlineExpired = 0;

    quint64 pushesWith(PushStatus status) const { return pushes[int(status)]; }
    quint64 totalPushes() const { return pushes[0] + pushes[1] + pushes[2] + pushes[3]; }
};

// One gateway of a cluster.
struct ClusterNode
{
    QString id;
    int uids = 0;
    bool self = false; // the watched gateway
};

// Cluster mode as the watched gateway sees it.
struct ClusterState
{
    bool enabled = false; // --redis; everything else is empty when false
    bool up = false; // the link to the cluster is up: the other nodes' uids are known
    QString nodeId;
    QString redis; // where the cluster meets, for display (no password)
    QList<ClusterNode> nodes; // this one included
};

// Offline delivery (--offline-ttl) as configured on the watched gateway.
struct OfflineState
{
    bool enabled = false;
    QString description; // "sqlite:/path", "redis"
    qint64 ttlMs = 0;
    int maxPerUid = 0;
    int maxTotal = 0;
};

// What a kick did: the connections closed on the watched gateway and, in
// cluster mode, how many other nodes holding the uid were asked to close
// theirs (they answer nothing back); or why it could not be done (a remote
// gateway unreachable, refused).
struct KickResult
{
    int closed = 0;
    int nodes = 0;
    QString error;
};

Q_DECLARE_METATYPE(PresenceEntry)
Q_DECLARE_METATYPE(CounterSample)
