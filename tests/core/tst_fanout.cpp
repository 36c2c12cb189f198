#include "TestMain.h"
#include "TestSupport.h"

#include "Metrics.h"
#include "PushRouter.h"
#include "SessionRegistry.h"
#include "WsConnection.h"
#include "WsGateway.h"

#include <memory>
#include <vector>

using namespace TestSupport;

// A large fan-out goes a slice per loop turn (FanOut): other pushes pass in
// between, yet none overtakes one sent before it, and the broadcast is
// answered only once every target has it queued. Slices are made tiny here
// so that a few thousand real clients make hundreds of them.
class tst_FanOut : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void broadcastIsSlicedAndAnsweredWhenAllHaveIt();
    void unicastPassesARunningBroadcastButNotOnItsTarget();
    void everyClientSeesOnePushConnectionsOrder();
    void clientsLeavingMidBroadcastAreNotCounted();
    void clientBoundAfterTheStartIsNotATarget();
    void consoleAndClusterBroadcastsAreSliced();
    void pendingFanOutsAreBoundedInBytes();
    void shutdownMidBroadcastDeliversItFirst();
};

namespace {

constexpr int SliceSize = 8;

Config crowdConfig()
{
    Config c = loopbackConfig();
    c.maxConnsPerIp = 100000;
    return c;
}

std::unique_ptr<PushServer> startSlicedServer()
{
    auto server = startServer(crowdConfig());
    if (server) {
        FanOut::Slice slice;
        slice.connections = SliceSize;
        server->router()->setFanOutSlice(slice);
    }
    return server;
}

QByteArray uidOf(int i)
{
    return "u" + QByteArray::number(i);
}

// count real WebSocket clients bound as u0, u1, ...: connected all at once,
// then bound all at once (one by one would take seconds).
std::vector<std::unique_ptr<WsClient>> crowd(PushServer *server, int count)
{
    std::vector<std::unique_ptr<WsClient>> clients;
    clients.reserve(size_t(count));
    for (int i = 0; i < count; ++i)
        clients.push_back(std::make_unique<WsClient>(server->wsPort()));
    int connected = 0;
    waitFor(
        [&] {
            while (connected < count
                && clients[size_t(connected)]->socket.state() == QAbstractSocket::ConnectedState)
                ++connected;
            return connected == count;
        },
        60000);
    if (connected != count) {
        qWarning("only %d of %d clients connected", connected, count);
        return {};
    }
    const int before = server->registry()->connectionCount();
    for (int i = 0; i < count; ++i)
        clients[size_t(i)]->socket.sendTextMessage(QString::fromLatin1(uidOf(i)));
    if (!waitFor([&] { return server->registry()->connectionCount() == before + count; }, 60000)) {
        qWarning(
            "only %d of %d clients bound", server->registry()->connectionCount() - before, count);
        return {};
    }
    return clients;
}

// The server-side connection of uid (its only one).
WsConnection *connectionOf(PushServer *server, const QByteArray &uid)
{
    const SessionRegistry::Connections *list = server->registry()->connections(uid);
    return list && list->size() == 1 ? list->front() : nullptr;
}

// Frames the server has queued for all bound connections together.
quint64 framesQueued(PushServer *server)
{
    quint64 n = 0;
    server->registry()->forEachConnection([&](WsConnection *c) { n += c->messagesOut(); });
    return n;
}

// A uid whose connection the running fan-out has not reached yet.
QByteArray notReachedYet(PushServer *server, int count)
{
    for (int i = count - 1; i >= 0; --i) {
        if (WsConnection *c = connectionOf(server, uidOf(i)); c && c->messagesOut() == 0)
            return uidOf(i);
    }
    return {};
}

} // namespace

