#include "TestMain.h"

#include "PresenceReplica.h"

#include <algorithm>
#include <initializer_list>
#include <memory>

using namespace Qt::StringLiterals;

namespace {

using NodeMask = PresenceReplica::NodeMask;
using NodeSnapshot = PresenceReplica::NodeSnapshot;

// The changes as short strings, so that a failure shows what happened:
// "+uid@node", "-uid@node", "reset", "nodes", "load node".
QStringList render(const PresenceReplica::Changes &changes)
{
    QStringList out;
    for (const PresenceChange &c : changes) {
        const QString uid = QString::fromUtf8(c.uid), node = QString::fromUtf8(c.node);
        switch (c.kind) {
        case PresenceChange::Kind::UidOnline:
            out << QLatin1Char('+') + uid + QLatin1Char('@') + node;
            break;
        case PresenceChange::Kind::UidOffline:
            out << QLatin1Char('-') + uid + QLatin1Char('@') + node;
            break;
        case PresenceChange::Kind::Reset:
            out << QStringLiteral("reset");
            break;
        case PresenceChange::Kind::NodesChanged:
            out << QStringLiteral("nodes");
            break;
        case PresenceChange::Kind::Load:
            out << QStringLiteral("load ") + node;
            break;
        }
    }
    return out;
}

QStringList strings(std::initializer_list<const char *> items)
{
    QStringList out;
    for (const char *item : items)
        out << QString::fromUtf8(item);
    return out;
}

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

// "id:uids" for each other node, sorted.
QStringList nodeList(const PresenceReplica &r)
{
    QStringList out;
    for (const ClusterNodeInfo &n : r.nodes()) {
        if (n.self)
            out << QStringLiteral("self?");
        out << n.id + QLatin1Char(':') + QString::number(n.uids);
    }
    return sorted(out);
}

NodeSnapshot snap(const QByteArray &id, qint64 version, std::initializer_list<const char *> uids)
{
    NodeSnapshot s;
    s.id = id;
    s.version = version;
    for (const char *uid : uids)
        s.uids.insert(uid);
    return s;
}

std::unique_ptr<PresenceReplica> replica()
{
    return std::make_unique<PresenceReplica>(
        "self", [](const QByteArray &node) { return "ch:" + node; });
}

// A replica loaded from a full snapshot, as the link has it once up.
std::unique_ptr<PresenceReplica> loaded(const QList<NodeSnapshot> &nodes)
{
    auto r = replica();
    r->beginFullLoad();
    r->applyFullSnapshot(nodes);
    return r;
}

int bitOf(NodeMask mask)
{
    return mask ? qCountTrailingZeroBits(mask) : -1;
}

const QStringList None;

} // namespace

// The replica of the other nodes' presence, without Redis: what it is fed
// (snapshots, announcements, the tick's live nodes) and what it answers.
class tst_PresenceReplica : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fullSnapshot();
    void eventsInOrder();
    void duplicateAndStaleEventsIgnored();
    void gapTriggersReload();
    void eventsOutOfOrder();
    void eventsBufferedDuringLoads();
    void reloadTellsUidByUid();
    void nodeDownAndReaping();
    void rejoinDuringLoadIgnoresTheStaleAnswer();
    void lostLastAnnouncement();
    void bitReusedAfterNodeLeaves();
    void sixtyFourNodesAndNoMore();
    void remotePresenceAndNodesOf();
    void clearForgetsEverything();
    void waitingAnnouncementsAreBoundedInBytes();
};

