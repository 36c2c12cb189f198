#pragma once

#include "ClusterRoute.h"
#include "Events.h"
#include "PresenceReplica.h"
#include "RedisUrl.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <functional>

struct Metrics;
class EventLog;
class RedisClient;
struct RedisReply;
class SessionRegistry;

// This gateway's membership in a cluster of gateways that share one Redis.
//
// Presence: each node keeps in Redis a liveness key with a TTL that its
// tick renews, and the set of uids bound on it. Nodes announce every change
// on a presence channel, numbered per node, and each node keeps a replica of
// who holds what on the other nodes (PresenceReplica), so deciding where a
// push goes never waits for Redis. A node whose liveness key expired (it
// crashed) is reaped by the first tick that notices, and its entries go
// with it. A node whose subscription is lost cannot receive pushes: it
// withdraws its presence at once (while its command link still works) and
// registers again once it has subscribed again. The Lua scripts that keep
// presence in Redis, and its keys, are in ClusterScripts.
//
// Routing: a push for a uid bound elsewhere is published to the channel of
// exactly the nodes holding it; a broadcast goes to a channel every node
// reads. Its answer waits for Redis's reply to the PUBLISH, which counts
// the nodes that received it. Pushes that come in from Redis are delivered
// locally only.
//
// While Redis cannot be reached the replica is empty: the node serves its
// own clients, reconnects with backoff and registers its uids again.
class ClusterLink final : public QObject, public ClusterRoute
{
    Q_OBJECT
public:
    // Nodes are bits of a 64-bit mask in the replica: plenty for a set of
    // gateways behind one load balancer, and routing stays a single lookup.
    static constexpr int MaxNodes = PresenceReplica::MaxNodes;
    using PushHandler = std::function<void(const QByteArray &origin, const QByteArray &line)>;

    struct Options
    {
        RedisUrl url;
        QByteArray nodeId;
        qint64 ttlMs = 15000; // a silent node is dropped after this
        int timeoutMs = 3000; // connect and command timeout
        // Publishes awaiting Redis's answer, in bytes they hold (see
        // publish()); past it a publish is refused at once.
        qint64 maxInFlightBytes = 64 * 1024 * 1024;
    };

    ClusterLink(const Options &options, SessionRegistry *registry, EventLog *log, Metrics *metrics,
        QObject *parent = nullptr);
    ~ClusterLink() override;

    // Node ids name Redis keys and channels: 1-64 of [A-Za-z0-9_.-].
    static bool isValidNodeId(QByteArrayView id);
    // hostname-pid, cut to a valid id.
    static QByteArray defaultNodeId();

    void start();
    // Graceful leave: removes this node's entries at once (best effort) so
    // other nodes need not wait for the TTL, then disconnects.
    void stop();

    const QByteArray &nodeId() const { return m_options.nodeId; }
    const Options &options() const { return m_options; }
    // Connected, subscribed, registered and the replica loaded.
    // (The replica is loaded only then: losing either connection, or
    // stop(), clears it.)
    bool isUp() const { return m_replica.isLoaded(); }
    // The command connection, shared with the Redis offline store.
    RedisClient *commands() const { return m_cmd; }

    // Routing (the push router's side). Both answer from memory.
    NodeMask nodesHolding(const QByteArray &uid) const override
    {
        return isUp() ? m_replica.nodesHolding(uid) : 0;
    }
    bool anyRemoteConnection() const { return isUp() && !m_replica.isEmpty(); }
    // Runs once with how many of the addressed nodes received a publish
    // (Redis's PUBLISH reply: a node whose subscription is gone does not
    // count); 0 when the link is lost before Redis answers.
    // Publishes the line to each node in the mask; done runs once every
    // node's PUBLISH was answered (at once, with 0, when none could be sent).
    //
    // Memory: each PUBLISH until answered holds its message in hiredis's
    // buffer (until written) and the push's record in the router, plus
    // about PublishOverhead bytes of handlers. Their sum is capped by
    // maxInFlightBytes, whoever pushes (push port, HTTP API, console): past
    // it a node is not published to (done counts it as not received), so a
    // Redis slower than the pushes cannot make the process grow. Each
    // PUBLISH is answered within the command timeout, or the link drops and
    // answers all.
    void publish(NodeMask nodes, const QByteArray &line, PublishHandler done) override;
    // Publishes to every other node. done gets the other nodes that received
    // it and had a client when it was sent (0 when none had).
    void publishBroadcast(const QByteArray &line, PublishHandler done) override;
    static constexpr qint64 PublishOverhead = 1024;
    qint64 publishBytesInFlight() const { return m_inFlightBytes; }
    // Any other command that holds a push's bytes until Redis answers (the
    // offline store's): sent only within the same maxInFlightBytes as the
    // publishes, counting `cost` until its reply. False, and nothing sent,
    // past the cap or without a link; handler never runs then.
    bool commandWithinBudget(const QList<QByteArray> &args, qint64 cost,
        std::function<void(const RedisReply &)> handler);
    void setPushHandler(PushHandler handler) { m_onPush = std::move(handler); }

