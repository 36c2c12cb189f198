// The console through the GatewaySource interface alone: a fake source the
// test drives by hand (as a remote gateway would report) feeds every model
// and panel, each model under QAbstractItemModelTester. No gateway runs
// here; what works against this fake works against any source.
#include "ClusterStatus.h"
#include "ConnectionsModel.h"
#include "FakeGatewaySource.h"
#include "LogModel.h"
#include "LogPanel.h"
#include "MainWindow.h"
#include "MessageBanner.h"
#include "OnlineFilterProxy.h"
#include "OnlineModel.h"
#include "OnlinePanel.h"
#include "PushHistoryModel.h"
#include "PushPanel.h"
#include "ServerStatusBar.h"
#include "StatsCounters.h"
#include "StatsSampler.h"
#include "UiTestMain.h"

#include <QAbstractItemModelTester>
#include <QAbstractProxyModel>
#include <QAction>
#include <QDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QToolBar>

#include <memory>
#include <vector>

using namespace Qt::StringLiterals;

namespace {

Event message(const QByteArray &uid, const QByteArray &text)
{
    Event e;
    e.type = Event::Type::MessageIn;
    e.uid = uid;
    e.text = text;
    e.size = text.size();
    return e;
}

QList<Event> messages(const QByteArray &uid, int first, int count)
{
    QList<Event> out;
    for (int i = first; i < first + count; ++i)
        out.append(message(uid, QByteArray::number(i)));
    return out;
}

SessionInfo session(quint64 id, const QByteArray &uid)
{
    SessionInfo s;
    s.id = id;
    s.uid = uid;
    s.peer = QStringLiteral("10.2.0.%1:5000").arg(id);
    s.connectedAt = 1700000000000;
    s.lastActivity = 1700000001000;
    return s;
}

CounterSample counters(qint64 steadyMs, quint64 ok, quint64 fail = 0)
{
    CounterSample s;
    s.time = 1700000000000 + steadyMs;
    s.steadyMs = steadyMs;
    s.uids = 2;
    s.connections = 3;
    s.pushes[int(PushStatus::Ok)] = ok;
    s.pushes[int(PushStatus::Fail)] = fail;
    return s;
}

ClusterState clusterOf(bool up, int nodes)
{
    ClusterState c;
    c.enabled = true;
    c.up = up;
    c.nodeId = u"gw-1"_s;
    c.redis = u"redis://10.0.0.9:6379"_s;
    for (int i = 1; i <= nodes; ++i)
        c.nodes.append({u"gw-%1"_s.arg(i), 1, i == 1});
    return c;
}

QStringList column(const QAbstractItemModel *model, int column)
{
    QStringList out;
    for (int r = 0; r < model->rowCount(); ++r)
        out.append(model->index(r, column).data().toString());
    return out;
}

} // namespace

class TestGatewaySource final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<FakeGatewaySource> m_source;
    std::unique_ptr<MainWindow> m_window;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> m_testers;

    template<typename T>
    T *child(const QString &name) const
    {
        T *found = m_window->findChild<T *>(name);
        if (!found)
            qWarning("no child %s", qPrintable(name));
        return found;
    }
    QAbstractItemModel *onlineModel() const { return child<QTableView>(u"onlineView"_s)->model(); }

    void openWindow(GatewaySettings *settings = nullptr)
    {
        m_window = std::make_unique<MainWindow>(m_source.get(), settings);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_testers = testWindowModels(m_window.get());
    }

    void selectUid(const QString &uid)
    {
        QTableView *view = child<QTableView>(u"onlineView"_s);
        for (int r = 0; r < view->model()->rowCount(); ++r) {
            if (view->model()->index(r, OnlineModel::UidColumn).data().toString() == uid) {
                view->selectRow(r);
                return;
            }
        }
        QFAIL("uid not in the online view");
    }

    // Visible to the user: the action is visible and in a shown toolbar.
    bool shownInToolBar(const QString &actionName) const
    {
        auto *action = child<QAction>(actionName);
        auto *bar = m_window->findChild<QToolBar *>(u"mainToolBar"_s);
        QWidget *button = bar->widgetForAction(action);
        return action->isVisible() && button && button->isVisible();
    }

