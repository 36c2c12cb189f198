// The console in cluster mode: a real redis-server of its own on a free
// port, this process's gateway (node-a, with the window) and a second
// gateway as a real process (node-b), with real QWebSocket clients bound on
// either. Every model is under QAbstractItemModelTester.
#include "ClusterLink.h"
#include "ClusterSupport.h"
#include "LocalGatewaySource.h"
#include "MainWindow.h"
#include "OnlineFilterProxy.h"
#include "OnlineModel.h"
#include "OnlinePanel.h"
#include "PushPanel.h"
#include "TestSupport.h"
#include "UiTestMain.h"

#include <QAbstractItemModelTester>
#include <QAbstractProxyModel>
#include <QAction>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QToolButton>

#include <memory>
#include <vector>

using namespace ClusterSupport;
using namespace TestSupport;
using namespace Qt::StringLiterals;

namespace {

// Presence crosses Redis and two event loops: give it time on a busy machine.
constexpr int PresenceMs = 10000;

// The row of uid in a model (a proxy or the source), -1 when absent.
int rowOf(const QAbstractItemModel *model, const QString &uid)
{
    for (int r = 0; r < model->rowCount(); ++r) {
        if (model->index(r, OnlineModel::UidColumn).data().toString() == uid)
            return r;
    }
    return -1;
}

QString cell(const QAbstractItemModel *model, const QString &uid, int column)
{
    const int row = rowOf(model, uid);
    return row < 0 ? QString() : model->index(row, column).data().toString();
}

} // namespace

class TestConsoleCluster final : public QObject
{
    Q_OBJECT

private:
    RedisServer m_redis;
    Gateway m_nodeB;
    std::unique_ptr<PushServer> m_server; // node-a
    std::unique_ptr<LocalGatewaySource> m_source;
    std::unique_ptr<MainWindow> m_window;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;

    Config clusterConfig(const QString &redisUrl, const QString &node) const
    {
        Config c = loopbackConfig();
        c.redisUrl = redisUrl;
        c.nodeId = node;
        c.redisTimeoutMs = 1000;
        return c;
    }

    template<typename T>
    T *child(const QString &name) const
    {
        T *found = m_window->findChild<T *>(name);
        if (!found)
            qWarning("no child %s", qPrintable(name));
        return found;
    }
    QTableView *onlineView() const { return child<QTableView>(u"onlineView"_s); }
    QString statusText(const QString &name) const { return child<QLabel>(name)->text(); }

    void openWindow(PushServer *server)
    {
        m_source = std::make_unique<LocalGatewaySource>(server);
        m_window = std::make_unique<MainWindow>(m_source.get(), m_source.get());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_testers = testWindowModels(m_window.get());
    }

    void closeWindow()
    {
        m_testers.clear();
        m_window.reset();
        m_source.reset();
    }

    void selectUid(const QString &uid)
    {
        const int row = rowOf(onlineView()->model(), uid);
        QVERIFY2(row >= 0, qPrintable(uid));
        onlineView()->selectRow(row);
    }

private Q_SLOTS:
    void initTestCase()
    {
        REQUIRE_PROGRAM("redis-server");
        QVERIFY(m_redis.start());
        QVERIFY(m_nodeB.start(
            {u"--redis=%1"_s.arg(m_redis.url()), u"--node-id=node-b"_s, u"--redis-timeout=1s"_s}));
        m_server = startServer(clusterConfig(m_redis.url(), u"node-a"_s));
        QVERIFY(m_server);
        QVERIFY(m_server->cluster());
        WAIT_COMPARE(m_server->cluster()->nodes().size(), 2, PresenceMs);
    }

    void init()
    {
        QSettings().clear(); // the scope and layout of the test before
        WAIT_VERIFY(m_server->cluster()->isUp(), PresenceMs);
    }

    void cleanup() { closeWindow(); }

    void cleanupTestCase()
    {
        closeWindow();
        m_server.reset();
        m_nodeB.terminate();
        m_redis.stop();
    }

    // The model and its proxy alone: rows for the other node's uids come
    // and go incrementally, the scope filter hides them, never a reset.
    void modelFollowsTheCluster()
    {
        LocalGatewaySource source(m_server.get());
        OnlineModel model(&source);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        OnlineFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(OnlineModel::UidColumn);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);