void tst_PresenceReplica::fullSnapshot()
{
    auto r = replica();
    QVERIFY(!r->isLoaded());
    // Not loaded: nothing applies, and a snapshot nobody waits for is dropped.
    QCOMPARE(render(r->applyEvent("+ a 1 u1")), None);
    QCOMPARE(render(r->applyLiveNodes({{"a", 1}})), None);
    QCOMPARE(render(r->applyFullSnapshot({snap("a", 1, {"u1"})})), None);
    QVERIFY(!r->isLoaded());
    QCOMPARE(r->nodeCount(), 0);
    QCOMPARE(r->nodesHolding("u1"), NodeMask(0));

    r->beginFullLoad();
    QVERIFY(r->isLoadingAll());
    QCOMPARE(render(r->applyFullSnapshot(
                 {snap("a", 3, {"u1", "u2"}), snap("b", 1, {"u2"}), snap("self", 9, {"mine"})})),
        strings({"reset", "nodes"}));
    QVERIFY(r->isLoaded());
    QVERIFY(!r->isLoadingAll());
    // This node is left out: its own uids are not "remote".
    QCOMPARE(nodeList(*r), strings({"a:2", "b:1"}));
    QCOMPARE(r->nodeCount(), 2);
    QCOMPARE(r->uidCount(), 2);
    QCOMPARE(r->nodesHolding("mine"), NodeMask(0));
    const NodeMask a = r->nodesHolding("u1");
    QCOMPARE(qPopulationCount(a), 1u);
    QCOMPARE(qPopulationCount(r->nodesHolding("u2")), 2u);
    QVERIFY(r->nodesHolding("u2") & a);
    QCOMPARE(*r->channelOf(bitOf(a)), QByteArray("ch:a"));
    QCOMPARE(sorted(r->remoteNodesOf("u2")), strings({"a", "b"}));
    QVERIFY(!r->isEmpty());

    // Versions come from the snapshot: the next announcement of a is 4.
    QCOMPARE(render(r->applyEvent("+ a 4 u4")), strings({"+u4@a"}));
    QCOMPARE(render(r->applyEvent("+ b 2 u5")), strings({"+u5@b"}));
}

void tst_PresenceReplica::eventsInOrder()
{
    auto r = loaded({snap("a", 3, {"u1"})});
    QCOMPARE(render(r->applyEvent("+ a 4 u2")), strings({"+u2@a"}));
    QVERIFY(r->nodesHolding("u2"));
    QCOMPARE(render(r->applyEvent("- a 5 u1")), strings({"-u1@a"}));
    QCOMPARE(r->nodesHolding("u1"), NodeMask(0));
    QCOMPARE(nodeList(*r), strings({"a:1"}));
    // A change that changes nothing here still counts its version: 7
    // follows it without a reload.
    QCOMPARE(render(r->applyEvent("+ a 6 u2")), None);
    QCOMPARE(render(r->applyEvent("- a 7 u2")), strings({"-u2@a"}));
    QCOMPARE(r->uidCount(), 0);
    QVERIFY(r->isEmpty());
}

void tst_PresenceReplica::duplicateAndStaleEventsIgnored()
{
    auto r = loaded({snap("a", 3, {"u1"})});
    // In the snapshot already.
    QCOMPARE(render(r->applyEvent("- a 3 u1")), None);
    QCOMPARE(render(r->applyEvent("+ a 2 old")), None);
    QCOMPARE(render(r->applyEvent("up a 3")), None);
    QVERIFY(r->nodesHolding("u1"));
    QCOMPARE(r->nodesHolding("old"), NodeMask(0));
    // The same announcement twice, and an older one after a newer.
    QCOMPARE(render(r->applyEvent("+ a 4 u2")), strings({"+u2@a"}));
    QCOMPARE(render(r->applyEvent("+ a 4 u2")), None);
    QCOMPARE(render(r->applyEvent("- a 4 u2")), None);
    QVERIFY(r->nodesHolding("u2"));
    // This node's own announcements, pings, and malformed messages.
    QCOMPARE(render(r->applyEvent("+ self 1 mine")), None);
    QCOMPARE(render(r->applyEvent("down self")), None);
    QCOMPARE(render(r->applyEvent("ping a 7")), None);
    QCOMPARE(render(r->applyEvent("ping z 7")), None);
    for (const char *bad : {"", "+", "+ a", "+ a 5", "* a 5 u", "+ a x u9", "up", "up z", "down",
             "down z", "+ z 5", "- z"}) {
        QCOMPARE(render(r->applyEvent(bad)), None);
    }
    QCOMPARE(nodeList(*r), strings({"a:2"}));
    QCOMPARE(r->uidCount(), 2);
    QCOMPARE(r->nodesHolding("mine"), NodeMask(0));
    QCOMPARE(r->nodesHolding("u9"), NodeMask(0));
    // Still at version 4.
    QCOMPARE(render(r->applyEvent("+ a 5 u3")), strings({"+u3@a"}));
}

