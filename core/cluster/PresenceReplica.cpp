#include "PresenceReplica.h"

#include "Logging.h"

#include <algorithm>

PresenceReplica::PresenceReplica(
    const QByteArray &selfId, std::function<QByteArray(const QByteArray &node)> channelOf)
    : m_self(selfId)
    , m_channelOf(std::move(channelOf))
{ }

PresenceReplica::~PresenceReplica() = default;

void PresenceReplica::beginFullLoad()
{
    m_loadingAll = true;
    clearBuffer(nullptr);
}

qint64 PresenceReplica::bufferedBytes() const
{
    qint64 total = m_earlyBytes;
    for (const Node *node : m_nodes)
        total += node->bufferedBytes;
    return total;
}

void PresenceReplica::buffer(Node *node, const QByteArray &event)
{
    QList<QByteArray> &list = node ? node->buffered : m_early;
    qint64 &bytes = node ? node->bufferedBytes : m_earlyBytes;
    const qint64 cost = event.size() + EntryOverhead;
    if (bufferedBytes() + cost > m_maxBufferedBytes) {
        m_dropped += quint64(list.size()) + 1;
        qCWarning(lcCluster).nospace()
            << "presence announcements waiting for a snapshot are over " << m_maxBufferedBytes
            << " bytes; dropped " << list.size() + 1 << " of "
            << (node ? node->id : QByteArrayLiteral("every node")) << " (recovered by a reload)";
        clearBuffer(node);
        return;
    }
    list.append(event);
    bytes += cost;
}

void PresenceReplica::clearBuffer(Node *node)
{
    if (node) {
        node->buffered = QList<QByteArray>();
        node->bufferedBytes = 0;
    } else {
        m_early = QList<QByteArray>();
        m_earlyBytes = 0;
    }
}

PresenceReplica::Changes PresenceReplica::applyFullSnapshot(const QList<NodeSnapshot> &nodes)
{
    Changes changes;
    if (!m_loadingAll)
        return changes;
    m_nodes.clear();
    for (auto &node : m_byBit)
        node.reset();
    m_remote.clear();
    for (const NodeSnapshot &entry : nodes) {
        if (entry.id == m_self)
            continue;
        Node *node = addNode(entry.id);
        if (!node)
            continue;
        node->version = node->seenVersion = entry.version;
        node->uids = entry.uids;
        for (const QByteArray &uid : std::as_const(node->uids))
            setBit(uid, node, true);
    }
    changes.append({PresenceChange::Kind::Reset, {}, {}});
    changes.append({PresenceChange::Kind::NodesChanged, {}, {}});
    m_loadingAll = false;
    m_loaded = true;
    // Announced while the snapshot was read: the older ones are in it
    // already and skipped by their versions.
    const QList<QByteArray> early = std::exchange(m_early, {});
    m_earlyBytes = 0;
    for (const QByteArray &e : early)
        event(e, changes);
    return changes;
}

PresenceReplica::Changes PresenceReplica::applyNodeSnapshot(
    const QByteArray &id, const QList<NodeSnapshot> &nodes)
{
    const Node *node = m_nodes.value(id);
    return applyNodeSnapshot(id, node ? node->load : 0, nodes);
}

PresenceReplica::Changes PresenceReplica::applyNodeSnapshot(
    const QByteArray &id, quint64 load, const QList<NodeSnapshot> &nodes)
{
    Changes changes;
    Node *node = m_nodes.value(id);
    if (!m_loaded || !node || !node->loading || node->load != load)
        return changes;
    const auto entry = std::find_if(
        nodes.cbegin(), nodes.cend(), [&id](const NodeSnapshot &n) { return n.id == id; });
    if (entry == nodes.cend()) {
        removeNode(id, changes); // gone in the meantime
        return changes;
    }
    node->version = node->seenVersion = entry->version;
    node->loading = false;
    // Told uid by uid: a reload usually changes little.
    for (const QByteArray &uid : std::as_const(node->uids)) {
        if (!entry->uids.contains(uid)) {
            setBit(uid, node, false);
            changes.append({PresenceChange::Kind::UidOffline, id, uid});
        }
    }
    for (const QByteArray &uid : entry->uids) {
        if (!node->uids.contains(uid)) {
            setBit(uid, node, true);
            changes.append({PresenceChange::Kind::UidOnline, id, uid});
        }
    }
    node->uids = entry->uids;
    // What came in while loading, in order; the older part is in the
    // snapshot already.
    const QList<QByteArray> buffered = std::exchange(node->buffered, {});
    node->bufferedBytes = 0;
    for (const QByteArray &e : buffered)
        event(e, changes);
    changes.append({PresenceChange::Kind::NodesChanged, {}, {}});
    return changes;
}

PresenceReplica::Changes PresenceReplica::applyEvent(const QByteArray &e)
{
    Changes changes;
    event(e, changes);
    return changes;
}

void PresenceReplica::event(const QByteArray &event, Changes &changes)
{
    if (m_loadingAll) {
        buffer(nullptr, event);
        return;
    }
    if (!m_loaded)
        return;
    const QList<QByteArray> parts = event.split(' ');
    if (parts.size() < 2)
        return;
    const QByteArray &op = parts[0];
    const QByteArray &id = parts[1];
    if (id == m_self || op == "ping")
        return;
    if (op == "down") {
        removeNode(id, changes);
        return;
    }
    if (parts.size() < 3)
        return;
    const qint64 version = parts[2].toLongLong();
    Node *node = m_nodes.value(id);
    if (op == "up") {
        if (node && !node->loading && node->version >= version)
            return; // the snapshot already has it
        if (!node && !(node = addNode(id)))
            return;
        if (!node->loading)
            load(node, changes);
        buffer(node, event);
        return;
    }
    if ((op != "+" && op != "-") || parts.size() < 4)
        return;
    if (!node) {
        if (!(node = addNode(id)))
            return;
        load(node, changes);
    }
    if (node->loading) {
        buffer(node, event);
        return;
    }
    if (!applyChange(node, op[0], version, parts[3], changes)) {
        load(node, changes);
        buffer(node, event);
    }
}

