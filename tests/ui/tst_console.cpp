// The whole window against a real gateway: real QWebSocket clients bind,
// get pushes from the push panel, get kicked; a busy port is reported in
// the window; a flood of pushes leaves the log bounded and the loop alive.
#include "LocalGatewaySource.h"
#include "LogModel.h"
#include "LogPanel.h"
#include "MainWindow.h"
#include "MessageBanner.h"
#include "OnlineModel.h"
#include "PushHistoryModel.h"
#include "PushPanel.h"
#include "SettingsDialog.h"
#include "TestSupport.h"
#include "UiTestMain.h"

#include <QAbstractItemModelTester>
#include <QAbstractProxyModel>
#include <QAction>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTimer>

#include <memory>

using namespace TestSupport;
using namespace Qt::StringLiterals;

class TestConsole final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<PushServer> m_server;
    std::unique_ptr<LocalGatewaySource> m_source;
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
    QAbstractItemModel *logModel() const { return child<QTableView>(u"logView"_s)->model(); }

    // Rows of the log (as the view shows them) whose text column contains text.
    int logRowsContaining(const QString &text, int column = LogModel::TextColumn) const
    {
        int n = 0;
        const QAbstractItemModel *m = logModel();
        for (int r = 0; r < m->rowCount(); ++r) {
            if (m->index(r, column).data(LogModel::FullTextRole).toString().contains(text)
                || m->index(r, column).data().toString().contains(text))
                ++n;
        }
        return n;
    }

    void openWindow(PushServer *server)
    {
        m_source = std::make_unique<LocalGatewaySource>(server);
        m_window = std::make_unique<MainWindow>(m_source.get(), m_source.get());
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
        m_testers = testWindowModels(m_window.get());
    }

    void selectUid(const QString &uid)
    {
        QTableView *view = child<QTableView>(u"onlineView"_s);
        for (int r = 0; r < view->model()->rowCount(); ++r) {
            if (view->model()->index(r, 0).data().toString() == uid) {
                view->selectRow(r);
                return;
            }
        }
        QFAIL("uid not in the online view");
    }

