#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

#include <array>
#include <functional>
#include <memory>
#include <utility>

// One node of the console, as the cluster sees it.
struct ClusterNodeInfo
{
    QString id;
    int uids = 0; // uids bound on that node
    bool self = false;
};

// What one step of the replica changed, for its owner to pass on: a uid
// that came or went on a node, a change too big to tell uid by uid (read
// the replica again), the node list, or a node whose snapshot must be
// (re)loaded before its announcements can be applied.
struct PresenceChange
{
    enum class Kind : quint8 { UidOnline, UidOffline, Reset, NodesChanged, Load };

    Kind kind;
    QByteArray node;
    QByteArray uid; // UidOnline, UidOffline
    // Load: its number, to give back with the snapshot. A node that leaves
    // and comes back while its first load is in flight is loaded again;
    // the first answer (which may not have it) must not count then.
    quint64 load = 0;

    // What changed, not the ticket that came with it.
    bool operator==(const PresenceChange &o) const
    {
        return kind == o.kind && node == o.node && uid == o.uid;
    }
};

// Who holds which uid on the other nodes of a cluster, kept in memory so
// that routing a push never waits for Redis. It knows nothing of Redis:
// its owner feeds it what Redis said (snapshots, the presence channel's
// announcements, the tick's list of live nodes) and acts on the changes
// each step returns, in order.
//
// Each node numbers its announcements without gaps ("+ node version uid",
// "- node version uid", "up node version"), so a version that jumps means
// one was lost: the node is reloaded from a snapshot, and what comes in
// meanwhile waits in the node's buffer and is replayed on top of it (the
// part the snapshot already has is skipped by its version). A lost last
// announcement shows as the version the tick read in Redis a tick earlier
// still not reached. Nodes are bits of a 64-bit mask, reused once a node
// leaves.
//
// What waits is bounded in bytes (maxBufferedBytes()): past it, a buffer
// is dropped as if those announcements had been lost. That heals like any
// loss: the first announcement after the snapshot shows a gap and reloads
// the node, or the tick finds it short of its version; a lost "up" or
// "down" is caught by the tick's list of live nodes.
class PresenceReplica final
{
public:
    static constexpr int MaxNodes = 64;
    using NodeMask = quint64;
    using Changes = QList<PresenceChange>;

    // One node's entry in a snapshot: its uid set and the version it has.
    struct NodeSnapshot
    {
        QByteArray id;
        qint64 version = 0;
        QSet<QByteArray> uids;
    };
    // The live nodes and their versions, as a tick read them.
    using LiveNodes = QList<std::pair<QByteArray, qint64>>;

    // selfId: this node, which the replica leaves out. channelOf: where a
    // node's pushes go, computed once per node.
    PresenceReplica(
        const QByteArray &selfId, std::function<QByteArray(const QByteArray &node)> channelOf);
    ~PresenceReplica();
    PresenceReplica(const PresenceReplica &) = delete;
    PresenceReplica &operator=(const PresenceReplica &) = delete;

    // Announcements waiting for snapshots, in all, in bytes with the
    // overhead of each entry.
    static constexpr qint64 DefaultMaxBufferedBytes = 16 * 1024 * 1024;
    static constexpr qint64 EntryOverhead = 64; // list slot, array header, malloc
    void setMaxBufferedBytes(qint64 bytes) { m_maxBufferedBytes = bytes; }
    qint64 maxBufferedBytes() const { return m_maxBufferedBytes; }
    qint64 bufferedBytes() const;
    // Announcements dropped so far because the buffers were full.
    quint64 droppedAnnouncements() const { return m_dropped; }

    // The whole replica is being loaded: announcements wait until
    // applyFullSnapshot(), which replays them on top of it.
    void beginFullLoad();
    bool isLoadingAll() const { return m_loadingAll; }
    // Replaces everything; from then on announcements apply. Ignored
    // unless a full load was begun (the link went down in the meantime).
    Changes applyFullSnapshot(const QList<NodeSnapshot> &nodes);
    // The answer to a Load: the snapshot of that node (absent from nodes
    // when it left in the meantime). Ignored unless `load` is the node's
    // latest Load (an answer overtaken by a newer load is stale).
    Changes applyNodeSnapshot(const QByteArray &id, quint64 load, const QList<NodeSnapshot> &nodes);
    // The same for the node's latest Load.
    Changes applyNodeSnapshot(const QByteArray &id, const QList<NodeSnapshot> &nodes);
    // One message of the presence channel: "+ node version uid",
    // "- node version uid", "up node version", "down node" or
    // "ping node seq" (nothing to do here). Malformed ones are ignored.
    Changes applyEvent(const QByteArray &event);
    // What a tick read in Redis: unknown live nodes are loaded, known ones
    // still short of the version the previous tick read are reloaded, and
    // nodes no longer live (reaped) are removed.
    Changes applyLiveNodes(const LiveNodes &live);
    // Forgets everything (the link is down): nothing applies until the
    // next full load.
    void clear();
    // The full snapshot is applied and the link has not been lost since.
    bool isLoaded() const { return m_loaded; }
    // A Load of node is awaiting its snapshot.
    bool isLoading(const QByteArray &node) const;

    NodeMask nodesHolding(const QByteArray &uid) const { return m_remote.value(uid); }
    int nodeCount() const { return int(m_nodes.size()); }
    int uidCount() const { return int(m_remote.size()); }
    bool isEmpty() const { return m_remote.isEmpty(); }
    // The node at a bit of a NodeMask: its push channel, null when none.
    const QByteArray *channelOf(int bit) const;
    // The other nodes and how many uids each holds.
    QList<ClusterNodeInfo> nodes() const;
    // Nodes (ids) where uid is bound.
    QStringList remoteNodesOf(const QByteArray &uid) const;
    // uid -> the nodes holding it.
    QHash<QByteArray, QStringList> remotePresence() const;

private:
    struct Node
    {
        QByteArray id;
        QByteArray channel;
        int bit = -1;
        qint64 version = 0;
        qint64 seenVersion = 0; // what the previous tick read in Redis
        bool loading = false;
        quint64 load = 0; // the latest Load's number
        QList<QByteArray> buffered; // announcements that came in while loading
        qint64 bufferedBytes = 0;
        QSet<QByteArray> uids;
    };

    void event(const QByteArray &event, Changes &changes);
    // Keeps an announcement for after a snapshot (node null: the full one),
    // or drops that buffer when all of them are full.
    void buffer(Node *node, const QByteArray &event);
    void clearBuffer(Node *node);
    // False on a gap: the node must be reloaded.
    bool applyChange(Node *node, char op, qint64 version, const QByteArray &uid, Changes &changes);
    void load(Node *node, Changes &changes);
    Node *addNode(const QByteArray &id);
    void removeNode(const QByteArray &id, Changes &changes);
    void setBit(const QByteArray &uid, const Node *node, bool on);

    QByteArray m_self;
    std::function<QByteArray(const QByteArray &)> m_channelOf;
    bool m_loadingAll = false;
    bool m_loaded = false;
    quint64 m_loads = 0; // Loads numbered so far
    QList<QByteArray> m_early; // announcements while the full snapshot loads
    qint64 m_earlyBytes = 0;
    qint64 m_maxBufferedBytes = DefaultMaxBufferedBytes;
    quint64 m_dropped = 0;
    QHash<QByteArray, Node *> m_nodes;
    std::array<std::unique_ptr<Node>, MaxNodes> m_byBit; // owns the nodes
    QHash<QByteArray, NodeMask> m_remote; // uid -> nodes holding it
};