void tst_PresenceReplica::gapTriggersReload()
{
    auto r = loaded({snap("a", 3, {"u1", "u2"}), snap("b", 1, {"ub"})});
    // Version 4 was lost: a must be reloaded.
    QCOMPARE(render(r->applyEvent("+ a 5 u5")), strings({"load a"}));
    QVERIFY(r->isLoading("a"));
    QVERIFY(!r->isLoading("b"));
    // Nothing of a applies until then; what comes waits. Other nodes go on.
    QCOMPARE(render(r->applyEvent("+ a 6 u6")), None);
    QCOMPARE(render(r->applyEvent("- a 7 u1")), None);
    QCOMPARE(render(r->applyEvent("+ b 2 ub2")), strings({"+ub2@b"}));
    QCOMPARE(r->nodesHolding("u5"), NodeMask(0));
    QCOMPARE(r->nodesHolding("u6"), NodeMask(0));
    QVERIFY(r->nodesHolding("u1"));
    // Read at version 5: the lost 4 (- u2) and 5 are in it; 6 and 7 follow.
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 5, {"u1", "u5"})})),
        strings({"-u2@a", "+u5@a", "+u6@a", "-u1@a", "nodes"}));
    QVERIFY(!r->isLoading("a"));
    QCOMPARE(nodeList(*r), strings({"a:2", "b:2"}));
    QCOMPARE(r->nodesHolding("u2"), NodeMask(0));
    QCOMPARE(r->nodesHolding("u1"), NodeMask(0));
    QVERIFY(r->nodesHolding("u6"));
    // A second answer to the same load is not waited for.
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 1, {})})), None);
    QCOMPARE(render(r->applyEvent("+ a 8 u8")), strings({"+u8@a"}));

    // A gap in what waited loads again, and keeps what is after it.
    QCOMPARE(render(r->applyEvent("+ a 10 u10")), strings({"load a"}));
    QCOMPARE(render(r->applyEvent("+ a 12 u12")), None);
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 10, {"u5", "u6", "u8", "u10"})})),
        strings({"+u10@a", "load a", "nodes"}));
    QVERIFY(r->isLoading("a"));
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 11, {"u5", "u6", "u8", "u10", "u11"})})),
        strings({"+u11@a", "+u12@a", "nodes"}));
}

void tst_PresenceReplica::eventsOutOfOrder()
{
    auto r = loaded({snap("a", 3, {"u1"})});
    QCOMPARE(render(r->applyEvent("+ a 5 u5")), strings({"load a"}));
    QCOMPARE(render(r->applyEvent("+ a 4 u4")), None);
    // The snapshot was read before 5: 4 is in it and skipped, 5 follows.
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 4, {"u1", "u4"})})),
        strings({"+u4@a", "+u5@a", "nodes"}));
    QCOMPARE(nodeList(*r), strings({"a:3"}));
    // A node that is not known yet: its first announcement loads it.
    QCOMPARE(render(r->applyEvent("- d 7 gone")), strings({"load d"}));
    QCOMPARE(render(r->applyEvent("+ d 6 x")), None);
    // (A snapshot's uids come in no particular order.)
    const QStringList loadedD = render(r->applyNodeSnapshot("d", {snap("d", 7, {"x", "y"})}));
    QCOMPARE(loadedD.last(), QStringLiteral("nodes"));
    QCOMPARE(sorted(loadedD), strings({"+x@d", "+y@d", "nodes"}));
    QCOMPARE(render(r->applyEvent("- d 8 x")), strings({"-x@d"}));
    // Even one that follows on from nothing: what the node had before it
    // is unknown here.
    QCOMPARE(render(r->applyEvent("+ e 1 x")), strings({"load e"}));
    QCOMPARE(r->nodesHolding("x"), NodeMask(0)); // not before e is loaded
}

