// The console attached to real gateway processes: pushgatewayd started by
// the test (loopback ports 0, an API key), a RemoteGatewaySource in this
// process, real QWebSocket clients and a real backend on the push port; in
// the cluster case a redis-server of its own and two gateways. The models
// the console shows are fed by the source under QAbstractItemModelTester.
#include "AttachTarget.h"
#include "ClusterSupport.h"
#include "LogModel.h"
#include "MainWindow.h"
#include "OnlineModel.h"
#include "OnlinePanel.h"
#include "RemoteGatewaySource.h"
#include "TestSupport.h"
#include "UiTestMain.h"

#include <QAbstractItemModelTester>
#include <QAbstractProxyModel>
#include <QAction>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>

#include <algorithm>
#include <memory>
#include <vector>

using namespace ClusterSupport;
using namespace TestSupport;
using namespace Qt::StringLiterals;
using LinkState = GatewaySource::LinkState;
using Failure = RemoteGatewaySource::Failure;

namespace {

// Presence crosses the gateway's event loop, the admin stream and, in a
// cluster, Redis: give it time on a busy machine.
constexpr int PresenceMs = 10000;

QList<QByteArray> sorted(QList<QByteArray> list)
{
    std::sort(list.begin(), list.end());
    return list;
}

// The rows of the log whose uid and payload are these.
int logRows(const LogModel &log, const QByteArray &uid, const QByteArray &text)
{
    int n = 0;
    for (int r = 0; r < log.rowCount(); ++r) {
        const Event &e = log.event(r);
        if (e.uid == uid && e.text.contains(text))
            ++n;
    }
    return n;
}

int rowOf(const QAbstractItemModel *model, const QString &uid)
{
    for (int r = 0; r < model->rowCount(); ++r) {
        if (model->index(r, OnlineModel::UidColumn).data().toString() == uid)
            return r;
    }
    return -1;
}

} // namespace