bool PresenceReplica::applyChange(
    Node *node, char op, qint64 version, const QByteArray &uid, Changes &changes)
{
    if (version <= node->version)
        return true; // in the snapshot already
    if (version != node->version + 1)
        return false; // a gap: reload
    node->version = version;
    if (op == '+') {
        if (!node->uids.contains(uid)) {
            node->uids.insert(uid);
            setBit(uid, node, true);
            changes.append({PresenceChange::Kind::UidOnline, node->id, uid});
        }
    } else if (node->uids.remove(uid)) {
        setBit(uid, node, false);
        changes.append({PresenceChange::Kind::UidOffline, node->id, uid});
    }
    return true;
}

PresenceReplica::Changes PresenceReplica::applyLiveNodes(const LiveNodes &live)
{
    Changes changes;
    if (!m_loaded)
        return changes;
    QSet<QByteArray> alive;
    for (const auto &[id, version] : live) {
        if (id == m_self)
            continue;
        alive.insert(id);
        Node *node = m_nodes.value(id);
        if (!node) {
            // Its announcement was missed: load it.
            if ((node = addNode(id)))
                load(node, changes);
            continue;
        }
        // Announcements take milliseconds: one still missing a whole tick
        // later was lost.
        if (!node->loading && node->version < node->seenVersion)
            load(node, changes);
        node->seenVersion = version;
    }
    const QList<QByteArray> known = m_nodes.keys();
    for (const QByteArray &id : known) {
        if (!alive.contains(id))
            removeNode(id, changes);
    }
    return changes;
}

void PresenceReplica::clear()
{
    m_loadingAll = false;
    m_loaded = false;
    clearBuffer(nullptr);
    m_nodes.clear();
    for (auto &node : m_byBit)
        node.reset();
    m_remote.clear();
}

void PresenceReplica::load(Node *node, Changes &changes)
{
    node->loading = true;
    node->load = ++m_loads;
    clearBuffer(node);
    changes.append({PresenceChange::Kind::Load, node->id, {}, node->load});
}

PresenceReplica::Node *PresenceReplica::addNode(const QByteArray &id)
{
    if (Node *existing = m_nodes.value(id))
        return existing;
    const auto free =
        std::find_if(m_byBit.begin(), m_byBit.end(), [](const auto &node) { return !node; });
    if (free == m_byBit.end()) {
        qCWarning(lcCluster) << "more than" << MaxNodes << "nodes; ignoring" << id;
        return nullptr;
    }
    auto node = std::make_unique<Node>();
    node->id = id;
    node->channel = m_channelOf ? m_channelOf(id) : QByteArray();
    node->bit = int(free - m_byBit.begin());
    Node *added = node.get();
    *free = std::move(node);
    m_nodes.insert(id, added);
    return added;
}

void PresenceReplica::removeNode(const QByteArray &id, Changes &changes)
{
    Node *node = m_nodes.take(id);
    if (!node)
        return;
    for (const QByteArray &uid : std::as_const(node->uids))
        setBit(uid, node, false);
    m_byBit[size_t(node->bit)].reset();
    changes.append({PresenceChange::Kind::Reset, {}, {}});
    changes.append({PresenceChange::Kind::NodesChanged, {}, {}});
}

void PresenceReplica::setBit(const QByteArray &uid, const Node *node, bool on)
{
    const NodeMask bit = NodeMask(1) << node->bit;
    if (on) {
        m_remote[uid] |= bit;
        return;
    }
    const auto it = m_remote.find(uid);
    if (it == m_remote.end())
        return;
    it.value() &= ~bit;
    if (!it.value())
        m_remote.erase(it);
}

bool PresenceReplica::isLoading(const QByteArray &node) const
{
    const Node *n = m_nodes.value(node);
    return m_loaded && n && n->loading;
}

const QByteArray *PresenceReplica::channelOf(int bit) const
{
    if (bit < 0 || bit >= MaxNodes || !m_byBit[size_t(bit)])
        return nullptr;
    return &m_byBit[size_t(bit)]->channel;
}

QList<ClusterNodeInfo> PresenceReplica::nodes() const
{
    QList<ClusterNodeInfo> out;
    out.reserve(m_nodes.size());
    for (const Node *n : m_nodes)
        out.append({QString::fromUtf8(n->id), int(n->uids.size()), false});
    return out;
}

QStringList PresenceReplica::remoteNodesOf(const QByteArray &uid) const
{
    QStringList out;
    NodeMask mask = nodesHolding(uid);
    while (mask) {
        const int bit = qCountTrailingZeroBits(mask);
        mask &= mask - 1;
        if (const Node *n = m_byBit[size_t(bit)].get())
            out.append(QString::fromUtf8(n->id));
    }
    return out;
}

QHash<QByteArray, QStringList> PresenceReplica::remotePresence() const
{
    QHash<QByteArray, QStringList> out;
    out.reserve(m_remote.size());
    for (auto it = m_remote.cbegin(); it != m_remote.cend(); ++it)
        out.insert(it.key(), remoteNodesOf(it.key()));
    return out;
}