void tst_FanOut::broadcastIsSlicedAndAnsweredWhenAllHaveIt()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 2000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    TextClient backend(server->textPort());
    backend.send(R"({"uid":"*","message":"all"})"
                 "\n");
    // Sliced: the loop turns (the test's waits spin it) while it goes.
    WAIT_VERIFY(server->router()->isFanningOut());
    QVERIFY(framesQueued(server.get()) < quint64(Count));
    // The reply leaves only when every target has the frame queued.
    QByteArray reply;
    bool fanningAtReply = true;
    quint64 queuedAtReply = 0;
    WAIT_UNTIL(
        [&] {
            if (!backend.socket().canReadLine())
                return false;
            reply = backend.socket().readLine();
            fanningAtReply = server->router()->isFanningOut();
            queuedAtReply = framesQueued(server.get());
            return true;
        },
        reply, 30000);
    QCOMPARE(reply, QByteArray("ok\n"));
    QVERIFY(!fanningAtReply);
    QCOMPARE(queuedAtReply, quint64(Count));
    for (const auto &client : clients)
        QVERIFY(client->waitForMessages(1, 30000));
    for (const auto &client : clients)
        QCOMPARE(
            client->messages, QList<QString>({QStringLiteral(R"({"uid":"*","message":"all"})")}));
}

void tst_FanOut::unicastPassesARunningBroadcastButNotOnItsTarget()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 1000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    TextClient broadcaster(server->textPort());
    TextClient other(server->textPort());
    broadcaster.send(R"({"uid":"*","message":"b"})"
                     "\n");
    WAIT_VERIFY(server->router()->isFanningOut());
    const QByteArray target = notReachedYet(server.get(), Count);
    QVERIFY(!target.isEmpty());
    const int index = target.mid(1).toInt();

    // From another backend connection: not held up by the broadcast...
    other.send(pushLine(target, "u") + '\n');
    QByteArray reply;
    bool fanningAtReply = false;
    WAIT_UNTIL(
        [&] {
            if (!other.socket().canReadLine())
                return false;
            reply = other.socket().readLine();
            fanningAtReply = server->router()->isFanningOut();
            return true;
        },
        reply, 30000);
    QCOMPARE(reply, QByteArray("ok\n"));
    QVERIFY2(fanningAtReply, "the unicast waited for the whole broadcast");
    // ... and on its target it comes behind the broadcast sent before it.
    WsClient &t = *clients[size_t(index)];
    QVERIFY(t.waitForMessages(2));
    QCOMPARE(t.messages.at(0), QStringLiteral(R"({"uid":"*","message":"b"})"));
    QCOMPARE(t.messages.at(1), QString::fromUtf8(pushLine(target, "u")));
    // Delivered before the broadcast reached everyone.
    int withBroadcast = 0;
    for (const auto &client : clients)
        withBroadcast += client->messages.isEmpty() ? 0 : 1;
    QVERIFY2(withBroadcast < Count, "every client had the broadcast before the unicast came");

    QCOMPARE(broadcaster.readLines(1, 30000), QList<QByteArray>({"ok\n"}));
    // The target had its turn early: it got the broadcast once only.
    QVERIFY(probe(server->textPort(), t, target));
    QCOMPARE(t.messages.size(), 3);
    for (const auto &client : clients)
        QVERIFY(client->waitForMessages(1, 30000));
}

void tst_FanOut::everyClientSeesOnePushConnectionsOrder()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 60;
    constexpr int Rounds = 1000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    // Broadcasts (sliced), unicasts (not sliced), and now and then a uid
    // list longer than a slice (sliced too), pipelined on one connection.
    QByteArray lines;
    std::vector<QList<QString>> expected(Count);
    QByteArray list = "[";
    for (int i = 0; i < Count; i += 2)
        list += (i ? ",\"" : "\"") + uidOf(i) + '"';
    list += ']';
    for (int round = 0; round < Rounds; ++round) {
        const QByteArray b = R"({"uid":"*","message":"b)" + QByteArray::number(round) + "\"}";
        lines += b + '\n';
        for (auto &e : expected)
            e.append(QString::fromLatin1(b));
        const int to = (round * 7) % Count;
        const QByteArray u = pushLine(uidOf(to), "u" + QByteArray::number(round));
        lines += u + '\n';
        expected[size_t(to)].append(QString::fromLatin1(u));
        if (round % 10 == 0) {
            const QByteArray l =
                R"({"uid":)" + list + R"(,"message":"l)" + QByteArray::number(round) + "\"}";
            lines += l + '\n';
            for (int i = 0; i < Count; i += 2)
                expected[size_t(i)].append(QString::fromLatin1(l));
        }
    }
    TextClient backend(server->textPort());
    backend.send(lines);
    const int replies = Rounds * 2 + Rounds / 10;
    const QList<QByteArray> answers = backend.readLines(replies, 60000);
    QCOMPARE(answers.size(), replies);
    QCOMPARE(answers.count("ok\n"), replies);
    for (int i = 0; i < Count; ++i) {
        WsClient &c = *clients[size_t(i)];
        QVERIFY(c.waitForMessages(int(expected[size_t(i)].size()), 30000));
        QCOMPARE(c.messages, expected[size_t(i)]);
    }
}

