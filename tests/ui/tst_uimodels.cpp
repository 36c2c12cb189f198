// The console's models and helpers, each under QAbstractItemModelTester,
// fed by a real gateway on loopback and real QWebSocket clients through the
// in-process source.
#include "ConnectionsModel.h"
#include "EventLog.h"
#include "EventText.h"
#include "LocalGatewaySource.h"
#include "LogExporter.h"
#include "LogFilterProxy.h"
#include "LogModel.h"
#include "OnlineModel.h"
#include "PushComposer.h"
#include "PushHistoryModel.h"
#include "StatsSampler.h"
#include "TestSupport.h"
#include "UiTestMain.h"

#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSortFilterProxyModel>

#include <memory>
#include <vector>

using namespace TestSupport;
using namespace Qt::StringLiterals;

namespace {

Event push(const QByteArray &uid, const QByteArray &text, PushStatus status = PushStatus::Ok)
{
    Event e;
    e.type = Event::Type::Push;
    e.level = Event::Level::Debug;
    e.uid = uid;
    e.text = text;
    e.size = text.size();
    e.status = status;
    e.delivered = status == PushStatus::Ok ? 1 : 0;
    e.peer = QStringLiteral("127.0.0.1:4000");
    return e;
}

Event message(const QByteArray &uid, const QByteArray &text)
{
    Event e;
    e.type = Event::Type::MessageIn;
    e.uid = uid;
    e.text = text;
    e.size = text.size();
    return e;
}

Event closed(const QByteArray &uid, const QString &reason)
{
    Event e;
    e.type = Event::Type::Closed;
    e.uid = uid;
    e.connection = 7;
    Event::reasonFromEnglish(reason, &e.reason, &e.args);
    e.closeCode = 1000;
    e.size = 3;
    return e;
}

// A gateway that never listens: its event log feeds the log model through
// the in-process source.
std::unique_ptr<PushServer> idleServer(int logBuffer)
{
    Config config = loopbackConfig();
    config.logBuffer = logBuffer;
    return std::make_unique<PushServer>(config);
}

QStringList column(const QAbstractItemModel *model, int column, int role = Qt::DisplayRole)
{
    QStringList out;
    for (int r = 0; r < model->rowCount(); ++r)
        out.append(model->index(r, column).data(role).toString());
    return out;
}

} // namespace