private Q_SLOTS:
    void init()
    {
        QSettings().clear(); // no history or layout from the test before

        m_server = startServer();
        QVERIFY(m_server);
        openWindow(m_server.get());
    }

    void cleanup()
    {
        m_testers.clear();
        m_window.reset();
        m_source.reset();
        m_server.reset();
    }

    void clientAppearsAndDisappears()
    {
        QCOMPARE(onlineModel()->rowCount(), 0);
        WsClient client(m_server->wsPort());
        QVERIFY(client.bind("1001", m_server.get()));
        QTRY_COMPARE(onlineModel()->rowCount(), 1);
        QCOMPARE(onlineModel()->index(0, 0).data().toString(), u"1001"_s);
        QCOMPARE(onlineModel()->index(0, OnlineModel::ConnectionsColumn).data().toInt(), 1);
        QTRY_VERIFY(
            child<QLabel>(u"onlineCounts"_s)->text().startsWith(u"uids: 1 · connections: 1"_s));
        QVERIFY(child<QLabel>(u"statusOnline"_s)
                    ->text()
                    .contains(u"Online uids: 1 · connections: 1"_s));
        QTRY_COMPARE(logRowsContaining(u"bound to uid 1001"_s), 1);

        client.socket.close();
        QTRY_COMPARE(onlineModel()->rowCount(), 0);
        QTRY_COMPARE(logRowsContaining(u"closed after"_s), 1);
        QTRY_VERIFY(child<QLabel>(u"onlineCounts"_s)->text().startsWith(u"uids: 0"_s));
    }

    void pushPanelSendReachesClient()
    {
        WsClient client(m_server->wsPort());
        QVERIFY(client.bind("1001", m_server.get()));
        QTRY_COMPARE(onlineModel()->rowCount(), 1);
        // Selecting the row fills the target.
        selectUid(u"1001"_s);
        auto *target = child<QLineEdit>(u"pushTarget"_s);
        QCOMPARE(target->text(), u"1001"_s);

        auto *payload = child<QPlainTextEdit>(u"pushPayload"_s);
        payload->setPlainText(u"{\n  \"msg\": \"lock closed\"\n}"_s);
        auto *send = child<QPushButton>(u"pushSend"_s);
        QTRY_VERIFY(send->isEnabled());
        QTest::mouseClick(send, Qt::LeftButton);
        QVERIFY(client.waitForMessages(1));
        QCOMPARE(client.messages.front(), uR"({"uid":"1001","msg":"lock closed"})"_s);
        QVERIFY(child<QLabel>(u"pushResult"_s)->text().contains(u"ok: connections reached: 1"_s));

        // In the log, as a console push with its result.
        QTRY_COMPARE(logRowsContaining(u"lock closed"_s), 1);
        const QAbstractItemModel *log = logModel();
        const int last = log->rowCount() - 1;
        QCOMPARE(log->index(last, LogModel::OriginColumn).data().toString(), u"console"_s);
        QCOMPARE(
            log->index(last, LogModel::ResultColumn).data().toString(), u"ok (delivered: 1)"_s);
        QCOMPARE(log->index(last, LogModel::DirectionColumn).data().toString(), u"out"_s);
        QCOMPARE(m_server->metrics().pushes[int(PushSource::Console)][int(PushStatus::Ok)], 1u);

        // Ctrl+Enter sends too; the history remembers, and resends.
        payload->setFocus();
        payload->setPlainText(u"{\"msg\":\"second\"}"_s);
        QTest::keyClick(payload, Qt::Key_Return, Qt::ControlModifier);
        QVERIFY(client.waitForMessages(2));
        QCOMPARE(client.messages.at(1), uR"({"uid":"1001","msg":"second"})"_s);
        // Sent once: the probe comes right after it.
        QVERIFY(probe(m_server->textPort(), client, "1001"));
        QCOMPARE(client.messages.size(), 3);
        client.messages.removeLast();
        PushHistoryModel *history = m_window->pushPanel()->history();
        QCOMPARE(history->rowCount(), 2);
        auto *historyView = child<QAbstractItemView>(u"pushHistory"_s);
        historyView->setCurrentIndex(history->index(1));
        QTest::mouseClick(child<QPushButton>(u"pushResend"_s), Qt::LeftButton);
        QVERIFY(client.waitForMessages(3));
        QCOMPARE(client.messages.at(2), client.messages.at(0));

        // An offline target answers "fail", inline and in the log.
        target->setText(u"nobody"_s);
        QCOMPARE(m_window->pushPanel()->send().status, PushStatus::Fail);
        QVERIFY(child<QLabel>(u"pushResult"_s)->text().contains(u"fail"_s));
        QTRY_VERIFY(logRowsContaining(u"fail: not online"_s, LogModel::ResultColumn) >= 1);
        QCOMPARE(client.messages.size(), 3);
    }

    void kickDisconnectsSelectedUid()
    {
        WsClient keep(m_server->wsPort()), kicked(m_server->wsPort()), kicked2(m_server->wsPort());
        QVERIFY(keep.bind("keep", m_server.get()));
        QVERIFY(kicked.bind("kickme", m_server.get()));
        QVERIFY(kicked2.bind("kickme", m_server.get()));
        QTRY_COMPARE(onlineModel()->rowCount(), 2);
        selectUid(u"kickme"_s);
        auto *kick = child<QAction>(u"kickAction"_s);
        QVERIFY(kick->isEnabled());
        kick->trigger();
        QVERIFY(kicked.waitForDisconnected());
        QVERIFY(kicked2.waitForDisconnected());
        QTRY_COMPARE(onlineModel()->rowCount(), 1);
        QCOMPARE(onlineModel()->index(0, 0).data().toString(), u"keep"_s);
        // Still served, and no close came before the probe.
        QVERIFY(probe(m_server->textPort(), keep, "keep"));
        QVERIFY(!keep.disconnected);
        QTRY_COMPARE(logRowsContaining(u"disconnected by operator"_s), 2);
    }

    void listenErrorIsShownInTheWindow()
    {
        cleanup();
        QTcpServer busy;
        QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
        Config config = loopbackConfig();
        config.wsPort = busy.serverPort();
        PushServer server(config);
        QString error;
        QVERIFY(!server.start(&error));
        openWindow(&server);
        m_window->reportListenError(error);
        const QString shown = m_window->banner()->text();
        QVERIFY2(shown.contains(QString::number(busy.serverPort())), qPrintable(shown));
        QVERIFY(m_window->windowTitle().contains(u"not listening"_s));
        QVERIFY(child<QLabel>(u"statusListening"_s)->text().contains(u"Not listening"_s));

        // Retry fails the same way while the port is taken...
        QTest::mouseClick(child<QPushButton>(u"bannerRetry"_s), Qt::LeftButton);
        QVERIFY(!server.isListening());
        QVERIFY(!m_window->banner()->text().isEmpty());

        // ...and the settings fix it: any free port.
        QTest::mouseClick(child<QPushButton>(u"bannerSettings"_s), Qt::LeftButton);
        auto *dialog = m_window->findChild<SettingsDialog *>();
        QVERIFY(dialog);
        dialog->findChild<QSpinBox *>(u"wsPort"_s)->setValue(0);
        dialog->accept();
        QVERIFY(server.isListening());
        QVERIFY(m_window->banner()->text().isEmpty());
        QVERIFY(m_window->windowTitle().contains(QString::number(server.wsPort())));
        WsClient client(server.wsPort());
        QVERIFY(client.bind("late", &server));
        QTRY_COMPARE(onlineModel()->rowCount(), 1);
        m_testers.clear();
        m_window.reset();
        m_source.reset();
    }

    void settingsReportBusyPortAndRestore()
    {
        const quint16 oldWs = m_server->wsPort();
        QTcpServer busy;
        QVERIFY(busy.listen(QHostAddress::LocalHost, 0));
        WsClient client(m_server->wsPort());
        QVERIFY(client.bind("stays", m_server.get()));

        child<QAction>(u"settingsAction"_s)->trigger();
        auto *dialog = m_window->findChild<SettingsDialog *>();
        QVERIFY(dialog);
        QTRY_VERIFY(dialog->isVisible());
        dialog->findChild<QSpinBox *>(u"textPort"_s)->setValue(busy.serverPort());
        dialog->findChild<QSpinBox *>(u"heartbeat"_s)->setValue(30);
        dialog->accept();
        // Still open, with the reason; the window says it too.
        QVERIFY(dialog->isVisible());
        QVERIFY2(dialog->error().contains(QString::number(busy.serverPort())),
            qPrintable(dialog->error()));
        QVERIFY(!m_server->isListening());
        QVERIFY(m_window->banner()->text().contains(QString::number(busy.serverPort())));
        // Connected clients stay: a push still reaches this one, and no close
        // came before it.
        QCOMPARE(m_server->router()->push(pushLine("stays", "during"), PushSource::Console).status,
            PushStatus::Ok);
        QVERIFY(client.waitForMessages(1));
        QVERIFY(!client.disconnected);

        // Cancel goes back to what worked.
        dialog->reject();
        QTRY_VERIFY(!m_window->findChild<SettingsDialog *>());
        QTRY_VERIFY(m_server->isListening());
        QCOMPARE(m_server->config().heartbeatMs, 55000);
        QVERIFY(m_window->banner()->text().isEmpty());
        QVERIFY(m_server->wsPort() != 0);
        Q_UNUSED(oldWs);

        // A good change applies: a new heartbeat and the listeners restart.
        child<QAction>(u"settingsAction"_s)->trigger();
        dialog = m_window->findChild<SettingsDialog *>();
        QTRY_VERIFY(dialog && dialog->isVisible());
        dialog->findChild<QSpinBox *>(u"heartbeat"_s)->setValue(30);
        dialog->accept();
        QTRY_VERIFY(!m_window->findChild<SettingsDialog *>());
        QVERIFY(m_server->isListening());
        QCOMPARE(m_server->config().heartbeatMs, 30000);
        TextClient backend(m_server->textPort());
        QCOMPARE(backend.request(pushLine("stays", "after restart")), QByteArray("ok\n"));
        QVERIFY(client.waitForMessages(2));
        QVERIFY(!client.disconnected);
    }

    // Offline delivery on a single node: a push to an absent uid is
    // queued (said in the panel, the log, the status bar and the counters
    // under the chart) and arrives when the uid binds. No cluster here: no
    // scope switch, no node column.
    void offlineDeliveryShowsQueued()
    {
        cleanup();
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        Config config = loopbackConfig();
        config.offlineTtlMs = 60000;
        config.offlineDb = dir.filePath(u"offline.sqlite"_s);
        m_server = startServer(config);
        QVERIFY(m_server);
        openWindow(m_server.get());
        QVERIFY(!child<QWidget>(u"onlineScope"_s)->isVisible());
        QVERIFY(child<QTableView>(u"onlineView"_s)->isColumnHidden(OnlineModel::NodeColumn));
        QVERIFY(!child<QLabel>(u"statusCluster"_s)->isVisible());
        QVERIFY(!child<QLabel>(u"statsCluster"_s)->isVisible());
        QVERIFY(child<QLabel>(u"statsOffline"_s)->isVisible());

        child<QLineEdit>(u"pushTarget"_s)->setText(u"later"_s);
        child<QPlainTextEdit>(u"pushPayload"_s)->setPlainText(u"{\"msg\":\"while away\"}"_s);
        const PushResult r = m_window->pushPanel()->send();
        QCOMPARE(r.status, PushStatus::Queued);
        QCOMPARE(r.stored, 1);
        QVERIFY2(m_window->pushPanel()->resultText().contains(
                     u"queued: the uid is not online; stored and delivered when it binds."_s),
            qPrintable(m_window->pushPanel()->resultText()));
        QTRY_COMPARE(logRowsContaining(u"queued"_s, LogModel::ResultColumn), 1);
        QTRY_VERIFY(child<QLabel>(u"statusPushes"_s)->text().contains(u"1 queued"_s));
        QTRY_VERIFY(
            child<QLabel>(u"statsOffline"_s)->text().startsWith(u"stored 1 · delivered 0"_s));

        WsClient client(m_server->wsPort());
        QVERIFY(client.bind("later", m_server.get()));
        QVERIFY(client.waitForMessages(1));
        QCOMPARE(client.messages.front(), uR"({"uid":"later","msg":"while away"})"_s);
        QTRY_VERIFY(
            child<QLabel>(u"statsOffline"_s)->text().startsWith(u"stored 1 · delivered 1"_s));
    }

    void floodKeepsLogBoundedAndWindowResponsive()
    {
        constexpr int Pushes = 20000;
        // The model testers check every row of every batch, which would
        // measure them rather than the window; the other tests run them.
        m_testers.clear();
        WsClient client(m_server->wsPort());
        QVERIFY(client.bind("flood", m_server.get()));
        LogModel *log = m_window->logPanel()->model();
        QCOMPARE(log->capacity(), 10000);

        // A 10 ms timer: the longest gap between its ticks is the longest
        // time the window could not have repainted or taken input.
        QElapsedTimer clock;
        qint64 last = 0;
        qint64 maxGap = 0;
        int maxRows = 0;
        int maxPending = 0;
        int ticks = 0;
        QTimer probe;
        probe.setInterval(10);
        connect(&probe, &QTimer::timeout, this, [&] {
            ++ticks;
            const qint64 now = clock.elapsed();
            maxGap = qMax(maxGap, now - last);
            last = now;
            maxRows = qMax(maxRows, log->rowCount());
            maxPending = qMax(maxPending, log->pending());
        });

        QByteArray burst;
        for (int i = 0; i < Pushes; ++i)
            burst += "{\"uid\":\"flood\",\"seq\":" + QByteArray::number(i) + "}\n";
        TextClient backend(m_server->textPort());
        clock.start();
        probe.start();
        backend.send(burst);
        const QList<QByteArray> replies = backend.readLines(Pushes, 60000);
        QCOMPARE(replies.size(), Pushes);
        QVERIFY(client.waitForMessages(Pushes, 60000));
        const qint64 deliveredMs = clock.elapsed();
        QTRY_COMPARE(log->pending(), 0);
        // The window keeps ticking after the flood, as during it.
        const int ticksAfter = ticks;
        WAIT_VERIFY(ticks >= ticksAfter + 10);
        probe.stop();

        QCOMPARE(replies.count("ok\n"), Pushes);
        QCOMPARE(client.messages.last(), uR"({"uid":"flood","seq":19999})"_s);
        QCOMPARE(log->rowCount(), log->capacity());
        QVERIFY(maxRows <= log->capacity());
        QVERIFY(maxPending <= log->capacity());
        QCOMPARE(
            log->event(log->rowCount() - 1).text, QByteArray(R"({"uid":"flood","seq":19999})"));
        qInfo("flood: %d pushes delivered in %lld ms (%.0f/s); longest event-loop stall %lld ms;"
              " log rows %d (cap %d), dropped %llu",
            Pushes, deliveredMs, Pushes * 1000.0 / qMax<qint64>(1, deliveredMs), maxGap,
            log->rowCount(), log->capacity(), log->dropped());
        // Generous: the server, the client and the window share this thread.
        QVERIFY2(maxGap < 1000, qPrintable(u"stall of %1 ms"_s.arg(maxGap)));
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestConsole)
#include "tst_console.moc"