void tst_FanOut::clientsLeavingMidBroadcastAreNotCounted()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 1000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    // From the console: its completion says how many it reached.
    PushResult final;
    bool answered = false;
    const PushResult first = server->router()->push(R"({"uid":"*","message":"x"})",
        PushSource::Console, QStringLiteral("console"), [&](const PushResult &r) {
            final = r;
            answered = true;
        });
    QVERIFY(first.pending);
    QVERIFY(server->router()->isFanningOut());
    // Some not reached yet are kicked by the operator, some hang up
    // themselves; both while the slices go on.
    QList<QByteArray> kicked;
    QList<int> hungUp;
    for (int i = Count - 1; i >= 0 && (kicked.size() < 20 || hungUp.size() < 20); --i) {
        WsConnection *c = connectionOf(server.get(), uidOf(i));
        if (!c || c->messagesOut() != 0)
            continue;
        if (kicked.size() < 20)
            kicked.append(uidOf(i));
        else
            hungUp.append(i);
    }
    QCOMPARE(hungUp.size(), 20);
    for (const QByteArray &uid : std::as_const(kicked))
        QCOMPARE(server->kick(uid), 1);
    for (int i : std::as_const(hungUp))
        clients[size_t(i)]->socket.abort();
    WAIT_COMPARE(server->registry()->connectionCount(), Count - 40);
    QVERIFY2(!answered, "the broadcast was over before the clients left");
    WAIT_VERIFY(answered);
    QCOMPARE(final.status, PushStatus::Ok);
    QCOMPARE(final.dropped, 0);
    if (server->gateway()->threadCount() == 1) {
        QCOMPARE(final.delivered, Count - 40);
        return;
    }
    // With --threads the main thread hears of a hang-up from the socket
    // thread that read it: a client whose turn came before that is counted
    // (its frame handed over for a connection still open here), as it
    // would be with one thread if its reset were still on the wire; its
    // bytes are then reported as discarded. A kicked one never is.
    QVERIFY2(final.delivered >= Count - 40 && final.delivered <= Count - 20,
        qPrintable(QString::number(final.delivered)));
    const int late = final.delivered - (Count - 40);
    if (late > 0)
        WAIT_VERIFY(server->metrics().droppedBytes[int(DropReason::PeerGone)] > 0);
}

void tst_FanOut::clientBoundAfterTheStartIsNotATarget()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 1000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    TextClient backend(server->textPort());
    backend.send(R"({"uid":"*","message":"old"})"
                 "\n");
    WAIT_VERIFY(server->router()->isFanningOut());
    // One more client binds to a uid that has a connection already, and one
    // to a new uid: neither was there when the broadcast started.
    WsClient late(server->wsPort());
    WsClient later(server->wsPort());
    QVERIFY(late.bind("late", server.get()));
    const QByteArray taken = notReachedYet(server.get(), Count);
    QVERIFY(later.bind(taken, server.get()));
    QVERIFY2(server->router()->isFanningOut(), "too late to test: the broadcast is over");
    QCOMPARE(backend.readLines(1, 30000), QList<QByteArray>({"ok\n"}));
    QVERIFY(probe(server->textPort(), late, "late"));
    QCOMPARE(late.messages, QList<QString>({probeMessage("late")}));
    QVERIFY(probe(server->textPort(), later, taken));
    QCOMPARE(later.messages, QList<QString>({probeMessage(taken)}));
    // The next broadcast is theirs too.
    QCOMPARE(backend.request(R"({"uid":"*","message":"new"})"), QByteArray("ok\n"));
    QVERIFY(late.waitForMessages(2, 30000));
    QCOMPARE(late.messages.last(), QStringLiteral(R"({"uid":"*","message":"new"})"));
    QVERIFY(later.waitForMessages(2, 30000));
    QCOMPARE(later.messages.last(), QStringLiteral(R"({"uid":"*","message":"new"})"));
}