        WsClient remote(m_nodeB.wsPort());
        QVERIFY(remote.bind("remote-1"));
        QTRY_VERIFY_WITH_TIMEOUT(model.rowOf("remote-1") >= 0, PresenceMs);
        const int r = model.rowOf("remote-1");
        QCOMPARE(model.index(r, OnlineModel::NodeColumn).data().toString(), u"node-b"_s);
        QCOMPARE(model.index(r, OnlineModel::UidColumn).data(OnlineModel::LocalRole), false);
        // What this node cannot know is not made up.
        QCOMPARE(model.index(r, OnlineModel::ConnectionsColumn).data().toString(), u"—"_s);
        QVERIFY(model.index(r, OnlineModel::PeersColumn).data().toString().isEmpty());
        QVERIFY(model.index(r, OnlineModel::ConnectionsColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(u"node-b"_s));
        QCOMPARE(model.otherNodesOf("remote-1"), QStringList {u"node-b"_s});
        QVERIFY(!model.isLocal("remote-1"));

        WsClient local(m_server->wsPort());
        QVERIFY(local.bind("local-1", m_server.get()));
        WsClient bothHere(m_server->wsPort()), bothThere(m_nodeB.wsPort());
        QVERIFY(bothHere.bind("both", m_server.get()));
        QVERIFY(bothThere.bind("both"));
        QTRY_COMPARE_WITH_TIMEOUT(
            cell(&model, u"both"_s, OnlineModel::NodeColumn), u"node-a, node-b"_s, PresenceMs);
        QCOMPARE(cell(&model, u"local-1"_s, OnlineModel::NodeColumn), u"node-a"_s);
        QCOMPARE(cell(&model, u"both"_s, OnlineModel::ConnectionsColumn).toInt(), 1);
        QVERIFY(model.isLocal("both"));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.localUidCount(), 2);
        QCOMPARE(model.connectionCount(), 2);

        // The scope: this node's uids only, and back, without a reset.
        QCOMPARE(proxy.rowCount(), 3);
        proxy.setThisNodeOnly(true);
        QCOMPARE(proxy.rowCount(), 2);
        QCOMPARE(rowOf(&proxy, u"remote-1"_s), -1);
        QVERIFY(rowOf(&proxy, u"both"_s) >= 0);
        // A uid that binds here while the view shows this node only appears.
        WsClient remoteHere(m_server->wsPort());
        QVERIFY(remoteHere.bind("remote-1", m_server.get()));
        QTRY_VERIFY(rowOf(&proxy, u"remote-1"_s) >= 0);
        QCOMPARE(cell(&model, u"remote-1"_s, OnlineModel::NodeColumn), u"node-a, node-b"_s);
        remoteHere.socket.close();
        QTRY_COMPARE(rowOf(&proxy, u"remote-1"_s), -1);
        QCOMPARE(cell(&model, u"remote-1"_s, OnlineModel::NodeColumn), u"node-b"_s);
        proxy.setThisNodeOnly(false);
        QCOMPARE(proxy.rowCount(), 3);