void tst_PresenceReplica::eventsBufferedDuringLoads()
{
    auto r = replica();
    r->beginFullLoad();
    // While the full snapshot loads, everything waits.
    QCOMPARE(render(r->applyEvent("+ a 3 u1")), None);
    QCOMPARE(render(r->applyEvent("+ a 4 u2")), None);
    QCOMPARE(render(r->applyEvent("up c 1")), None);
    QCOMPARE(render(r->applyEvent("down b")), None);
    QCOMPARE(render(r->applyLiveNodes({{"a", 4}})), None);
    QVERIFY(!r->isLoaded());
    QCOMPARE(r->nodesHolding("u2"), NodeMask(0));
    // Replayed on top of it in order: 3 is in it, 4 is not; c is new and
    // loads; b left.
    QCOMPARE(render(r->applyFullSnapshot({snap("a", 3, {"u1"}), snap("b", 2, {"ub"})})),
        strings({"reset", "nodes", "+u2@a", "load c", "reset", "nodes"}));
    QCOMPARE(nodeList(*r), strings({"a:2", "c:0"}));
    QCOMPARE(r->nodesHolding("ub"), NodeMask(0));
    // c's announcements wait for its snapshot, then follow it.
    QCOMPARE(render(r->applyEvent("+ c 2 x")), None);
    QCOMPARE(render(r->applyEvent("- c 3 x")), None);
    QCOMPARE(r->nodesHolding("x"), NodeMask(0));
    QCOMPARE(
        render(r->applyNodeSnapshot("c", {snap("c", 1, {})})), strings({"+x@c", "-x@c", "nodes"}));
    QCOMPARE(render(r->applyEvent("+ c 4 y")), strings({"+y@c"}));
    QCOMPARE(nodeList(*r), strings({"a:2", "c:1"}));
}

void tst_PresenceReplica::reloadTellsUidByUid()
{
    auto r = loaded({snap("a", 3, {"u1", "u2"})});
    // a registered again (its liveness had expired): a new set.
    QCOMPARE(render(r->applyEvent("up a 4")), strings({"load a"}));
    QCOMPARE(render(r->applyEvent("+ a 5 u3")), None);
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 4, {"u2"})})),
        strings({"-u1@a", "+u3@a", "nodes"}));
    QCOMPARE(nodeList(*r), strings({"a:2"}));
    // It left before its snapshot was read: gone.
    QCOMPARE(render(r->applyEvent("up a 9")), strings({"load a"}));
    QCOMPARE(render(r->applyNodeSnapshot("a", {})), strings({"reset", "nodes"}));
    QCOMPARE(r->nodeCount(), 0);
    QCOMPARE(r->nodesHolding("u2"), NodeMask(0));
    // Back after a leave, its versions start again from 1.
    QCOMPARE(render(r->applyEvent("up a 1")), strings({"load a"}));
    QCOMPARE(
        render(r->applyNodeSnapshot("a", {snap("a", 1, {"u7"})})), strings({"+u7@a", "nodes"}));
}

void tst_PresenceReplica::nodeDownAndReaping()
{
    auto r = loaded({snap("a", 3, {"u1", "both"}), snap("b", 1, {"u2", "both"})});
    // A graceful leave.
    QCOMPARE(render(r->applyEvent("down a")), strings({"reset", "nodes"}));
    QCOMPARE(r->nodesHolding("u1"), NodeMask(0));
    QCOMPARE(r->remoteNodesOf("both"), strings({"b"}));
    QCOMPARE(nodeList(*r), strings({"b:2"}));
    QCOMPARE(render(r->applyEvent("down a")), None);
    // The tick lists who is live: b expired (reaped), c was never
    // announced here, this node is no other.
    QCOMPARE(
        render(r->applyLiveNodes({{"self", 7}, {"c", 2}})), strings({"load c", "reset", "nodes"}));
    QCOMPARE(nodeList(*r), strings({"c:0"}));
    QVERIFY(r->isLoading("c"));
    QVERIFY(r->isEmpty());
    QVERIFY(r->remotePresence().isEmpty());
    // A node reaped while loading is gone with its load.
    QCOMPARE(render(r->applyLiveNodes({})), strings({"reset", "nodes"}));
    QCOMPARE(render(r->applyNodeSnapshot("c", {snap("c", 2, {"x"})})), None);
    QCOMPARE(r->nodeCount(), 0);
}