    // Kicks (DELETE /api/uids/{uid}): each node reads its own kick channel
    // and closes the uid's connections there.
    using KickHandler = std::function<void(const QByteArray &origin, const QByteArray &uid)>;
    void setKickHandler(KickHandler handler) { m_onKick = std::move(handler); }
    // Asks every other node holding uid to close its connections; done runs
    // once with how many received the request (0 at once when none holds it
    // or the link is down).
    void kickRemote(const QByteArray &uid, std::function<void(int nodes)> done);

    // The console's side.
    QList<ClusterNodeInfo> nodes() const;
    // Nodes (ids) other than this one where uid is bound.
    QStringList remoteNodesOf(const QByteArray &uid) const;
    // uid -> the other nodes holding it.
    QHash<QByteArray, QStringList> remotePresence() const;
    int remoteUidCount() const { return m_replica.uidCount(); }

Q_SIGNALS:
    void linkChanged(bool up);
    void nodesChanged();
    // One uid came or went on another node.
    void remoteUidOnline(const QByteArray &uid, const QString &node);
    void remoteUidOffline(const QByteArray &uid, const QString &node);
    // Many changed at once (a node joined, left, or the link was lost):
    // read remotePresence() again.
    void presenceReset();
    // Another node stored a message for uid (the offline store's channel).
    void offlineMessageStored(const QByteArray &uid);

private:
    void commandReady();
    void subscriberReady();
    void subscribedTo(const QByteArray &channel);
    void tryUp();
    void goDown(const QString &reason);
    // Removes this node's presence from Redis now (when registered) and
    // tells the others; false when nothing was sent.
    bool withdraw();
    // Sends one PUBLISH within the in-flight cap; false when not sent.
    bool sendPublish(const QByteArray &channel, const QByteArray &message,
        std::function<void(const RedisReply &)> handler);
    void sendRegister();
    void loadAll();
    void loadNode(const QByteArray &id, quint64 load);
    // Emits the replica's changes, in order, and loads what it asks for.
    void passOn(const PresenceReplica::Changes &changes);
    void tick();
    void handleTick(const RedisReply &reply);
    void messageReceived(const QByteArray &channel, const QByteArray &message);
    void localUidChanged(const QByteArray &uid, bool online);
    void report(bool warning, const Events::Why &why);

    Options m_options;
    SessionRegistry *m_registry;
    EventLog *m_log;
    Metrics *m_metrics;
    RedisClient *m_cmd;
    RedisClient *m_sub;
    QTimer m_tick;
    QByteArray m_token; // tells this process from an earlier one with the same id
    QByteArray m_presenceChannel, m_broadcastChannel, m_ownChannel, m_offlineChannel;
    QByteArray m_kickChannel;
    QByteArray m_echo; // how this node's own pings start
    QSet<QByteArray> m_pendingSubscriptions;
    bool m_stopped = false;
    bool m_subscribed = false;
    bool m_registered = false;
    bool m_outageReported = false;
    PresenceReplica m_replica; // who holds what on the other nodes
    qint64 m_pingSeq = 0;
    qint64 m_lastEchoMs = 0;
    qint64 m_upSinceMs = 0;
    qint64 m_inFlightBytes = 0; // publishes awaiting Redis (see publish())
    bool m_inFlightReported = false; // the cap was hit: logged once until it eases
    PushHandler m_onPush;
    KickHandler m_onKick;
};