class TestUiModels final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyReasonRendersFromItsCode();
    void onlineModelFollowsClients()
    {
        auto server = startServer();
        QVERIFY(server);
        LocalGatewaySource source(server.get());
        OnlineModel model(&source);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(OnlineModel::SortRole);
        proxy.sort(OnlineModel::UidColumn);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);

        WsClient a1(server->wsPort()), a2(server->wsPort()), b(server->wsPort());
        QVERIFY(a1.bind("alice", server.get()));
        QVERIFY(a2.bind("alice", server.get()));
        QVERIFY(b.bind("1001", server.get()));
        // Applied in a batch on the model's short timer.
        QTRY_COMPARE(model.rowCount(), 2);
        QCOMPARE(model.connectionCount(), 3);
        QCOMPARE(column(&proxy, OnlineModel::UidColumn), (QStringList {u"1001"_s, u"alice"_s}));
        const int alice = model.rowOf("alice");
        QCOMPARE(model.index(alice, OnlineModel::ConnectionsColumn).data().toInt(), 2);
        QVERIFY(model.index(alice, OnlineModel::PeersColumn)
                    .data()
                    .toString()
                    .contains(u"127.0.0.1:"_s));

        // A push counts as "out" for the uid once the counters refresh.
        TextClient backend(server->textPort());
        QCOMPARE(backend.request(pushLine("alice", "hi")), QByteArray("ok\n"));
        model.refreshCounters();
        QCOMPARE(model.index(model.rowOf("alice"), OnlineModel::OutColumn).data().toInt(), 2);
        QCOMPARE(model.index(model.rowOf("alice"), OnlineModel::InColumn).data().toInt(), 2);

        // One of alice's tabs closes: the row stays, updated in place.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        a1.socket.close();
        QTRY_COMPARE(model.connectionCount(), 2);
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(!changed.isEmpty());
        b.socket.close();
        QTRY_COMPARE(model.rowCount(), 1);
        QCOMPARE(model.uidAt(0), QByteArray("alice"));
        QCOMPARE(model.rowOf("1001"), -1);
        QCOMPARE(resets.count(), 0);
    }

    // What the log says about pushes in a cluster: which node published
    // one, and "0 here" for a push that went to other nodes only.
    void pushTextsInACluster()
    {
        Event e = push("u1", "{}");
        e.source = PushSource::Cluster;
        e.peer = u"node:gw-b"_s;
        QCOMPARE(EventText::origin(e), u"node gw-b"_s);
        QCOMPARE(EventText::result(e), u"ok (delivered: 1)"_s);
        e.delivered = 0;
        QCOMPARE(EventText::result(e), u"ok (delivered: 0 here)"_s);
        e.status = PushStatus::Queued;
        QCOMPARE(EventText::result(e), u"queued"_s);
        e.source = PushSource::Console;
        QCOMPARE(EventText::origin(e), u"console"_s);
    }

    void onlineModelManyClientsStayConsistent()
    {
        auto server = startServer();
        QVERIFY(server);
        LocalGatewaySource source(server.get());
        OnlineModel model(&source);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        std::vector<std::unique_ptr<WsClient>> clients;
        for (int i = 0; i < 60; ++i) {
            clients.push_back(std::make_unique<WsClient>(server->wsPort()));
            QVERIFY(clients.back()->waitConnected());
            clients.back()->socket.sendTextMessage(QString::number(i % 40));
        }
        QTRY_COMPARE(server->registry()->connectionCount(), 60);
        QTRY_COMPARE(model.rowCount(), 40);
        QTRY_COMPARE(model.connectionCount(), 60);
        // Every other uid goes offline at once: removals in several runs.
        for (int i = 0; i < 60; ++i) {
            if ((i % 40) % 2 == 0)
                clients[size_t(i)]->socket.close();
        }
        QTRY_COMPARE(model.rowCount(), 20);
        for (int r = 0; r < model.rowCount(); ++r) {
            const QByteArray uid = model.uidAt(r);
            QCOMPARE(model.rowOf(uid), r);
            QCOMPARE(uid.toInt() % 2, 1);
        }
        QCOMPARE(model.connectionCount(), server->registry()->connectionCount());
    }

    void connectionsModelShowsOneUid()
    {
        auto server = startServer();
        QVERIFY(server);
        LocalGatewaySource source(server.get());
        ConnectionsModel model(&source);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        WsClient a1(server->wsPort()), a2(server->wsPort()), b(server->wsPort());
        QVERIFY(a1.bind("a", server.get()));
        QVERIFY(b.bind("b", server.get()));
        model.setUid("a");
        QCOMPARE(model.rowCount(), 1);
        QVERIFY(a2.bind("a", server.get()));
        QTRY_COMPARE(model.rowCount(), 2);
        QVERIFY(model.index(0, ConnectionsModel::PeerColumn)
                    .data()
                    .toString()
                    .startsWith(u"127.0.0.1:"_s));
        a1.socket.close();
        QTRY_COMPARE(model.rowCount(), 1);
        model.setUid("b");
        QCOMPARE(model.rowCount(), 1);
        model.setUid(QByteArray());
        QCOMPARE(model.rowCount(), 0);
    }

    void logModelIsBoundedAndBatched()
    {
        auto server = idleServer(100);
        EventLog &log = *server->eventLog();
        LocalGatewaySource source(server.get());
        for (int i = 0; i < 3; ++i)
            log.append(message("early", QByteArray::number(i)));
        LogModel model(&source, 50);
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QCOMPARE(model.rowCount(), 3); // what happened before the window opened

        QSignalSpy batches(&model, &LogModel::batchInserted);
        for (int i = 0; i < 500; ++i)
            log.append(push("u" + QByteArray::number(i % 7), "payload " + QByteArray::number(i)));
        // Nothing inserted yet: the queue waits for the timer, and never
        // holds more than the ring could show.
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.pending(), 50);
        QTRY_COMPARE(batches.count(), 1);
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.event(0).text, QByteArray("payload 450"));
        QCOMPARE(model.event(49).text, QByteArray("payload 499"));
        QCOMPARE(model.dropped(), quint64(453));

        // Ring wrap-around over many small batches keeps the order.
        for (int round = 0; round < 7; ++round) {
            for (int i = 0; i < 13; ++i)
                log.append(message("w", QByteArray::number(round * 13 + i)));
            model.flush();
            QCOMPARE(model.rowCount(), 50);
        }
        QCOMPARE(model.event(49).text, QByteArray("90"));
        QCOMPARE(model.event(0).text, QByteArray("41"));
        QCOMPARE(model.index(49, LogModel::DirectionColumn).data().toString(), u"in"_s);

        model.clear();
        QCOMPARE(model.rowCount(), 0);
        log.append(push("x", "after clear"));
        model.flush();
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, LogModel::ResultColumn).data().toString(), u"ok (delivered: 1)"_s);
    }

    void logFilterByDirectionUidAndText()
    {
        auto server = idleServer(100);
        EventLog &log = *server->eventLog();
        LocalGatewaySource source(server.get());
        LogModel model(&source, 100);
        LogFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        log.append(push("1001", "{\"uid\":\"1001\",\"msg\":\"lock closed\"}"));
        log.append(push("1002", "{\"uid\":\"1002\",\"msg\":\"hello\"}", PushStatus::Fail));
        log.append(message("1001", "ping from page"));
        log.append(closed("1002", u"disconnected by operator"_s));
        model.flush();
        QCOMPARE(proxy.rowCount(), 4);

        proxy.setDirectionShown(Event::Direction::System, false);
        QCOMPARE(proxy.rowCount(), 3);
        proxy.setDirectionShown(Event::Direction::In, false);
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setUidFilter(u" 1001 "_s);
        QCOMPARE(proxy.rowCount(), 1);
        proxy.setUidFilter(QString());
        proxy.setTextFilter(u"LOCK"_s);
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, LogModel::UidColumn).data().toString(), u"1001"_s);
        proxy.setTextFilter(u"fail"_s);
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, LogModel::UidColumn).data().toString(), u"1002"_s);

        // New rows go through the same filter as they arrive.
        log.append(push("1003", "lock again"));
        log.append(push("1004", "other"));
        proxy.setTextFilter(u"lock"_s);
        model.flush();
        QCOMPARE(column(&proxy, LogModel::UidColumn), (QStringList {u"1001"_s, u"1003"_s}));

        proxy.setTextFilter(QString());
        proxy.setDirectionShown(Event::Direction::In, true);
        proxy.setDirectionShown(Event::Direction::System, true);
        QCOMPARE(proxy.rowCount(), 6);
        // The operator's reason reads as a sentence in the text column.
        QVERIFY(proxy.index(3, LogModel::TextColumn)
                    .data()
                    .toString()
                    .contains(u"disconnected by operator"_s));
    }

    void exportWritesVisibleRows()
    {
        auto server = idleServer(100);
        EventLog &log = *server->eventLog();
        LocalGatewaySource source(server.get());
        LogModel model(&source, 100);
        LogFilterProxy proxy;
        proxy.setSourceModel(&model);
        log.append(push("1001", "{\"uid\":\"1001\",\"msg\":\"a, \\\"quoted\\\" one\"}"));
        log.append(message("1002", "line1\nline2"));
        log.append(closed("1001", u"client closed"_s));
        model.flush();
        proxy.setDirectionShown(Event::Direction::System, false);

        QBuffer csv;
        csv.open(QIODevice::WriteOnly);
        QCOMPARE(LogExporter::write(&csv, &proxy, LogExporter::Format::Csv), 2);
        const QList<QByteArray> lines = csv.data().split('\n');
        QCOMPARE(lines.first(),
            QByteArray("time,direction,event,uid,from,size,result,delivered,code,text\r"));
        QVERIFY(lines.at(1).contains(",out,push,1001,127.0.0.1:4000,"));
        QVERIFY(lines.at(1).contains("\"{\"\"uid\"\"")); // quotes doubled inside a quoted field
        QVERIFY(csv.data().contains("\"line1\nline2\""));

        QBuffer jsonl;
        jsonl.open(QIODevice::WriteOnly);
        QCOMPARE(LogExporter::write(&jsonl, &proxy, LogExporter::Format::JsonLines), 2);
        const QList<QByteArray> objects = jsonl.data().trimmed().split('\n');
        QCOMPARE(objects.size(), 2);
        const QJsonObject first = QJsonDocument::fromJson(objects.at(0)).object();
        QCOMPARE(first.value(u"direction"_s).toString(), u"out"_s);
        QCOMPARE(first.value(u"result"_s).toString(), u"ok"_s);
        QCOMPARE(first.value(u"uid"_s).toString(), u"1001"_s);
        QCOMPARE(first.value(u"text"_s).toString(),
            u"{\"uid\":\"1001\",\"msg\":\"a, \\\"quoted\\\" one\"}"_s);
        QCOMPARE(QJsonDocument::fromJson(objects.at(1)).object().value(u"text"_s).toString(),
            u"line1\nline2"_s);

        QCOMPARE(LogExporter::formatForFileName(u"x.jsonl"_s), LogExporter::Format::JsonLines);
        QCOMPARE(LogExporter::formatForFileName(u"x.CSV"_s), LogExporter::Format::Csv);
    }

    void composePushLine_data()
    {
        QTest::addColumn<QString>("targets");
        QTest::addColumn<bool>("broadcast");
        QTest::addColumn<QString>("payload");
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<bool>("error");

        QTest::newRow("one uid, uid put first")
            << u"1001"_s << false << u"{\n  \"type\": \"lock\",\n  \"msg\": \"a b\"\n}"_s
            << QByteArray("{\"uid\":\"1001\",\"type\":\"lock\",\"msg\":\"a b\"}") << false;
        QTest::newRow("several uids")
            << u"1001, 1002;a@b 1001"_s << false << u"{\"m\":1}"_s
            << QByteArray("{\"uid\":[\"1001\",\"1002\",\"a@b\"],\"m\":1}") << false;
        QTest::newRow("broadcast")
            << u"ignored"_s << true << u"{}"_s << QByteArray("{\"uid\":\"*\"}") << false;
        QTest::newRow("uid replaced where it stands")
            << u"7"_s << false << u"{\"a\":{\"uid\":1},\"uid\":[1,2],\"z\":\"uid\"}"_s
            << QByteArray("{\"a\":{\"uid\":1},\"uid\":\"7\",\"z\":\"uid\"}") << false;
        QTest::newRow("payload names its own uid")
            << u""_s << false << u"{ \"uid\" : 1001 , \"msg\" : \"x\" }"_s
            << QByteArray("{\"uid\":1001,\"msg\":\"x\"}") << false;
        QTest::newRow("spaces inside strings kept")
            << u"u"_s << false << u"{\"msg\":\"  two  spaces \\\" quote\"}"_s
            << QByteArray("{\"uid\":\"u\",\"msg\":\"  two  spaces \\\" quote\"}") << false;
        QTest::newRow("chinese text kept as written")
            << u"1001"_s << false << u"{\"msg\":\"关锁成功\"}"_s
            << u"{\"uid\":\"1001\",\"msg\":\"关锁成功\"}"_s.toUtf8() << false;
        QTest::newRow("no target") << u""_s << false << u"{\"m\":1}"_s << QByteArray() << true;
        QTest::newRow("not json") << u"1"_s << false << u"{\"m\":"_s << QByteArray() << true;
        QTest::newRow("not an object") << u"1"_s << false << u"[1,2]"_s << QByteArray() << true;
        QTest::newRow("empty") << u"1"_s << false << u"  "_s << QByteArray() << true;
    }

    void composePushLine()
    {
        QFETCH(QString, targets);
        QFETCH(bool, broadcast);
        QFETCH(QString, payload);
        QFETCH(QByteArray, line);
        QFETCH(bool, error);
        const PushComposer::Result r = PushComposer::compose(targets, broadcast, payload);
        QCOMPARE(!r.isValid(), error);
        QCOMPARE(r.line, line);
        if (!error)
            QVERIFY(!r.line.contains('\n'));
    }

    void payloadErrorsSayWhere()
    {
        const PushComposer::Check c = PushComposer::check(u"{\n  \"a\": 1,\n  \"b\" 2\n}"_s);
        QVERIFY(!c.error.isEmpty());
        QCOMPARE(c.line, 3);
        QVERIFY(c.error.contains(u"line 3"_s));
    }

    void pushHistoryKeepsRecentFirst()
    {
        PushHistoryModel model;
        QAbstractItemModelTester tester(
            &model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setCapacity(3);
        const auto entry = [](const QString &targets, const QString &payload) {
            PushHistoryModel::Entry e;
            e.targets = targets;
            e.payload = payload;
            e.time = 1000;
            e.ok = true;
            return e;
        };
        model.add(entry(u"1"_s, u"{\"a\":1}"_s));
        model.add(entry(u"2"_s, u"{\"a\":2}"_s));
        model.add(entry(u"3"_s, u"{\"a\":3}"_s));
        model.add(entry(u"1"_s, u"{\"a\":1}"_s)); // again: moves to the top
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.entry(0).targets, u"1"_s);
        QCOMPARE(model.entry(2).targets, u"2"_s);
        model.add(entry(u"4"_s, u"{}"_s));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.entry(0).targets, u"4"_s);
        QCOMPARE(model.entry(2).targets, u"3"_s);

        PushHistoryModel copy;
        QAbstractItemModelTester copyTester(
            &copy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        copy.fromVariant(model.toVariant());
        QCOMPARE(copy.rowCount(), 3);
        QCOMPARE(copy.entry(1).payload, u"{\"a\":1}"_s);
    }

    void statsSamplerCountsPushesPerSecond()
    {
        auto server = startServer();
        QVERIFY(server);
        LocalGatewaySource source(server.get());
        source.setSampleInterval(3600 * 1000); // only the samples taken here
        StatsSampler sampler(&source);
        QList<CounterSample> samples;
        connect(&source, &GatewaySource::countersSampled, this,
            [&](const CounterSample &c) { samples.append(c); });
        WsClient client(server->wsPort());
        QVERIFY(client.bind("s", server.get()));
        source.sampleCounters();
        QCOMPARE(samples.size(), 1);
        TextClient backend(server->textPort());
        for (int i = 0; i < 30; ++i)
            backend.send(pushLine("s", "x") + '\n');
        QCOMPARE(backend.readLines(30).count("ok\n"), 30);
        // A rate needs time: at least 100 ms on the source's steady clock.
        WAIT_VERIFY(source.counters().steadyMs >= samples.front().steadyMs + 100);
        source.sampleCounters();
        QCOMPARE(samples.size(), 2);
        QCOMPARE(sampler.size(), 2);
        QCOMPARE(sampler.latest()->connections, 1);
        // 30 pushes over the span the two samples measured, per second.
        QCOMPARE(samples[1].totalPushes() - samples[0].totalPushes(), quint64(30));
        const double span = double(samples[1].steadyMs - samples[0].steadyMs);
        QCOMPARE(sampler.latest()->pushesPerSecond, 30 * 1000.0 / span);
        QCOMPARE(sampler.peakConnections(), 1);
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestUiModels)
void TestUiModels::everyReasonRendersFromItsCode()
{
    // The console renders the reason code and its arguments with tr(), never
    // the gateway's English: a marker in detail must not show.
    const QString marker = QStringLiteral("RAW-ENGLISH");
    for (Event::Reason r : Event::allReasons()) {
        const char *code = Event::reasonCode(r);
        QStringList args;
        int n = 0;
        for (const QString &name : Event::reasonArgNames(r)) {
            ++n;
            if (name.startsWith(QLatin1Char('@')))
                args << QStringLiteral("heartbeat_timeout") << QStringLiteral("75");
            else
                args << QStringLiteral("A%1").arg(n);
        }
        for (Event::Type type :
            {Event::Type::Listening, Event::Type::Stopped, Event::Type::Connected,
                Event::Type::Rejected, Event::Type::Closed, Event::Type::Push, Event::Type::Error,
                Event::Type::Cluster, Event::Type::Reloaded}) {
            Event e;
            e.type = type;
            e.connection = 42;
            e.status = PushStatus::Error;
            e.reason = r;
            e.args = args;
            e.detail = marker;
            const QString text =
                type == Event::Type::Push ? EventText::result(e) : EventText::text(e);
            QVERIFY2(!text.trimmed().isEmpty(), code);
            QVERIFY2(!text.contains(marker), code);
            QVERIFY2(!text.contains(QLatin1String("%1")), code);
        }
        // Every argument shows (a nested reason's through its own text).
        const QString text = EventText::reason(r, args);
        for (int i = 1; i <= n; ++i) {
            if (Event::reasonArgNames(r).at(i - 1).startsWith(QLatin1Char('@')))
                QVERIFY2(text.contains(QLatin1String("75")), code);
            else if (r != Event::Reason::Listening || (i != 6 && i != 9 && i != 13)) // flags
                QVERIFY2(text.contains(args.at(i - 1)), qPrintable(QLatin1String(code) + text));
        }
    }
    // A reason from a newer gateway: as it rendered it.
    Event future;
    future.type = Event::Type::Closed;
    future.reason = Event::Reason::Unknown;
    future.detail = QStringLiteral("flux capacitor");
    QVERIFY(EventText::text(future).contains(QLatin1String("flux capacitor")));
}

#include "tst_uimodels.moc"