private Q_SLOTS:
    void init()
    {
        QSettings().clear();
        m_source = std::make_unique<FakeGatewaySource>();
    }

    void cleanup()
    {
        m_testers.clear();
        m_window.reset();
        m_source.reset();
    }

    // The window stays within the screen: a layout saved on a larger one,
    // or the first start's 1440×900 on a 1366×768 laptop, is brought in.
    void windowFitsTheScreen()
    {
        const QRect laptop(0, 0, 1366, 720);
        const QSize minimum(1000, 480);
        QCOMPARE(MainWindow::placedOnScreen(QRect(0, 0, 1440, 900), laptop, minimum),
            QRect(0, 0, 1366, 720));
        // Saved at the right of a wide screen: moved back, not only shrunk.
        QCOMPARE(MainWindow::placedOnScreen(QRect(2000, 300, 1600, 1000), laptop, minimum),
            QRect(0, 0, 1366, 720));
        QCOMPARE(MainWindow::placedOnScreen(QRect(200, 100, 1100, 500), laptop, minimum),
            QRect(200, 100, 1100, 500));
        QCOMPARE(MainWindow::placedOnScreen(QRect(500, 400, 1100, 500), laptop, minimum),
            QRect(266, 220, 1100, 500));
        // A second screen to the left (negative coordinates).
        QCOMPARE(MainWindow::placedOnScreen(
                     QRect(-900, 50, 800, 600), QRect(-1920, 0, 1920, 1080), minimum),
            QRect(-1000, 50, 1000, 600));
        // Smaller than the window can be: its minimum wins, top-left in view.
        QCOMPARE(
            MainWindow::placedOnScreen(QRect(100, 100, 1440, 900), QRect(0, 0, 800, 600), minimum),
            QRect(0, 0, 1000, 600));
        // And a real window: the test's screen is 1920×1200.
        m_source->where = QString();
        openWindow();
        const QRect room = m_window->screen()->availableGeometry();
        QVERIFY2(room.contains(m_window->geometry()),
            qPrintable(u"%1,%2 %3x%4"_s.arg(m_window->x())
                           .arg(m_window->y())
                           .arg(m_window->width())
                           .arg(m_window->height())));
        QCOMPARE(m_window->size(), QSize(1440, 900));
    }

    // Each gateway keeps its own window layout; one attached for the first
    // time starts from the local console's.
    void layoutIsKeptPerGateway()
    {
        const auto open = [this](const QString &where, QSize resizeTo) {
            m_source->where = where;
            openWindow();
            const QSize restored = m_window->size();
            if (resizeTo.isValid())
                m_window->resize(resizeTo);
            m_window->close();
            m_testers.clear();
            m_window.reset();
            return restored;
        };
        const QString a = u"https://a.example:2121"_s;
        open(a, QSize(1300, 700));
        open(QString(), QSize(1400, 800));
        QCOMPARE(open(a, {}), QSize(1300, 700));
        QCOMPARE(open(QString(), {}), QSize(1400, 800));
        QCOMPARE(open(u"https://b.example:2121"_s, QSize(1250, 750)), QSize(1400, 800));
        QCOMPARE(open(u"https://b.example:2121"_s, {}), QSize(1250, 750));
        QCOMPARE(open(a, {}), QSize(1300, 700));
        QStringList groups = QSettings().childGroups().filter(u"window"_s);
        groups.sort();
        QCOMPARE(groups,
            QStringList({u"window"_s, u"window-https___a.example_2121"_s,
                u"window-https___b.example_2121"_s}));
    }

    // Rows come, change and go uid by uid in batches; a re-sync with many
    // changes is one model reset, one with few stays incremental.
    void onlineModelFollowsPresence()
    {
        m_source->uids.insert("a", presenceOf("a", 2));
        OnlineModel model(m_source.get());
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        OnlineFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(OnlineModel::UidColumn);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy counts(&model, &OnlineModel::countsChanged);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QCOMPARE(model.rowCount(), 1); // what the source held when the model was made
        QCOMPARE(model.connectionCount(), 2);

        m_source->setPresence(presenceOf("b", 1));
        m_source->setPresence(presenceOf("c", 1));
        QCOMPARE(model.rowCount(), 1); // batched: nothing until the timer
        QTRY_COMPARE(model.rowCount(), 3);
        QCOMPARE(column(&proxy, OnlineModel::UidColumn), (QStringList {u"a"_s, u"b"_s, u"c"_s}));
        QCOMPARE(counts.last(), (QVariantList {3, 4}));

        // One of a's connections closes: the row is updated in place.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        m_source->setPresence(presenceOf("a", 1, {}, 7));
        model.applyPending();
        QVERIFY(!changed.isEmpty());
        QCOMPARE(model.index(model.rowOf("a"), OnlineModel::ConnectionsColumn).data().toInt(), 1);
        QCOMPARE(model.index(model.rowOf("a"), OnlineModel::OutColumn).data().toInt(), 7);
        QCOMPARE(model.connectionCount(), 3);

        // A uid that came and went within one batch never shows.
        m_source->setPresence(presenceOf("brief", 1));
        m_source->removePresence("brief");
        m_source->removePresence("b");
        model.applyPending();
        QCOMPARE(column(&proxy, OnlineModel::UidColumn), (QStringList {u"a"_s, u"c"_s}));
        QCOMPARE(model.rowOf("b"), -1);
        QCOMPARE(resets.count(), 0);

        // A re-sync with a few changes: incremental, read at the next batch.
        m_source->resetPresence({presenceOf("a", 1, {}, 7), presenceOf("d", 2)});
        QCOMPARE(model.rowCount(), 2);
        QTRY_COMPARE(model.rowOf("d") >= 0, true);
        QCOMPARE(model.rowOf("c"), -1);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(resets.count(), 0);

        // A re-sync that changes hundreds of rows is one model reset.
        QList<PresenceEntry> many;
        for (int i = 0; i < 600; ++i)
            many.append(presenceOf("m" + QByteArray::number(i), 1));
        m_source->resetPresence(many);
        model.applyPending();
        QCOMPARE(resets.count(), 1);
        QCOMPARE(model.rowCount(), 600);
        QCOMPARE(model.connectionCount(), 600);
        for (int r = 0; r < model.rowCount(); ++r)
            QCOMPARE(model.rowOf(model.uidAt(r)), r);
        QCOMPARE(proxy.rowCount(), 600);
    }

    // Cluster mode as a source reports it: rows held by other nodes only,
    // the node column naming this node first once cluster mode begins.
    void onlineModelShowsOtherNodes()
    {
        m_source->uids.insert("here", presenceOf("here", 1));
        OnlineModel model(m_source.get());
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QVERIFY(!model.isCluster());
        QCOMPARE(model.index(0, OnlineModel::NodeColumn).data().toString(), QString());

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        m_source->setCluster(clusterOf(true, 2));
        QVERIFY(model.isCluster());
        QVERIFY(!changed.isEmpty());
        QCOMPARE(model.index(0, OnlineModel::NodeColumn).data().toString(), u"gw-1"_s);

        m_source->setPresence(presenceOf("far", 0, {u"gw-2"_s}));
        m_source->setPresence(presenceOf("both", 1, {u"gw-2"_s}));
        model.applyPending();
        const int far = model.rowOf("far");
        QVERIFY(far >= 0);
        QCOMPARE(model.index(far, OnlineModel::NodeColumn).data().toString(), u"gw-2"_s);
        QCOMPARE(model.index(far, OnlineModel::ConnectionsColumn).data().toString(), u"—"_s);
        QVERIFY(!model.isLocal("far"));
        QCOMPARE(model.index(model.rowOf("both"), OnlineModel::NodeColumn).data().toString(),
            u"gw-1, gw-2"_s);
        QCOMPARE(model.localUidCount(), 2);
        QCOMPARE(model.rowCount(), 3);

        OnlineFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        proxy.setThisNodeOnly(true);
        QCOMPARE(proxy.rowCount(), 2);
    }

    // The detail pane's connections arrive after a round trip; an answer
    // for a uid no longer shown is dropped, and one request at a time flies.
    void connectionsModelAnswersLater()
    {
        ConnectionsModel model(m_source.get());
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setUid("a");
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(m_source->sessionRequests.size(), 1);
        QCOMPARE(m_source->sessionRequests.front().key, QByteArray("a"));
        // Asked again while the first is out: no second request yet.
        model.refresh();
        QCOMPARE(m_source->sessionRequests.size(), 1);
        QVERIFY(FakeGatewaySource::answer(
            &m_source->sessionRequests, QList<SessionInfo> {session(1, "a"), session(2, "a")}));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(
            model.index(0, ConnectionsModel::PeerColumn).data().toString(), u"10.2.0.1:5000"_s);
        // ...and the refresh asked for meanwhile follows.
        QCOMPARE(m_source->sessionRequests.size(), 1);
        QVERIFY(FakeGatewaySource::answer(
            &m_source->sessionRequests, QList<SessionInfo> {session(2, "a")}));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, ConnectionsModel::IdColumn).data().toULongLong(), 2u);

        // A presence change of the shown uid asks again.
        m_source->setPresence(presenceOf("a", 3));
        QCOMPARE(m_source->sessionRequests.size(), 1);
        // The selection moves before the answer: a's rows go at once, and
        // the late answer for a is not shown under b.
        model.setUid("b");
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(m_source->sessionRequests.size(), 2);
        QVERIFY(FakeGatewaySource::answer(&m_source->sessionRequests,
            QList<SessionInfo> {session(1, "a"), session(2, "a"), session(3, "a")}));
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(FakeGatewaySource::answer(
            &m_source->sessionRequests, QList<SessionInfo> {session(9, "b")}));
        QCOMPARE(model.rowCount(), 1);
        model.setUid(QByteArray());
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(m_source->sessionRequests.size(), 0);
    }

    // Events come in batches; the model keeps its ring and its queue bounded
    // whatever the batch size.
    void logModelTakesBatches()
    {
        m_source->recent = messages("early", 0, 3);
        LogModel model(m_source.get(), 50);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QCOMPARE(model.rowCount(), 3);
        QSignalSpy batches(&model, &LogModel::batchInserted);

        Q_EMIT m_source->eventsArrived(messages("u", 0, 30));
        Q_EMIT m_source->eventsArrived(messages("u", 30, 120)); // larger than the ring
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.pending(), 50);
        QCOMPARE(model.dropped(), quint64(100));
        QTRY_COMPARE(batches.count(), 1);
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.event(0).text, QByteArray("100"));
        QCOMPARE(model.event(49).text, QByteArray("149"));
        QCOMPARE(model.dropped(), quint64(103));

        Q_EMIT m_source->eventsArrived(messages("v", 0, 10));
        model.flush();
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.event(49).text, QByteArray("9"));
        QCOMPARE(model.event(0).text, QByteArray("110"));
    }

    // The chart's rate, the counters under it and the status bar come from
    // the source's samples alone.
    void countersDriveChartAndStatus()
    {
        m_source->sample = counters(0, 10);
        StatsSampler sampler(m_source.get());
        m_source->emitSample(counters(2000, 110, 1)); // 101 pushes in 2 s
        QCOMPARE(sampler.size(), 1);
        QCOMPARE(sampler.latest()->pushesPerSecond, 50.5);
        QCOMPARE(sampler.latest()->connections, 3);
        m_source->emitSample(counters(2500, 110, 1));
        QCOMPARE(sampler.latest()->pushesPerSecond, 0.0);
        // A restarted gateway counts from zero again: no negative rate.
        m_source->emitSample(counters(500, 5));
        QCOMPARE(sampler.latest()->pushesPerSecond, 0.0);
        QCOMPARE(sampler.peakPushesPerSecond(), 50.5);

        QWidget host;
        auto *statsCounters = new StatsCounters(m_source.get(), &host);
        auto *clusterLabel = statsCounters->findChild<QLabel *>(u"statsCluster"_s);
        auto *offlineLabel = statsCounters->findChild<QLabel *>(u"statsOffline"_s);
        host.show();
        QVERIFY(statsCounters->isHidden()); // neither cluster nor offline delivery
        CounterSample s = counters(3000, 5);
        s.clusterSent = 12;
        s.offlineStored = 4;
        s.offlineDelivered = 3;
        m_source->offlineState = {true, u"redis"_s, 60000, 10, 100};
        m_source->setCluster(clusterOf(true, 2));
        m_source->emitSample(s);
        QVERIFY(statsCounters->isVisible());
        QVERIFY(clusterLabel->isVisible());
        QVERIFY(clusterLabel->text().startsWith(u"published 12 · received 0"_s));
        QVERIFY(offlineLabel->text().startsWith(u"stored 4 · delivered 3"_s));
        QVERIFY(offlineLabel->toolTip().contains(u"redis"_s));

        ClusterStatus cluster(m_source.get());
        ServerStatusBar status(m_source.get(), &cluster);
        status.refresh();
        QCOMPARE(status.findChild<QLabel *>(u"statusPushes"_s)->text(),
            u"Pushes: 5 ok · 0 fail · 0 queued · 0 error"_s);
        QCOMPARE(status.findChild<QLabel *>(u"statusListening"_s)->text(),
            u"Listening: WebSocket 10.0.0.5:8013 · push 127.0.0.1:5678"_s);
        QCOMPARE(status.findChild<QLabel *>(u"statusCluster"_s)->text(), u"Node gw-1 of 2"_s);
        QVERIFY(status.findChild<QLabel *>(u"statusCluster"_s)
                    ->toolTip()
                    .contains(u"redis://10.0.0.9:6379"_s));
    }

    // Cluster states from what the source says: joining at first, up,
    // down when an up link is lost, off when cluster mode ends.
    void clusterStatusFollowsTheSource()
    {
        ClusterStatus status(m_source.get());
        QCOMPARE(status.state(), ClusterStatus::State::Off);
        QSignalSpy attached(&status, &ClusterStatus::attached);
        status.setJoinGrace(50);
        m_source->setCluster(clusterOf(false, 1));
        QCOMPARE(attached.count(), 1);
        QCOMPARE(status.state(), ClusterStatus::State::Joining);
        QTRY_COMPARE(status.state(), ClusterStatus::State::Down);
        m_source->setCluster(clusterOf(true, 3));
        QCOMPARE(status.state(), ClusterStatus::State::Up);
        QCOMPARE(status.nodeCount(), 3);
        m_source->setCluster(clusterOf(false, 1));
        QCOMPARE(status.state(), ClusterStatus::State::Down);
        m_source->setCluster(ClusterState());
        QCOMPARE(status.state(), ClusterStatus::State::Off);
        QCOMPARE(attached.count(), 1);
    }

    // The whole window on a source that can neither control listeners nor
    // edit settings (as an attached console): those actions are hidden,
    // and presence, events, pushes and kicks go through the source.
    void windowWorksThroughTheSourceAlone()
    {
        m_source->uids.insert("a", presenceOf("a", 2));
        m_source->recent = {message("a", "hello from a")};
        openWindow();

        QVERIFY(!shownInToolBar(u"startAction"_s));
        QVERIFY(!shownInToolBar(u"stopAction"_s));
        QVERIFY(!shownInToolBar(u"settingsAction"_s));
        QVERIFY(shownInToolBar(u"kickAction"_s));
        m_window->startListeners();
        m_window->stopListeners();
        m_window->openSettings();
        QCOMPARE(m_source->starts, 0);
        QCOMPARE(m_source->stops, 0);
        QVERIFY(!m_window->findChild<QDialog *>());
        m_window->reportListenError(u"port 1 busy"_s);
        QVERIFY(!child<QPushButton>(u"bannerRetry"_s)->isVisible());
        QVERIFY(!child<QPushButton>(u"bannerSettings"_s)->isVisible());

        // Where it is attached, in the title; a lost link says so.
        QVERIFY2(m_window->windowTitle().contains(u"https://gw.example:2121"_s),
            qPrintable(m_window->windowTitle()));
        // Connected, the status bar names the gateway and its version.
        QVERIFY(child<QLabel>(u"statusLink"_s)
                    ->text()
                    .contains(u"Attached to https://gw.example:2121"_s));
        QVERIFY(child<QLabel>(u"statusLink"_s)->text().contains(u"9.9.9"_s));
        m_source->setLink(GatewaySource::LinkState::Lost);
        QVERIFY(child<QLabel>(u"statusLink"_s)->isVisible());
        QVERIFY(child<QLabel>(u"statusLink"_s)->text().contains(u"lost"_s));
        QVERIFY(m_window->windowTitle().endsWith(u"disconnected"_s));
        m_source->setLink(GatewaySource::LinkState::Resyncing);
        QVERIFY(child<QLabel>(u"statusLink"_s)->text().contains(u"reading"_s));
        m_source->setLink(GatewaySource::LinkState::Connected);
        QVERIFY(child<QLabel>(u"statusLink"_s)->text().startsWith(u"Attached"_s));
        QVERIFY(!m_window->windowTitle().contains(u"disconnected"_s));

        // Presence and events.
        QCOMPARE(onlineModel()->rowCount(), 1);
        m_source->setPresence(presenceOf("b", 1));
        QTRY_COMPARE(onlineModel()->rowCount(), 2);
        QTRY_VERIFY(
            child<QLabel>(u"onlineCounts"_s)->text().startsWith(u"uids: 2 · connections: 3"_s));
        QVERIFY(child<QLabel>(u"statusOnline"_s)
                    ->text()
                    .contains(u"Online uids: 2 · connections: 3"_s));
        LogModel *log = m_window->logPanel()->model();
        QCOMPARE(log->rowCount(), 1);
        Q_EMIT m_source->eventsArrived({message("b", "one"), message("b", "two")});
        QTRY_COMPARE(log->rowCount(), 3);

        // The detail pane asks the source for the selected uid.
        m_source->answerAtOnce = true;
        m_source->sessions.insert("a", {session(1, "a"), session(2, "a")});
        selectUid(u"a"_s);
        QCOMPARE(child<QTableView>(u"connectionsView"_s)->model()->rowCount(), 2);
        QCOMPARE(child<QLineEdit>(u"pushTarget"_s)->text(), u"a"_s);

        // A push answered later: "sending" first, the result when it comes.
        child<QPlainTextEdit>(u"pushPayload"_s)->setPlainText(u"{\"msg\":\"hi\"}"_s);
        const PushResult sent = m_window->pushPanel()->send();
        QVERIFY(sent.pending);
        QCOMPARE(m_source->pushes.size(), 1);
        QCOMPARE(m_source->pushes.front().key, QByteArray(R"({"uid":"a","msg":"hi"})"));
        QVERIFY2(m_window->pushPanel()->resultText().contains(u"sending"_s),
            qPrintable(m_window->pushPanel()->resultText()));
        QCOMPARE(m_window->pushPanel()->history()->rowCount(), 0);
        PushResult ok;
        ok.status = PushStatus::Ok;
        ok.delivered = 2;
        QVERIFY(FakeGatewaySource::answer(&m_source->pushes, ok));
        QVERIFY2(m_window->pushPanel()->resultText().contains(u"ok: connections reached: 2."_s),
            qPrintable(m_window->pushPanel()->resultText()));
        QCOMPARE(m_window->pushPanel()->history()->rowCount(), 1);

        // Kick: through the source; the message waits for the answer.
        auto *kick = child<QAction>(u"kickAction"_s);
        QVERIFY(kick->isEnabled());
        kick->trigger();
        QCOMPARE(m_source->kicks.size(), 1);
        QCOMPARE(m_source->kicks.front().key, QByteArray("a"));
        QVERIFY(m_window->statusBar()->currentMessage().isEmpty());
        QVERIFY(FakeGatewaySource::answer(&m_source->kicks, KickResult {2, 0, {}}));
        QCOMPARE(
            m_window->statusBar()->currentMessage(), u"Disconnected a (connections closed: 2)"_s);
        // In a cluster: what closed here and how many other nodes were asked.
        kick->trigger();
        QVERIFY(FakeGatewaySource::answer(&m_source->kicks, KickResult {1, 2, {}}));
        QCOMPARE(m_window->statusBar()->currentMessage(),
            u"Disconnected a (connections closed here: 1; other nodes asked to close theirs: 2)"_s);
        kick->trigger();
        QVERIFY(FakeGatewaySource::answer(&m_source->kicks, KickResult {0, 0, {}}));
        QCOMPARE(m_window->statusBar()->currentMessage(), u"Not connected any more: a"_s);
        kick->trigger();
        QVERIFY(FakeGatewaySource::answer(&m_source->kicks, KickResult {0, 0, u"timed out"_s}));
        QCOMPARE(m_window->statusBar()->currentMessage(), u"Could not disconnect a: timed out"_s);

        // The window closes with a push still unanswered: its answer is dropped.
        m_window->pushPanel()->send();
        QCOMPARE(m_source->pushes.size(), 1);
        m_testers.clear();
        m_window.reset();
        QVERIFY(!FakeGatewaySource::answer(&m_source->pushes, ok));
    }

    // A source that can: start, stop and settings are offered; settings
    // only with something to edit.
    void capableSourceShowsControls()
    {
        m_source->controls = true;
        m_source->settings = true;
        openWindow();
        QVERIFY(shownInToolBar(u"startAction"_s));
        QVERIFY(shownInToolBar(u"stopAction"_s));
        QVERIFY(!shownInToolBar(u"settingsAction"_s)); // no settings were given
        QVERIFY(!child<QAction>(u"startAction"_s)->isEnabled());
        child<QAction>(u"stopAction"_s)->trigger();
        QCOMPARE(m_source->stops, 1);
        QVERIFY(m_window->windowTitle().contains(u"not listening"_s));
        QVERIFY(child<QAction>(u"startAction"_s)->isEnabled());
        child<QAction>(u"startAction"_s)->trigger();
        QCOMPARE(m_source->starts, 1);
        QVERIFY(child<QAction>(u"stopAction"_s)->isEnabled());
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestGatewaySource)
#include "tst_gatewaysource.moc"