class TestAttach final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_keyFile;
    QString m_wrongKeyFile;
    std::unique_ptr<Gateway> m_gateway;
    std::unique_ptr<RemoteGatewaySource> m_source;
    std::unique_ptr<OnlineModel> m_online;
    std::unique_ptr<LogModel> m_log;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;

    static QString writeFile(const QString &path, const QByteArray &text)
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            qFatal("cannot write %s", qPrintable(path));
        file.write(text);
        return path;
    }

    bool startGateway(Gateway *gateway, const QStringList &args = {})
    {
        gateway->setBinary(QStringLiteral(PUSHGATEWAYD_BINARY));
        return gateway->start(QStringList {u"--http-api-key-file=%1"_s.arg(m_keyFile)} + args);
    }

    static QString urlOf(const Gateway &gateway)
    {
        return u"http://127.0.0.1:%1"_s.arg(gateway.httpPort());
    }

    // A source attached to url with the key file, reconnecting fast, and the
    // console's models on it.
    RemoteGatewaySource *attach(const QString &url, const QString &keyFile)
    {
        AttachTarget target;
        QString error;
        if (!AttachTarget::load(url, keyFile, {}, &target, &error))
            qFatal("%s", qPrintable(error));
        m_source = std::make_unique<RemoteGatewaySource>(target);
        m_source->setReconnectDelays(50, 300);
        m_online = std::make_unique<OnlineModel>(m_source.get());
        m_online->setRefreshInterval(50);
        m_log = std::make_unique<LogModel>(m_source.get(), m_source->eventCapacity());
        m_log->setBatchInterval(20);
        m_testers.push_back(std::make_unique<QAbstractItemModelTester>(
            m_online.get(), QAbstractItemModelTester::FailureReportingMode::QtTest));
        m_testers.push_back(std::make_unique<QAbstractItemModelTester>(
            m_log.get(), QAbstractItemModelTester::FailureReportingMode::QtTest));
        m_source->open();
        return m_source.get();
    }

    void detach()
    {
        m_testers.clear();
        m_log.reset();
        m_online.reset();
        m_source.reset();
    }

    int onlineRows(const QByteArray &uid) const
    {
        m_online->applyPending();
        return m_online->rowOf(uid) >= 0 ? 1 : 0;
    }

    int connectionsShown(const QByteArray &uid) const
    {
        m_online->applyPending();
        const int row = m_online->rowOf(uid);
        return row < 0 ? 0 : m_online->index(row, OnlineModel::ConnectionsColumn).data().toInt();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_keyFile = writeFile(m_dir.filePath(u"api.key"_s), "attach-test-key\n");
        m_wrongKeyFile = writeFile(m_dir.filePath(u"wrong.key"_s), "not-the-key\n");
    }

    void init()
    {
        QSettings().clear();
        m_gateway = std::make_unique<Gateway>();
        QVERIFY(startGateway(m_gateway.get()));
        QVERIFY(m_gateway->httpPort() != 0);
    }

    void cleanup()
    {
        detach();
        if (m_gateway)
            m_gateway->terminate();
        m_gateway.reset();
    }

    // The online view follows the real clients: connections counted per
    // uid, a closed one taken off, a uid gone with its last connection.
    void onlineViewMatchesClients()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        QVERIFY(source->linkError().isEmpty());
        QVERIFY(!source->version().isEmpty());
        QCOMPARE(source->onlineUids(), QList<QByteArray>());

        WsClient a1(m_gateway->wsPort()), a2(m_gateway->wsPort()), b(m_gateway->wsPort());
        QVERIFY(a1.bind("attach-a"));
        QVERIFY(a2.bind("attach-a"));
        QVERIFY(b.bind("attach-b"));
        QVERIFY(m_gateway->waitUntilBound("attach-a", 2));
        QVERIFY(m_gateway->waitUntilBound("attach-b"));
        WAIT_COMPARE(
            sorted(source->onlineUids()), (QList<QByteArray> {"attach-a", "attach-b"}), PresenceMs);
        WAIT_COMPARE(connectionsShown("attach-a"), 2, PresenceMs);
        QCOMPARE(connectionsShown("attach-b"), 1);
        QCOMPARE(m_online->rowCount(), 2);
        QCOMPARE(source->presence("attach-a").peers.size(), 2);
        WAIT_COMPARE(m_online->localUidCount(), 2);
        WAIT_COMPARE(m_online->connectionCount(), 3);

        // The connections of a uid, asked over HTTP.
        QList<SessionInfo> sessions;
        bool answered = false;
        source->requestSessions("attach-a", this, [&](const QList<SessionInfo> &s) {
            sessions = s;
            answered = true;
        });
        WAIT_VERIFY(answered);
        QCOMPARE(sessions.size(), 2);

        a2.socket.close();
        WAIT_COMPARE(connectionsShown("attach-a"), 1, PresenceMs);
        b.socket.close();
        WAIT_COMPARE(onlineRows("attach-b"), 0, PresenceMs);
        QCOMPARE(source->onlineUids(), QList<QByteArray> {"attach-a"});
        QCOMPARE(m_online->rowCount(), 1);
    }

    // A push made through the source, as the console's push panel does,
    // reaches the real client and shows in the log.
    void consolePushReachesClient()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        WsClient client(m_gateway->wsPort());
        QVERIFY(client.bind("attach-push"));
        QVERIFY(m_gateway->waitUntilBound("attach-push"));

        PushResult result;
        bool answered = false;
        source->push(pushLine("attach-push", "from the console"), this, [&](const PushResult &r) {
            result = r;
            answered = true;
        });
        WAIT_VERIFY(answered);
        QCOMPARE(result.status, PushStatus::Ok);
        QCOMPARE(result.delivered, 1);
        QVERIFY(client.waitForMessages(1));
        QVERIFY2(client.messages.front().contains(u"from the console"_s),
            qPrintable(client.messages.front()));
        WAIT_VERIFY(logRows(*m_log, "attach-push", "from the console") >= 1, PresenceMs);

        // Offline: fail, and nothing reaches the client.
        answered = false;
        source->push(pushLine("attach-nobody", "lost"), this, [&](const PushResult &r) {
            result = r;
            answered = true;
        });
        WAIT_VERIFY(answered);
        QCOMPARE(result.status, PushStatus::Fail);
    }

    // A backend's push on the push port appears in the console's log.
    void backendPushInLog()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        WsClient client(m_gateway->wsPort());
        QVERIFY(client.bind("attach-backend"));
        QVERIFY(m_gateway->waitUntilBound("attach-backend"));
        TextClient backend(m_gateway->textPort());
        const QByteArray reply = backend.request(pushLine("attach-backend", "from a backend"));
        QVERIFY2(reply.startsWith("ok"), reply.constData());
        QVERIFY(client.waitForMessages(1));
        WAIT_VERIFY(logRows(*m_log, "attach-backend", "from a backend") >= 1, PresenceMs);
        const int before = m_log->rowCount();
        for (int r = 0; r < before; ++r) {
            const Event &e = m_log->event(r);
            if (e.type == Event::Type::Push && e.uid == "attach-backend") {
                QCOMPARE(e.source, PushSource::TextPort);
                QCOMPARE(e.status, PushStatus::Ok);
                QCOMPARE(e.delivered, 1);
            }
        }
    }

    // Kick through the source closes the real client.
    void kickClosesClient()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        WsClient client(m_gateway->wsPort());
        QVERIFY(client.bind("attach-kick"));
        WAIT_COMPARE(onlineRows("attach-kick"), 1, PresenceMs);

        KickResult result;
        bool answered = false;
        source->kick("attach-kick", this, [&](const KickResult &r) {
            result = r;
            answered = true;
        });
        WAIT_VERIFY(answered);
        QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
        QCOMPARE(result.closed, 1);
        QCOMPARE(result.nodes, 0);
        QVERIFY(client.waitForDisconnected());
        QCOMPARE(int(client.socket.closeCode()), 1008);
        WAIT_COMPARE(onlineRows("attach-kick"), 0, PresenceMs);

        // Gone already: nothing to close, no error.
        answered = false;
        source->kick("attach-kick", this, [&](const KickResult &r) {
            result = r;
            answered = true;
        });
        WAIT_VERIFY(answered);
        QVERIFY(result.error.isEmpty());
        QCOMPARE(result.closed, 0);
    }

    // The gateway restarted under the console: the link is lost (the
    // banner's message), then re-synced from a fresh snapshot: the uids of
    // before are gone, the ones bound after the restart are there.
    void gatewayRestartResyncs()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        auto before = std::make_unique<WsClient>(m_gateway->wsPort());
        QVERIFY(before->bind("attach-before"));
        WAIT_COMPARE(onlineRows("attach-before"), 1, PresenceMs);

        QSignalSpy links(source, &GatewaySource::linkStateChanged);
        QSignalSpy resets(source, &GatewaySource::presenceReset);
        const quint16 httpPort = m_gateway->httpPort();
        QVERIFY(m_gateway->stop());
        WAIT_COMPARE(source->linkState(), LinkState::Lost, PresenceMs);
        QVERIFY(!source->linkError().isEmpty());
        QVERIFY(before->waitForDisconnected());
        before.reset();
        // Retrying meanwhile, and still Lost: the view keeps the last state.
        const int reconnects = source->reconnects();
        WAIT_VERIFY(source->reconnects() > reconnects + 1, PresenceMs);
        QCOMPARE(source->linkState(), LinkState::Lost);

        QVERIFY(startGateway(m_gateway.get(), {u"--http-port=%1"_s.arg(httpPort)}));
        QCOMPARE(m_gateway->httpPort(), httpPort);
        WsClient after(m_gateway->wsPort());
        QVERIFY(after.bind("attach-after"));
        QVERIFY(m_gateway->waitUntilBound("attach-after"));
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        QVERIFY(source->linkError().isEmpty());
        WAIT_COMPARE(source->onlineUids(), QList<QByteArray> {"attach-after"}, PresenceMs);
        WAIT_COMPARE(onlineRows("attach-before"), 0, PresenceMs);
        QCOMPARE(onlineRows("attach-after"), 1);
        QVERIFY(resets.size() >= 1);

        // Lost, then Resyncing while the snapshot comes, then Connected.
        QList<LinkState> states;
        for (const auto &args : links)
            states.append(args.at(0).value<LinkState>());
        QVERIFY(!states.isEmpty());
        QCOMPARE(states.front(), LinkState::Lost);
        QCOMPARE(states.back(), LinkState::Connected);
        QVERIFY(states.size() >= 3);
        QCOMPARE(states.at(states.size() - 2), LinkState::Resyncing);

        // The fresh gateway's state: a push now shows in the log.
        TextClient backend(m_gateway->textPort());
        QVERIFY(backend.request(pushLine("attach-after", "after the restart")).startsWith("ok"));
        WAIT_VERIFY(logRows(*m_log, "attach-after", "after the restart") >= 1, PresenceMs);
    }

    // A wrong key: the 401 message, and no retry.
    void wrongKeyIsRefused()
    {
        RemoteGatewaySource *source = attach(urlOf(*m_gateway), m_wrongKeyFile);
        WAIT_COMPARE(source->failure(), Failure::Unauthorized, PresenceMs);
        QCOMPARE(source->linkState(), LinkState::Lost);
        QVERIFY2(source->linkError().contains(u"refused the API key"_s),
            qPrintable(source->linkError()));
        QVERIFY2(source->linkError().contains(u"401"_s), qPrintable(source->linkError()));
        QVERIFY2(source->linkError().contains(urlOf(*m_gateway)), qPrintable(source->linkError()));
        QCOMPARE(m_online->rowCount(), 0);
        // No key at all: the same.
        detach();
        source = attach(urlOf(*m_gateway), {});
        WAIT_COMPARE(source->failure(), Failure::Unauthorized, PresenceMs);
    }

    // Two gateways and Redis: attached through node A, the console shows
    // node B's uids with their node, and a kick through A of a uid held by
    // B closes B's client, from the source and from the window.
    void clusterThroughNodeA()
    {
        REQUIRE_PROGRAM("redis-server");
        m_gateway->terminate();
        RedisServer redis;
        QVERIFY(redis.start());
        const QStringList common = {u"--redis=%1"_s.arg(redis.url()), u"--redis-timeout=1s"_s};
        Gateway nodeA, nodeB;
        QVERIFY(startGateway(&nodeA, common + QStringList {u"--node-id=node-a"_s}));
        QVERIFY(startGateway(&nodeB, common + QStringList {u"--node-id=node-b"_s}));

        RemoteGatewaySource *source = attach(urlOf(nodeA), m_keyFile);
        WAIT_COMPARE(source->linkState(), LinkState::Connected, PresenceMs);
        QCOMPARE(source->nodeName(), u"node-a"_s);
        WAIT_VERIFY(source->cluster().enabled && source->cluster().up, PresenceMs);
        WAIT_COMPARE(source->cluster().nodes.size(), 2, PresenceMs);

        WsClient far1(nodeB.wsPort()), far2(nodeB.wsPort()), near(nodeA.wsPort());
        QVERIFY(far1.bind("far-1"));
        QVERIFY(far2.bind("far-2"));
        QVERIFY(near.bind("near-1"));
        WAIT_COMPARE(source->presence("far-1").otherNodes, QStringList {u"node-b"_s}, PresenceMs);
        WAIT_COMPARE(source->presence("far-2").otherNodes, QStringList {u"node-b"_s}, PresenceMs);
        QCOMPARE(source->presence("far-1").connections, 0);
        WAIT_COMPARE(source->presence("near-1").connections, 1, PresenceMs);
        QVERIFY(m_online->isCluster());
        WAIT_COMPARE(m_online->rowCount(), 3, PresenceMs);
        const auto node = [&](const QByteArray &uid) {
            m_online->applyPending();
            const int row = m_online->rowOf(uid);
            return row < 0 ? QString()
                           : m_online->index(row, OnlineModel::NodeColumn).data().toString();
        };
        WAIT_COMPARE(node("far-1"), u"node-b"_s, PresenceMs);
        QCOMPARE(node("near-1"), u"node-a"_s);
        QVERIFY(!m_online->isLocal("far-1"));
        QCOMPARE(m_online->localUidCount(), 1);

        // The source: A closes nothing, asks B, B closes its client.
        KickResult result;
        bool answered = false;
        source->kick("far-1", this, [&](const KickResult &r) {
            result = r;
            answered = true;
        });
        WAIT_VERIFY(answered, PresenceMs);
        QVERIFY2(result.error.isEmpty(), qPrintable(result.error));
        QCOMPARE(result.closed, 0);
        QCOMPARE(result.nodes, 1);
        QVERIFY(far1.waitForDisconnected(PresenceMs));
        WAIT_COMPARE(node("far-1"), QString(), PresenceMs);
        QVERIFY(source->kicksAcrossCluster());

        // The window: a uid held by B only can be kicked; the status bar
        // says what happened here and how many nodes were asked.
        MainWindow window(source);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto testers = testWindowModels(&window);
        auto *view = window.findChild<QTableView *>(u"onlineView"_s);
        QVERIFY(view);
        window.onlinePanel()->model()->applyPending();
        WAIT_VERIFY(rowOf(view->model(), u"far-2"_s) >= 0, PresenceMs);
        view->selectRow(rowOf(view->model(), u"far-2"_s));
        QCOMPARE(window.onlinePanel()->selectedUids(), QStringList {u"far-2"_s});
        auto *kick = window.findChild<QAction *>(u"kickAction"_s);
        QVERIFY(kick);
        QVERIFY(kick->isEnabled());
        kick->trigger();
        QVERIFY(far2.waitForDisconnected(PresenceMs));
        WAIT_VERIFY2(window.statusBar()->currentMessage().contains(u"far-2"_s),
            window.statusBar()->currentMessage(), PresenceMs);
        QVERIFY2(window.statusBar()->currentMessage().contains(
                     u"connections closed here: 0; other nodes asked to close theirs: 1"_s),
            qPrintable(window.statusBar()->currentMessage()));
        QVERIFY(!near.disconnected);

        testers.clear();
        detach();
        nodeA.terminate();
        nodeB.terminate();
        redis.stop();
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestAttach)
#include "tst_attach.moc"