void tst_PresenceReplica::rejoinDuringLoadIgnoresTheStaleAnswer()
{
    auto r = loaded({snap("b", 1, {"u2"})});
    const auto loadOf = [](const PresenceReplica::Changes &changes) {
        for (const PresenceChange &c : changes) {
            if (c.kind == PresenceChange::Kind::Load)
                return c.load;
        }
        return quint64(0);
    };
    // c appears: its snapshot is asked for (load 1)...
    const quint64 first = loadOf(r->applyEvent("up c 1"));
    QVERIFY(first != 0);
    // ...then it leaves and comes back before the answer: asked again.
    r->applyEvent("down c");
    const quint64 second = loadOf(r->applyEvent("up c 1"));
    QVERIFY(second != 0 && second != first);
    // The first answer was read while c was away: it must not remove the
    // c that came back.
    QCOMPARE(render(r->applyNodeSnapshot("c", first, {snap("b", 1, {"u2"})})), None);
    QVERIFY(r->isLoading("c"));
    QCOMPARE(nodeList(*r), strings({"b:1", "c:0"}));
    // The second one counts.
    QCOMPARE(render(r->applyNodeSnapshot("c", second, {snap("c", 1, {"x"})})),
        strings({"+x@c", "nodes"}));
    QCOMPARE(r->remoteNodesOf("x"), strings({"c"}));
}

void tst_PresenceReplica::lostLastAnnouncement()
{
    auto r = loaded({snap("a", 3, {"u1"})});
    // Redis is at 4: its announcement may still be on the way.
    QCOMPARE(render(r->applyLiveNodes({{"a", 4}})), None);
    QCOMPARE(render(r->applyEvent("+ a 4 u2")), strings({"+u2@a"}));
    QCOMPARE(render(r->applyLiveNodes({{"a", 5}})), None);
    // 5 is still missing a tick later: lost.
    QCOMPARE(render(r->applyLiveNodes({{"a", 5}})), strings({"load a"}));
    QCOMPARE(render(r->applyLiveNodes({{"a", 5}})), None); // loading already
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 5, {"u1", "u2", "u3"})})),
        strings({"+u3@a", "nodes"}));
    QCOMPARE(render(r->applyLiveNodes({{"a", 5}})), None);
    QCOMPARE(render(r->applyLiveNodes({{"a", 5}})), None);
}

void tst_PresenceReplica::bitReusedAfterNodeLeaves()
{
    auto r = loaded({snap("a", 1, {"ua"}), snap("b", 1, {"ub"})});
    const NodeMask a = r->nodesHolding("ua"), b = r->nodesHolding("ub");
    QCOMPARE(qPopulationCount(a), 1u);
    QCOMPARE(qPopulationCount(b), 1u);
    QVERIFY(a != b);
    QCOMPARE(*r->channelOf(bitOf(a)), QByteArray("ch:a"));
    QCOMPARE(*r->channelOf(bitOf(b)), QByteArray("ch:b"));
    QCOMPARE(r->channelOf(-1), nullptr);
    QCOMPARE(r->channelOf(PresenceReplica::MaxNodes), nullptr);

    r->applyEvent("down a");
    QCOMPARE(r->channelOf(bitOf(a)), nullptr);
    QCOMPARE(render(r->applyEvent("up c 1")), strings({"load c"}));
    QCOMPARE(
        render(r->applyNodeSnapshot("c", {snap("c", 1, {"uc"})})), strings({"+uc@c", "nodes"}));
    // c took a's bit; b kept its own.
    QCOMPARE(r->nodesHolding("uc"), a);
    QCOMPARE(*r->channelOf(bitOf(a)), QByteArray("ch:c"));
    QCOMPARE(r->nodesHolding("ub"), b);
    QCOMPARE(r->nodesHolding("ua"), NodeMask(0));
    QCOMPARE(r->remoteNodesOf("uc"), strings({"c"}));
}