        // Leaving: the remote uid goes, the shared one keeps this node.
        remote.socket.close();
        QTRY_COMPARE_WITH_TIMEOUT(model.rowOf("remote-1"), -1, PresenceMs);
        bothThere.socket.close();
        QTRY_COMPARE_WITH_TIMEOUT(
            cell(&model, u"both"_s, OnlineModel::NodeColumn), u"node-a"_s, PresenceMs);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(resets.count(), 0);
    }

    // A node with many uids leaves: one presence reset, applied as one
    // model reset rather than hundreds of scattered removals.
    void nodeLeavingWithManyUidsIsOneReset()
    {
        constexpr int Clients = 600;
        Gateway nodeC;
        QVERIFY(nodeC.start(
            {u"--redis=%1"_s.arg(m_redis.url()), u"--node-id=node-c"_s, u"--redis-timeout=1s"_s}));
        LocalGatewaySource source(m_server.get());
        OnlineModel model(&source);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        OnlineFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(OnlineModel::UidColumn);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        WsClient here(m_server->wsPort());
        QVERIFY(here.bind("stays", m_server.get()));

        std::vector<std::unique_ptr<WsClient>> clients;
        for (int i = 0; i < Clients; ++i) {
            clients.push_back(std::make_unique<WsClient>(nodeC.wsPort()));
            QVERIFY(clients.back()->bind("c-" + QByteArray::number(i)));
        }
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        // Joining uid by uid: batched inserts.
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), Clients + 1, 20000);
        QCOMPARE(resets.count(), 0);
        QCOMPARE(cell(&model, u"c-7"_s, OnlineModel::NodeColumn), u"node-c"_s);

        nodeC.terminate(); // leaves the cluster at once
        QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, PresenceMs);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.uidAt(0), QByteArray("stays"));
        QCOMPARE(proxy.rowCount(), 1);
    }

    void windowShowsWholeClusterOrThisNode()
    {
        openWindow(m_server.get());
        QVERIFY(m_window->windowTitle().contains(u"node node-a"_s));
        auto *scope = child<QWidget>(u"onlineScope"_s);
        QVERIFY(scope->isVisible());
        // Whole cluster by default, with the node column.
        QVERIFY(child<QToolButton>(u"scopeCluster"_s)->isChecked());
        QVERIFY(!onlineView()->isColumnHidden(OnlineModel::NodeColumn));
        QTRY_COMPARE(statusText(u"statusCluster"_s), u"Node node-a of 2"_s);

        WsClient far(m_nodeB.wsPort()), near(m_server->wsPort());
        QVERIFY(far.bind("far-1"));
        QVERIFY(near.bind("near-1", m_server.get()));
        QTRY_COMPARE_WITH_TIMEOUT(cell(onlineView()->model(), u"far-1"_s, OnlineModel::NodeColumn),
            u"node-b"_s, PresenceMs);
        QTRY_COMPARE(
            cell(onlineView()->model(), u"near-1"_s, OnlineModel::NodeColumn), u"node-a"_s);
        // Counts: here, and in the cluster.
        QTRY_COMPARE(child<QLabel>(u"onlineCounts"_s)->text(),
            u"uids here: 1 · connections: 1 · uids in the cluster: 2 · nodes: 2"_s);

        // A remote uid: the detail pane says where it is; a push from here
        // reaches it through the cluster, and so does a kick (below).
        selectUid(u"far-1"_s);
        auto *note = child<QLabel>(u"connectionsNote"_s);
        QVERIFY(note->isVisible());
        QVERIFY2(note->text().contains(u"node-b"_s), qPrintable(note->text()));
        QVERIFY(!child<QTableView>(u"connectionsView"_s)->isVisible());
        QVERIFY(child<QAction>(u"kickAction"_s)->isEnabled());
        QVERIFY(child<QAction>(u"copyAction"_s)->isEnabled());
        QCOMPARE(child<QLineEdit>(u"pushTarget"_s)->text(), u"far-1"_s);
        child<QPlainTextEdit>(u"pushPayload"_s)->setPlainText(u"{\"msg\":\"hello far\"}"_s);
        // Answered when Redis says a node received it: pending until then.
        const PushResult r = m_window->pushPanel()->send();
        QVERIFY(r.pending);
        QVERIFY2(m_window->pushPanel()->resultText().contains(u"sending"_s),
            qPrintable(m_window->pushPanel()->resultText()));
        QVERIFY(far.waitForMessages(1));
        QCOMPARE(far.messages.front(), uR"({"uid":"far-1","msg":"hello far"})"_s);
        QTRY_VERIFY2(m_window->pushPanel()->resultText().contains(
                         u"ok: connections reached here: 0; published to other nodes: 1"_s),
            qPrintable(m_window->pushPanel()->resultText()));

        selectUid(u"near-1"_s);
        QVERIFY(!note->isVisible());
        QVERIFY(child<QTableView>(u"connectionsView"_s)->isVisible());
        QVERIFY(child<QAction>(u"kickAction"_s)->isEnabled());

        // This node only: the remote uid and the node column go.
        QTest::mouseClick(child<QToolButton>(u"scopeThisNode"_s), Qt::LeftButton);
        QCOMPARE(m_window->onlinePanel()->scope(), OnlinePanel::Scope::ThisNode);
        QCOMPARE(rowOf(onlineView()->model(), u"far-1"_s), -1);
        QVERIFY(rowOf(onlineView()->model(), u"near-1"_s) >= 0);
        QVERIFY(onlineView()->isColumnHidden(OnlineModel::NodeColumn));
        // The counts still tell the cluster.
        QVERIFY(child<QLabel>(u"onlineCounts"_s)->text().contains(u"uids in the cluster: 2"_s));

        // Remembered for the next window.
        closeWindow();
        openWindow(m_server.get());
        QCOMPARE(m_window->onlinePanel()->scope(), OnlinePanel::Scope::ThisNode);
        QVERIFY(onlineView()->isColumnHidden(OnlineModel::NodeColumn));
        QTRY_VERIFY(rowOf(onlineView()->model(), u"near-1"_s) >= 0);
        QCOMPARE(rowOf(onlineView()->model(), u"far-1"_s), -1);
        QTest::mouseClick(child<QToolButton>(u"scopeCluster"_s), Qt::LeftButton);
        QVERIFY(rowOf(onlineView()->model(), u"far-1"_s) >= 0);
        QVERIFY(!onlineView()->isColumnHidden(OnlineModel::NodeColumn));

        // Disconnect from here closes the client on node-b (routed through
        // Redis); its row goes.
        selectUid(u"far-1"_s);
        child<QAction>(u"kickAction"_s)->trigger();
        QVERIFY(far.waitForDisconnected(PresenceMs));
        QTRY_VERIFY2(m_window->statusBar()->currentMessage().contains(
                         u"other nodes asked to close theirs: 1"_s),
            qPrintable(m_window->statusBar()->currentMessage()));
        QTRY_COMPARE_WITH_TIMEOUT(rowOf(onlineView()->model(), u"far-1"_s), -1, PresenceMs);
        QVERIFY(rowOf(onlineView()->model(), u"near-1"_s) >= 0);

        // The cluster's counters under the chart.
        QTRY_VERIFY(child<QLabel>(u"statsCluster"_s)->text().contains(u"published 1"_s));
        QVERIFY(child<QLabel>(u"statsCluster"_s)->isVisible());
        QVERIFY(!child<QLabel>(u"statsOffline"_s)->isVisible());
    }

    // Redis stopped: the window says the link is down and shows this
    // node's uids only; Redis back: the other node's uids come back.
    void linkDownWhenRedisStops()
    {
        openWindow(m_server.get());
        WsClient far(m_nodeB.wsPort()), near(m_server->wsPort());
        QVERIFY(far.bind("far-2"));
        QVERIFY(near.bind("near-2", m_server.get()));
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(onlineView()->model(), u"far-2"_s) >= 0, PresenceMs);
        auto *linkDown = child<QLabel>(u"clusterLinkDown"_s);
        QVERIFY(!linkDown->isVisible());

        m_redis.stop();
        QTRY_VERIFY_WITH_TIMEOUT(linkDown->isVisible(), PresenceMs);
        QVERIFY(statusText(u"statusCluster"_s).contains(u"cluster link down"_s));
        QVERIFY(child<QLabel>(u"onlineCounts"_s)->text().contains(u"cluster link down"_s));
        QTRY_COMPARE(rowOf(onlineView()->model(), u"far-2"_s), -1);
        QVERIFY(rowOf(onlineView()->model(), u"near-2"_s) >= 0);
        // Local delivery goes on.
        TextClient backend(m_server->textPort());
        QCOMPARE(backend.request(pushLine("near-2", "still here")), QByteArray("ok\n"));
        QVERIFY(near.waitForMessages(1));

        QVERIFY(m_redis.start()); // on its port again
        // Both nodes reconnect with backoff (up to 5 s) and register again.
        QTRY_VERIFY_WITH_TIMEOUT(!linkDown->isVisible(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(onlineView()->model(), u"far-2"_s) >= 0, 20000);
        QTRY_COMPARE(statusText(u"statusCluster"_s), u"Node node-a of 2"_s);
        QTRY_VERIFY(child<QLabel>(u"statsCluster"_s)->text().contains(u"link lost 1×"_s));
    }

    // Redis unreachable from the start: "joining" for a moment, then down.
    void unreachableRedisShowsJoiningThenDown()
    {
        const ClosedPort nowhere;
        Config config = clusterConfig(u"redis://127.0.0.1:%1"_s.arg(nowhere.port()), u"lonely"_s);
        auto server = startServer(config);
        QVERIFY(server);
        openWindow(server.get());
        QVERIFY(statusText(u"statusCluster"_s).contains(u"joining"_s));
        QVERIFY(child<QLabel>(u"onlineCounts"_s)->text().contains(u"joining the cluster"_s));
        QVERIFY(!child<QLabel>(u"clusterLinkDown"_s)->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(u"clusterLinkDown"_s)->isVisible(), 8000);
        QVERIFY(statusText(u"statusCluster"_s).contains(u"cluster link down"_s));
        closeWindow();
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestConsoleCluster)
#include "tst_consolecluster.moc"