void tst_FanOut::consoleAndClusterBroadcastsAreSliced()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 500;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    // As a broadcast from another node arrives: nothing to answer.
    const PushResult fromNode = server->router()->push(
        R"({"uid":"*","message":"node"})", PushSource::Cluster, QStringLiteral("node:n2"));
    QVERIFY(fromNode.pending);
    QVERIFY(server->router()->isFanningOut());
    PushResult final;
    bool answered = false;
    const PushResult fromConsole = server->router()->push(R"({"uid":"*","message":"console"})",
        PushSource::Console, QStringLiteral("console"), [&](const PushResult &r) {
            final = r;
            answered = true;
        });
    QVERIFY(fromConsole.pending);
    WAIT_VERIFY(answered);
    QCOMPARE(final.status, PushStatus::Ok);
    QCOMPARE(final.delivered, Count);
    QVERIFY(!server->router()->isFanningOut());
    for (const auto &client : clients) {
        QVERIFY(client->waitForMessages(2, 30000));
        QCOMPARE(client->messages,
            QList<QString>({QStringLiteral(R"({"uid":"*","message":"node"})"),
                QStringLiteral(R"({"uid":"*","message":"console"})")}));
    }
    const auto &pushes = server->metrics().pushes;
    QCOMPARE(pushes[int(PushSource::Cluster)][int(PushStatus::Ok)], quint64(1));
    QCOMPARE(pushes[int(PushSource::Console)][int(PushStatus::Ok)], quint64(1));
}

// Broadcasts from another node are not answered, so nothing slows their
// arrival: past the byte cap the waiting ones go out at once.
void tst_FanOut::pendingFanOutsAreBoundedInBytes()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    FanOut::Slice slice = server->router()->fanOutSlice();
    slice.maxPendingBytes = 3000;
    server->router()->setFanOutSlice(slice);
    constexpr int Count = 100;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);
    const QByteArray padding(1000, 'p');
    QList<QString> expected;
    for (int i = 0; i < 3; ++i) {
        const QByteArray line =
            R"({"uid":"*","n":)" + QByteArray::number(i) + R"(,"pad":")" + padding + R"("})";
        expected << QString::fromUtf8(line);
        const PushResult r =
            server->router()->push(line, PushSource::Cluster, QStringLiteral("node:n2"));
        // Two fit under the cap and wait their slices; the third does not:
        // all three are sent before the call returns.
        QCOMPARE(r.pending, i < 2);
        QCOMPARE(server->router()->isFanningOut(), i < 2);
    }
    for (const auto &client : clients) {
        QVERIFY(client->waitForMessages(3, 30000));
        QCOMPARE(client->messages, expected);
    }
}

void tst_FanOut::shutdownMidBroadcastDeliversItFirst()
{
    auto server = startSlicedServer();
    QVERIFY(server);
    constexpr int Count = 1000;
    auto clients = crowd(server.get(), Count);
    QCOMPARE(int(clients.size()), Count);

    TextClient backend(server->textPort());
    backend.send(R"({"uid":"*","message":"last"})"
                 "\n");
    WAIT_VERIFY(server->router()->isFanningOut());
    bool finished = false;
    connect(server.get(), &PushServer::shutdownFinished, this, [&] { finished = true; });
    server->shutdown();
    QVERIFY(!server->router()->isFanningOut());
    // The backend has its answer before its connection closes; every
    // client gets the broadcast, then the close.
    QCOMPARE(backend.readLines(1, 30000), QList<QByteArray>({"ok\n"}));
    for (const auto &client : clients) {
        QVERIFY(client->waitForDisconnected(30000));
        QCOMPARE(
            client->messages, QList<QString>({QStringLiteral(R"({"uid":"*","message":"last"})")}));
        QCOMPARE(int(client->socket.closeCode()), 1001);
    }
    WAIT_VERIFY(finished);
}

PUSHCONSOLE_TEST_MAIN(tst_FanOut)
#include "tst_fanout.moc"