void tst_PresenceReplica::sixtyFourNodesAndNoMore()
{
    QList<NodeSnapshot> all;
    PresenceReplica::LiveNodes live;
    for (int i = 0; i < PresenceReplica::MaxNodes; ++i) {
        const QByteArray id = "n" + QByteArray::number(i);
        all.append(snap(id, 1, {"everyone"}));
        all.last().uids.insert("u" + QByteArray::number(i));
        live.append({id, 1});
    }
    // This node takes no bit.
    all.prepend(snap("self", 5, {"everyone"}));
    auto r = loaded(all);
    QCOMPARE(r->nodeCount(), 64);
    QCOMPARE(r->nodesHolding("everyone"), ~NodeMask(0));
    QCOMPARE(r->remoteNodesOf("everyone").size(), 64);
    QCOMPARE(r->remotePresence().value("everyone").size(), 64);
    const NodeMask n10 = r->nodesHolding("u10");
    QCOMPARE(qPopulationCount(n10), 1u);

    // The 65th is refused, however it comes.
    for (int i = 0; i < 3; ++i)
        QTest::ignoreMessage(QtWarningMsg, "more than 64 nodes; ignoring \"extra\"");
    QCOMPARE(render(r->applyEvent("up extra 1")), None);
    QCOMPARE(render(r->applyEvent("+ extra 2 x")), None);
    live.append({"extra", 2});
    QCOMPARE(render(r->applyLiveNodes(live)), None);
    QCOMPARE(r->nodeCount(), 64);
    QCOMPARE(r->nodesHolding("x"), NodeMask(0));
    QVERIFY(!r->isLoading("extra"));

    // Once one leaves, it gets that node's bit.
    QCOMPARE(render(r->applyEvent("down n10")), strings({"reset", "nodes"}));
    QCOMPARE(render(r->applyEvent("up extra 1")), strings({"load extra"}));
    QCOMPARE(render(r->applyNodeSnapshot("extra", {snap("extra", 1, {"x"})})),
        strings({"+x@extra", "nodes"}));
    QCOMPARE(r->nodesHolding("x"), n10);
    QCOMPARE(r->nodeCount(), 64);

    // A snapshot of 65 other nodes keeps 64.
    all.append(snap("n64", 1, {"u64"}));
    QTest::ignoreMessage(QtWarningMsg, "more than 64 nodes; ignoring \"n64\"");
    r = loaded(all);
    QCOMPARE(r->nodeCount(), 64);
    QCOMPARE(r->nodesHolding("u64"), NodeMask(0));
    QCOMPARE(r->nodesHolding("everyone"), ~NodeMask(0));
}

void tst_PresenceReplica::remotePresenceAndNodesOf()
{
    auto r =
        loaded({snap("a", 1, {"u1", "shared"}), snap("b", 1, {"u2", "shared"}), snap("c", 1, {})});
    QHash<QByteArray, QStringList> p = r->remotePresence();
    QCOMPARE(p.size(), 3);
    QCOMPARE(p.value("u1"), strings({"a"}));
    QCOMPARE(p.value("u2"), strings({"b"}));
    QCOMPARE(sorted(p.value("shared")), strings({"a", "b"}));
    QCOMPARE(sorted(r->remoteNodesOf("shared")), strings({"a", "b"}));
    QCOMPARE(r->remoteNodesOf("nobody"), QStringList());
    QCOMPARE(nodeList(*r), strings({"a:2", "b:2", "c:0"}));

    QCOMPARE(render(r->applyEvent("- a 2 shared")), strings({"-shared@a"}));
    QCOMPARE(r->remotePresence().value("shared"), strings({"b"}));
    QCOMPARE(render(r->applyEvent("- b 2 shared")), strings({"-shared@b"}));
    // Held by none: not listed at all, rather than with no nodes.
    p = r->remotePresence();
    QVERIFY(!p.contains("shared"));
    QCOMPARE(p.size(), 2);
    QCOMPARE(r->uidCount(), 2);
    QCOMPARE(r->nodesHolding("shared"), NodeMask(0));
    QCOMPARE(nodeList(*r), strings({"a:1", "b:1", "c:0"}));
}

void tst_PresenceReplica::clearForgetsEverything()
{
    auto r = loaded({snap("a", 3, {"u1"})});
    QCOMPARE(render(r->applyEvent("+ a 5 u5")), strings({"load a"}));
    r->clear();
    QVERIFY(!r->isLoaded());
    QCOMPARE(r->nodeCount(), 0);
    QCOMPARE(r->uidCount(), 0);
    QCOMPARE(r->nodesHolding("u1"), NodeMask(0));
    QVERIFY(r->nodes().isEmpty());
    QVERIFY(!r->isLoading("a"));
    // Late answers and announcements of the lost link change nothing.
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 5, {"u1", "u5"})})), None);
    QCOMPARE(render(r->applyEvent("+ a 6 u6")), None);
    QCOMPARE(render(r->applyLiveNodes({{"a", 6}})), None);
    QCOMPARE(r->nodeCount(), 0);

    // A full load lost half way: what waited for it goes too.
    r->beginFullLoad();
    QCOMPARE(render(r->applyEvent("+ a 7 u7")), None);
    r->clear();
    QVERIFY(!r->isLoadingAll());
    QCOMPARE(render(r->applyFullSnapshot({snap("a", 6, {"u1"})})), None);
    QVERIFY(!r->isLoaded());
    r->beginFullLoad();
    QCOMPARE(render(r->applyFullSnapshot({snap("a", 6, {"u1"})})), strings({"reset", "nodes"}));
    QCOMPARE(r->nodesHolding("u7"), NodeMask(0));
    QCOMPARE(nodeList(*r), strings({"a:1"}));
}

