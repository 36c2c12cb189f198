// The admin stream's messages read by the console (AdminStreamParser,
// EventJson): every message of docs/admin-stream.md as the doc shows it,
// then malformed input of every kind, which must give an error with a
// reason and never a crash or a half-filled message.
#include "AdminStreamParser.h"
#include "UiTestMain.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace {
AdminMessage parsed(const QByteArray &frame)
{
    AdminMessage m;
    QString error;
    if (!AdminStreamParser::parse(frame, &m, &error)) {
        qWarning("unexpected error: %s", qPrintable(error));
        return AdminMessage();
    }
    return m;
}
} // namespace

class TestAdminStream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hello()
    {
        const AdminMessage m = parsed(
            "{\"t\":\"hello\",\"protocol\":1,\"version\":\"1.0.0\",\"node\":\"gw-a\",\"startedAt\":"
            "\"2026-12-02T08:00:01.004Z\",\"listening\":true,\"listeners\":{\"ws\":\"0.0.0.0:"
            "8013\",\"text\":\"127.0.0.1:5678\",\"http\":\"10.0.0.5:2121\"},\"cluster\":{"
            "\"enabled\":true,\"up\":true,\"redis\":\"redis://10.0.0.9:6379/"
            "0\",\"nodes\":[{\"id\":\"gw-a\",\"uids\":12,\"self\":true},{\"id\":\"gw-b\",\"uids\":"
            "7}]},\"offline\":{\"enabled\":true,\"store\":\"redis\",\"ttlMs\":3600000,"
            "\"maxPerUid\":100,\"maxTotal\":100000},\"eventCapacity\":10000,\"future\":{\"x\":1}}");
        QCOMPARE(m.kind, AdminMessage::Kind::Hello);
        const AdminGatewayState &g = m.gateway;
        QCOMPARE(g.protocol, 1);
        QCOMPARE(g.version, u"1.0.0"_s);
        QCOMPARE(g.node, u"gw-a"_s);
        QCOMPARE(g.startedAt, QDateTime(QDate(2026, 12, 2), QTime(8, 0, 1, 4), Qt::UTC));
        QVERIFY(g.hasListening && g.listening);
        QCOMPARE(g.ws, u"0.0.0.0:8013"_s);
        QCOMPARE(g.text, u"127.0.0.1:5678"_s);
        QCOMPARE(g.http, u"10.0.0.5:2121"_s);
        QVERIFY(g.cluster.enabled && g.cluster.up);
        QCOMPARE(g.cluster.redis, u"redis://10.0.0.9:6379/0"_s);
        QCOMPARE(g.cluster.nodes.size(), 2);
        QCOMPARE(g.cluster.nodes.at(1).id, u"gw-b"_s);
        QCOMPARE(g.cluster.nodes.at(1).uids, 7);
        QVERIFY(g.cluster.nodes.at(0).self && !g.cluster.nodes.at(1).self);
        QVERIFY(g.offline.enabled);
        QCOMPARE(g.offline.description, u"redis"_s);
        QCOMPARE(g.offline.ttlMs, 3600000);
        QCOMPARE(g.offline.maxPerUid, 100);
        QCOMPARE(g.offline.maxTotal, 100000);
        QCOMPARE(g.eventCapacity, 10000);
    }

    void stateHasOnlyWhatChanged()
    {
        const AdminMessage m = parsed("{\"t\":\"state\",\"listening\":false}");
        QCOMPARE(m.kind, AdminMessage::Kind::State);
        QVERIFY(m.gateway.hasListening);
        QVERIFY(!m.gateway.listening);
        QVERIFY(!m.gateway.hasListeners);
        QVERIFY(!m.gateway.hasCluster);
        QVERIFY(!m.gateway.hasOffline);
    }

    void presence()
    {
        const AdminMessage m = parsed(
            "{\"t\":\"presence\",\"reset\":true,\"uids\":[{\"uid\":\"1001\",\"connections\":2,"
            "\"peers\":[\"10.1.2.3:50912\",\"10.1.2.9:41000\"],\"connectedAt\":\"2026-12-02T08:00:"
            "02.000Z\",\"lastActivity\":\"2026-12-02T08:00:03.500Z\",\"messagesIn\":1,"
            "\"messagesOut\":4,\"otherNodes\":[\"gw-c\",\"gw-b\"]},{\"uid\":\"2002\","
            "\"connections\":0,\"otherNodes\":[\"gw-b\"]},{\"uid\":\"3003\",\"connections\":0}]}");
        QCOMPARE(m.kind, AdminMessage::Kind::Presence);
        QVERIFY(m.reset);
        QCOMPARE(m.presence.size(), 3);
        const PresenceEntry &a = m.presence.at(0);
        QCOMPARE(a.uid, "1001");
        QCOMPARE(a.connections, 2);
        QCOMPARE(a.peers, QStringList({u"10.1.2.3:50912"_s, u"10.1.2.9:41000"_s}));
        QCOMPARE(a.connectedAt,
            QDateTime(QDate(2026, 12, 2), QTime(8, 0, 2), Qt::UTC).toMSecsSinceEpoch());
        QCOMPARE(a.lastActivity - a.connectedAt, 1500);
        QCOMPARE(a.messagesIn, 1u);
        QCOMPARE(a.messagesOut, 4u);
        QCOMPARE(a.otherNodes, QStringList({u"gw-b"_s, u"gw-c"_s})); // sorted
        QVERIFY(m.presence.at(1).isOnline());
        QVERIFY(!m.presence.at(2).isOnline()); // left everywhere
        QVERIFY(!parsed("{\"t\":\"presence\",\"uids\":[]}").reset);
    }

    void events()
    {
        const AdminMessage m = parsed(
            "{\"t\":\"events\",\"events\":[{\"time\":\"2026-12-02T08:00:04.010Z\",\"type\":"
            "\"push\",\"level\":\"info\",\"conn\":0,\"uid\":\"1001\",\"peer\":\"10.0.0.7:41000\","
            "\"size\":27,\"text\":\"{\\\"uid\\\":\\\"1001\\\",\\\"msg\\\":\\\"hi\\\"}\",\"source\":"
            "\"http\",\"status\":\"ok\",\"delivered\":2,\"dropped\":0,\"newField\":[1,2]},{"
            "\"time\":\"2026-12-02T08:00:05.000Z\",\"type\":\"close\",\"level\":\"info\",\"conn\":"
            "7,\"uid\":\"1001\",\"closeCode\":1008,\"discarded\":120,\"detail\":\"disconnected by "
            "operator\"},{\"type\":\"teleport\"},{\"time\":\"2026-12-02T08:00:06.000Z\","
            "\"type\":\"error\",\"reason\":\"out_of_fds_ws\",\"newArg\":1}]}");
        QCOMPARE(m.kind, AdminMessage::Kind::Events);
        QCOMPARE(m.events.size(), 3);
        QCOMPARE(m.badEvents, 1);
        QVERIFY2(m.badEventError.contains(u"time"_s), qPrintable(m.badEventError));
        const Event &push = m.events.at(0);
        QCOMPARE(push.type, Event::Type::Push);
        QCOMPARE(push.time,
            QDateTime(QDate(2026, 12, 2), QTime(8, 0, 4, 10), Qt::UTC).toMSecsSinceEpoch());
        QCOMPARE(push.uid, "1001");
        QCOMPARE(push.peer, u"10.0.0.7:41000"_s);
        QCOMPARE(push.size, 27);
        QCOMPARE(push.text, "{\"uid\":\"1001\",\"msg\":\"hi\"}");
        QCOMPARE(push.source, PushSource::Http);
        QCOMPARE(push.status, PushStatus::Ok);
        QCOMPARE(push.delivered, 2);
        const Event &close = m.events.at(1);
        QCOMPARE(close.type, Event::Type::Closed);
        QCOMPARE(close.connection, 7u);
        QCOMPARE(close.closeCode, 1008);
        QCOMPARE(close.discarded, 120);
        // A reason this console does not know travels as its English.
        QCOMPARE(close.englishDetail(), u"disconnected by operator"_s);
        QCOMPARE(m.events.at(2).reason, Event::Reason::OutOfFdsWs);
        QCOMPARE(m.events.at(2).englishDetail(),
            u"out of file descriptors: WebSocket connection refused"_s);
    }

    void eventFieldsAreBounded()
    {
        QJsonObject o;
        o.insert(u"time"_s, u"2026-12-02T08:00:06.000Z"_s);
        o.insert(u"type"_s, u"message"_s);
        o.insert(u"text"_s, QString(100000, u'x'));
        o.insert(u"uid"_s, QString(100000, u'u'));
        o.insert(u"detail"_s, QString(100000, u'd'));
        const std::optional<Event> e = Event::fromJson(o);
        QVERIFY(e);
        QVERIFY(e->text.size() <= Event::MaxText);
        QVERIFY(e->uid.size() <= Event::MaxString);
        QVERIFY(e->detail.toUtf8().size() <= Event::MaxString);
    }

    void eventErrors_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("no type") << QByteArray("{\"time\":\"2026-12-02T08:00:06.000Z\"}");
        QTest::newRow("type not a string")
            << QByteArray("{\"time\":\"2026-12-02T08:00:06.000Z\",\"type\":3}");
        QTest::newRow("no time") << QByteArray("{\"type\":\"push\"}");
        QTest::newRow("bad time") << QByteArray("{\"type\":\"push\",\"time\":\"yesterday\"}");
    }
    void eventErrors()
    {
        QFETCH(QByteArray, json);
        const AdminMessage m = parsed("{\"t\":\"events\",\"events\":[" + json + "]}");
        QCOMPARE(m.events.size(), 0);
        QCOMPARE(m.badEvents, 1);
    }

    void counters()
    {
        const AdminMessage m = parsed(
            "{\"t\":\"counters\",\"time\":\"2026-12-02T08:00:06.000Z\",\"steadyMs\":123456789,"
            "\"uids\":19000,\"connections\":19020,\"pushes\":{\"ok\":10,\"fail\":2,\"error\":0,"
            "\"queued\":1},\"cluster\":{\"sent\":3,\"received\":4,\"linkLosses\":5},\"offline\":{"
            "\"stored\":6,\"delivered\":7,\"dropped\":8,\"expired\":9}}");
        QCOMPARE(m.kind, AdminMessage::Kind::Counters);
        const CounterSample &c = m.counters;
        QCOMPARE(c.steadyMs, 123456789);
        QCOMPARE(c.uids, 19000);
        QCOMPARE(c.connections, 19020);
        QCOMPARE(c.pushesWith(PushStatus::Ok), 10u);
        QCOMPARE(c.pushesWith(PushStatus::Fail), 2u);
        QCOMPARE(c.pushesWith(PushStatus::Queued), 1u);
        QCOMPARE(c.clusterSent, 3u);
        QCOMPARE(c.clusterReceived, 4u);
        QCOMPARE(c.clusterLinkLosses, 5u);
        QCOMPARE(c.offlineStored, 6u);
        QCOMPARE(c.offlineDelivered, 7u);
        QCOMPARE(c.offlineDropped, 8u);
        QCOMPARE(c.offlineExpired, 9u);
    }

    void skippedReadyAndUnknown()
    {
        const AdminMessage s =
            parsed("{\"t\":\"skipped\",\"count\":5231,\"byType\":{\"push\":5200,\"message\":31}}");
        QCOMPARE(s.kind, AdminMessage::Kind::Skipped);
        QCOMPARE(s.skipped, 5231u);
        QCOMPARE(s.skippedByType.size(), 2);
        QCOMPARE(s.skippedByType.at(0).first, u"message"_s);
        QCOMPARE(s.skippedByType.at(0).second, 31u);
        QCOMPARE(parsed("{\"t\":\"ready\"}").kind, AdminMessage::Kind::Ready);
        // A newer gateway's message is no error: nothing to do with it.
        const AdminMessage u = parsed("{\"t\":\"telemetry\",\"x\":1}");
        QCOMPARE(u.kind, AdminMessage::Kind::Unknown);
        QCOMPARE(u.name, u"telemetry"_s);
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty") << QByteArray() << u"JSON"_s;
        QTest::newRow("not JSON") << QByteArray("hello") << u"JSON"_s;
        QTest::newRow("truncated") << QByteArray("{\"t\":\"hello\",\"vers") << u"JSON"_s;
        QTest::newRow("array") << QByteArray("[1,2]") << u"object"_s;
        QTest::newRow("no t") << QByteArray("{\"type\":\"hello\"}") << u"\"t\""_s;
        QTest::newRow("t a number") << QByteArray("{\"t\":5}") << u"\"t\""_s;
        QTest::newRow("listeners a string")
            << QByteArray("{\"t\":\"hello\",\"protocol\":1,\"listeners\":\"everywhere\"}")
            << u"listeners"_s;
        QTest::newRow("listening a string")
            << QByteArray("{\"t\":\"state\",\"listening\":\"yes\"}") << u"listening"_s;
        QTest::newRow("startedAt garbage")
            << QByteArray("{\"t\":\"hello\",\"protocol\":1,\"startedAt\":\"soon\"}")
            << u"startedAt"_s;
        QTest::newRow("node not an object")
            << QByteArray("{\"t\":\"hello\",\"cluster\":{\"enabled\":true,\"nodes\":[1]}}")
            << u"node"_s;
        QTest::newRow("uids not an array")
            << QByteArray("{\"t\":\"presence\",\"uids\":{\"uid\":\"1\"}}") << u"uids"_s;
        QTest::newRow("entry not an object")
            << QByteArray("{\"t\":\"presence\",\"uids\":[\"1001\"]}") << u"presence entry"_s;
        QTest::newRow("entry without uid")
            << QByteArray("{\"t\":\"presence\",\"uids\":[{\"connections\":1}]}") << u"uid"_s;
        QTest::newRow("negative connections")
            << QByteArray("{\"t\":\"presence\",\"uids\":[{\"uid\":\"a\",\"connections\":-3}]}")
            << u"negative"_s;
        QTest::newRow("peers with a number") << QByteArray(
            "{\"t\":\"presence\",\"uids\":[{\"uid\":\"a\",\"connections\":1,\"peers\":[1]}]}")
                                             << u"peers"_s;
        QTest::newRow("events not an array")
            << QByteArray("{\"t\":\"events\",\"events\":\"many\"}") << u"events"_s;
        QTest::newRow("counters negative")
            << QByteArray("{\"t\":\"counters\",\"pushes\":{\"ok\":-1}}") << u"ok"_s;
        QTest::newRow("counters NaN-like")
            << QByteArray("{\"t\":\"counters\",\"steadyMs\":\"12\"}") << u"steadyMs"_s;
        QTest::newRow("skipped count a string")
            << QByteArray("{\"t\":\"skipped\",\"count\":\"many\"}") << u"count"_s;
    }
    void malformed()
    {
        QFETCH(QByteArray, frame);
        QFETCH(QString, reason);
        AdminMessage m;
        m.name = u"untouched"_s;
        QString error;
        QVERIFY(!AdminStreamParser::parse(frame, &m, &error));
        QVERIFY2(error.contains(reason), qPrintable(error));
        QCOMPARE(m.name, u"untouched"_s);
    }

    void listsAreBounded()
    {
        // More entries than a message may carry: refused whole, not half-read.
        QByteArray many = "{\"t\":\"presence\",\"uids\":[";
        for (int i = 0; i <= AdminStreamParser::MaxPresencePerMessage; ++i)
            many += (i ? "," : "") + QByteArray("{\"uid\":\"u") + QByteArray::number(i)
                + "\",\"connections\":1}";
        many += "]}";
        AdminMessage m;
        QString error;
        QVERIFY(!AdminStreamParser::parse(many, &m, &error));
        QVERIFY2(error.contains(u"more than"_s), qPrintable(error));

        // A uid with thousands of connections lists the first peers only.
        QByteArray peers =
            "{\"t\":\"presence\",\"uids\":[{\"uid\":\"a\",\"connections\":5000,\"peers\":[";
        for (int i = 0; i < 5000; ++i)
            peers += (i ? "," : "") + QByteArray("\"10.0.0.1:") + QByteArray::number(i) + '"';
        peers += "]}]}";
        const AdminMessage p = parsed(peers);
        QCOMPARE(p.presence.size(), 1);
        QCOMPARE(p.presence.at(0).connections, 5000);
        QCOMPARE(p.presence.at(0).peers.size(), AdminStreamParser::MaxPeersPerUid);
    }

    void deepNestingIsAnError()
    {
        // QJsonDocument refuses past its depth limit: an error, no stack overflow.
        const QByteArray deep = QByteArray(100000, '[') + QByteArray(100000, ']');
        AdminMessage m;
        QString error;
        QVERIFY(!AdminStreamParser::parse(deep, &m, &error));
        QVERIFY(!error.isEmpty());
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestAdminStream)
#include "tst_adminstream.moc"