// A node that announces faster than its snapshot comes (a mass reconnect
// while Redis is slow) cannot grow the buffers past their cap; what is
// dropped heals like a lost announcement.
void tst_PresenceReplica::waitingAnnouncementsAreBoundedInBytes()
{
    auto r = replica();
    const auto plus = [](int v) {
        return "+ a " + QByteArray::number(v) + " u" + QByteArray::number(v);
    };
    // Room for ten (every announcement below has the same size).
    const qint64 entry = plus(1000).size() + PresenceReplica::EntryOverhead;
    r->setMaxBufferedBytes(10 * entry);
    r->beginFullLoad();
    for (int v = 1000; v < 2000; ++v) {
        r->applyEvent(plus(v));
        QVERIFY2(
            r->bufferedBytes() <= r->maxBufferedBytes(), QByteArray::number(r->bufferedBytes()));
    }
    // Ten wait, then the eleventh drops them all: 90 rounds of eleven.
    QCOMPARE(r->droppedAnnouncements(), 990u);
    QCOMPARE(r->bufferedBytes(), 10 * entry);
    // The snapshot was read at 1500; 1990 follows a gap: a reloads, and
    // what waited goes on waiting for that.
    QCOMPARE(render(r->applyFullSnapshot({snap("a", 1500, {"u1"})})),
        strings({"reset", "nodes", "load a"}));
    QVERIFY(r->isLoading("a"));
    QCOMPARE(r->nodesHolding("u1999"), NodeMask(0));
    // While a loads, another flood: its own buffer is capped the same way.
    for (int v = 2000; v < 3000; ++v)
        r->applyEvent(plus(v));
    // (The ten that waited and 2000, then 90 rounds of eleven.)
    QCOMPARE(r->droppedAnnouncements(), 990u + 11u + 990u);
    QCOMPARE(r->bufferedBytes(), 9 * entry);
    // Read at 2500: 2991 is after a gap, load again.
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 2500, {"u1", "u2500"})})),
        strings({"+u2500@a", "load a", "nodes"}));
    QVERIFY(r->isLoading("a"));
    // Read at 2999: what waited is in it; announcements apply again.
    r->applyNodeSnapshot("a", {snap("a", 2999, {"u1", "u2999"})});
    QVERIFY(!r->isLoading("a"));
    QCOMPARE(r->bufferedBytes(), 0);
    QCOMPARE(nodeList(*r), strings({"a:2"}));
    QCOMPARE(render(r->applyEvent(plus(3000))), strings({"+u3000@a"}));
    QCOMPARE(r->nodesHolding("u2500"), NodeMask(0));
    QVERIFY(r->nodesHolding("u2999"));

    // Every drop emptied the buffer: with none left to show the gap, the
    // tick finds a short of its version and reloads it.
    QCOMPARE(render(r->applyEvent(plus(3002))), strings({"load a"}));
    for (int v = 3003; v < 3013; ++v)
        r->applyEvent(plus(v)); // the tenth of these drops what waited
    QCOMPARE(r->bufferedBytes(), 0);
    QCOMPARE(
        render(r->applyNodeSnapshot("a", {snap("a", 3001, {"u1", "u2999", "u3000", "u3001"})})),
        strings({"+u3001@a", "nodes"}));
    QCOMPARE(render(r->applyLiveNodes({{"a", 3012}})), None);
    QCOMPARE(render(r->applyLiveNodes({{"a", 3012}})), strings({"load a"}));
    QCOMPARE(render(r->applyNodeSnapshot("a", {snap("a", 3012, {"u3012"})})).last(), u"nodes"_s);
    QCOMPARE(nodeList(*r), strings({"a:1"}));
}

PUSHCONSOLE_TEST_MAIN(tst_PresenceReplica)
#include "tst_presencereplica.moc"
