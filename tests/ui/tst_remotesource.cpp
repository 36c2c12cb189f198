// RemoteGatewaySource against a gateway the test plays (FakeAdminGateway):
// the snapshot and the live messages of docs/admin-stream.md mirrored into
// the GatewaySource reads and signals, a lost link and its re-sync, each
// refusal with its own message, the actions over HTTP, and the console's
// models fed by it under QAbstractItemModelTester.
#include "AttachDialog.h"
#include "AttachTarget.h"
#include "EventText.h"
#include "ExternalPrograms.h"
#include "FakeAdminGateway.h"
#include "LogModel.h"
#include "MainWindow.h"
#include "MessageBanner.h"
#include "OnlineModel.h"
#include "OnlinePanel.h"
#include "RemoteGatewaySource.h"
#include "UiTestMain.h"
#include "Waiting.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTemporaryFile>

#include <memory>

using namespace Qt::StringLiterals;
using LinkState = GatewaySource::LinkState;
using Failure = RemoteGatewaySource::Failure;
namespace M = AdminMessages;

class TestRemoteSource : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<FakeAdminGateway> m_gateway;
    std::unique_ptr<RemoteGatewaySource> m_source;

    // A source attached to the fake gateway, reconnecting fast.
    RemoteGatewaySource *attach(const QByteArray &key = {}, const QString &url = {})
    {
        AttachTarget target;
        QString error;
        QString keyFile;
        QTemporaryFile *file = nullptr;
        if (!key.isEmpty()) {
            file = new QTemporaryFile(this);
            file->open();
            file->write(key + "\n");
            file->flush();
            keyFile = file->fileName();
        }
        if (!AttachTarget::load(
                url.isEmpty() ? m_gateway->url() : url, keyFile, {}, &target, &error))
            qFatal("%s", qPrintable(error));
        m_source = std::make_unique<RemoteGatewaySource>(target);
        m_source->setReconnectDelays(10, 40);
        m_source->open();
        return m_source.get();
    }

    QWebSocket *waitStream(int count = 1)
    {
        if (!TestSupport::waitFor([&] { return m_gateway->streams.size() >= count; }))
            return nullptr;
        return m_gateway->streams.at(count - 1);
    }

private Q_SLOTS:
    void init()
    {
        m_source.reset();
        m_gateway = std::make_unique<FakeAdminGateway>();
        QVERIFY(m_gateway->port() != 0);
    }
    void cleanup()
    {
        m_source.reset();
        m_gateway.reset();
    }

    void targetChecksUrlAndFiles()
    {
        AttachTarget t;
        QString error;
        QVERIFY(AttachTarget::load(u"https://gw.example:2443"_s, {}, {}, &t, &error));
        QCOMPARE(t.streamUrl().toString(), u"wss://gw.example:2443/api/events"_s);
        QCOMPARE(t.apiUrl(u"/api/push"_s).toString(), u"https://gw.example:2443/api/push"_s);
        QVERIFY(AttachTarget::load(u"http://10.0.0.5"_s, {}, {}, &t, &error));
        QCOMPARE(t.display(), u"http://10.0.0.5:2121"_s); // the API's port, not 80
        for (const QString &bad : {u""_s, u"ftp://gw:21"_s, u"http://gw:2121/admin"_s,
                 u"http://user:pw@gw:2121"_s, u"http://:2121"_s}) {
            error.clear();
            QVERIFY2(!AttachTarget::load(bad, {}, {}, &t, &error), qPrintable(bad));
            QVERIFY(!error.isEmpty());
        }
        QVERIFY(!AttachTarget::load(u"http://gw:1"_s, u"/nonexistent/key"_s, {}, &t, &error));
        QVERIFY2(error.contains(u"/nonexistent/key"_s), qPrintable(error));
        QTemporaryFile spaces;
        QVERIFY(spaces.open());
        spaces.write("two words\n");
        spaces.flush();
        QVERIFY(!AttachTarget::load(u"http://gw:1"_s, spaces.fileName(), {}, &t, &error));
        QVERIFY2(error.contains(u"printable"_s), qPrintable(error));
        QTemporaryFile notPem;
        QVERIFY(notPem.open());
        notPem.write("not a certificate");
        notPem.flush();
        QVERIFY(!AttachTarget::load(u"https://gw:1"_s, {}, notPem.fileName(), &t, &error));
        QVERIFY2(error.contains(u"certificate"_s), qPrintable(error));
    }

    void snapshotIsMirrored()
    {
        RemoteGatewaySource *source = attach("s3cret");
        m_gateway->key = "s3cret";
        QSignalSpy links(source, &GatewaySource::linkStateChanged);
        QSignalSpy resets(source, &GatewaySource::presenceReset);
        QSignalSpy events(source, &GatewaySource::eventsArrived);
        QCOMPARE(source->linkState(), LinkState::Resyncing);
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        QCOMPARE(m_gateway->requests.first().headers.value("authorization"), "Bearer s3cret");
        QCOMPARE(m_gateway->requests.first().path, "/api/events");
        QVERIFY(!m_gateway->requests.first().headers.contains("origin"));
        QCOMPARE(stream->subprotocol(), u"pushconsole.admin.v1"_s);

        M::snapshot(stream, {M::uid(u"1001"_s, 2), M::uid(u"2002"_s, 0, {u"gw-b"_s})},
            {M::message(u"1001"_s, u"one"_s, 1), M::message(u"1001"_s, u"two"_s, 2)});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        QCOMPARE(resets.size(), 1);
        QCOMPARE(source->version(), u"7.7.7"_s);
        QCOMPARE(source->nodeName(), u"gw-a"_s);
        QCOMPARE(source->location(), m_gateway->url());
        QVERIFY(source->isListening());
        QCOMPARE(source->wsAddress(), u"0.0.0.0:8013"_s);
        QCOMPARE(source->textAddress(), u"127.0.0.1:5678"_s);
        QCOMPARE(source->startedAt(), QDateTime(QDate(2026, 12, 2), QTime(8, 0, 1, 4), Qt::UTC));
        QCOMPARE(source->eventCapacity(), 500);
        QVERIFY(!source->cluster().enabled);
        QVERIFY(!source->canControlListeners());
        QVERIFY(!source->canEditSettings());
        QString error;
        QVERIFY(!source->startListeners(&error));
        QVERIFY(!error.isEmpty());

        QList<QByteArray> uids = source->onlineUids();
        std::sort(uids.begin(), uids.end());
        QCOMPARE(uids, QList<QByteArray>({"1001", "2002"}));
        QCOMPARE(source->presence("1001").connections, 2);
        QCOMPARE(source->presence("1001").peers.size(), 2);
        QCOMPARE(source->presence("2002").otherNodes, QStringList {u"gw-b"_s});
        QVERIFY(!source->presence("9999").isOnline());
        QCOMPARE(source->recentEvents().size(), 2);
        QCOMPARE(source->recentEvents().at(1).text, "two");
        QCOMPARE(events.size(), 1); // the snapshot's events, one batch
        QCOMPARE(source->counters().uids, 2);
        QCOMPARE(source->counters().pushesWith(PushStatus::Ok), 5u);
        QCOMPARE(links.size(), 1);
        QCOMPARE(links.at(0).at(0).value<LinkState>(), LinkState::Connected);
    }

    void liveMessages()
    {
        RemoteGatewaySource *source = attach();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"1001"_s, 1)}, {});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);

        QSignalSpy changed(source, &GatewaySource::presenceChanged);
        QSignalSpy events(source, &GatewaySource::eventsArrived);
        QSignalSpy samples(source, &GatewaySource::countersSampled);
        QSignalSpy listening(source, &GatewaySource::listeningChanged);
        QSignalSpy synced(source, &RemoteGatewaySource::synced);
        FakeAdminGateway::send(
            stream, M::presence({M::uid(u"3003"_s, 1), M::uid(u"1001"_s, 0)}, false));
        FakeAdminGateway::send(stream, M::events({M::message(u"3003"_s, u"hi"_s, 10)}));
        FakeAdminGateway::send(stream, M::counters(1, 1, 9));
        FakeAdminGateway::send(
            stream, "{\"t\":\"skipped\",\"count\":5231,\"byType\":{\"push\":5200,\"message\":31}}");
        FakeAdminGateway::send(stream, "{\"t\":\"state\",\"listening\":false}");
        FakeAdminGateway::send(stream, "{\"t\":\"whatever-comes-next\",\"x\":1}");
        FakeAdminGateway::send(stream, "this is not JSON");
        FakeAdminGateway::send(stream, M::ready()); // a sync point: everything before is handled
        WAIT_COMPARE(synced.size(), 1);

        QCOMPARE(changed.size(), 2);
        QCOMPARE(source->onlineUids(), QList<QByteArray> {"3003"});
        QVERIFY(!source->presence("1001").isOnline());
        QCOMPARE(events.size(), 2);
        QCOMPARE(events.at(0).at(0).value<QList<Event>>().at(0).text, "hi");
        const QList<Event> skipped = events.at(1).at(0).value<QList<Event>>();
        QCOMPARE(skipped.size(), 1); // one line, not 5 231
        QCOMPARE(skipped.at(0).reason, Event::Reason::EventsSkipped);
        const QString line = skipped.at(0).englishDetail();
        QVERIFY2(line.startsWith(u"5231 events skipped ("_s), qPrintable(line));
        QVERIFY2(line.contains(u"push 5200"_s), qPrintable(line));
        // Shown as the stream's limits at work, not as a failure.
        QCOMPARE(EventText::result(skipped.at(0)), u"skipped"_s);
        QCOMPARE(skipped.at(0).level, Event::Level::Info);
        QCOMPARE(samples.size(), 1);
        QCOMPARE(source->counters().pushesWith(PushStatus::Ok), 9u);
        QCOMPARE(listening.size(), 1);
        QVERIFY(!source->isListening());
        QCOMPARE(source->wsAddress(), u"0.0.0.0:8013"_s); // not in the state message: kept
        QCOMPARE(source->protocolErrors(), 1);
        QCOMPARE(source->linkState(), LinkState::Connected); // garbage is no reason to drop
    }

    void presenceResetWhileLive()
    {
        RemoteGatewaySource *source = attach();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"a"_s, 1), M::uid(u"b"_s, 1)}, {});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        QSignalSpy resets(source, &GatewaySource::presenceReset);
        QSignalSpy synced(source, &RemoteGatewaySource::synced);
        FakeAdminGateway::send(stream, M::presence({M::uid(u"c"_s, 1)}, true));
        FakeAdminGateway::send(stream, M::presence({M::uid(u"d"_s, 3)}, false));
        // Until its ready, the old table stands.
        FakeAdminGateway::send(stream, M::counters(0, 0, 0));
        WAIT_COMPARE(source->counters().steadyMs, 1000);
        QCOMPARE(source->onlineUids().size(), 2);
        QCOMPARE(resets.size(), 0);
        FakeAdminGateway::send(stream, M::ready());
        WAIT_COMPARE(synced.size(), 1);
        QCOMPARE(resets.size(), 1);
        QList<QByteArray> uids = source->onlineUids();
        std::sort(uids.begin(), uids.end());
        QCOMPARE(uids, QList<QByteArray>({"c", "d"}));
    }

    void linkLossThenResync()
    {
        RemoteGatewaySource *source = attach();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"a"_s, 1)},
            {M::message(u"a"_s, u"1"_s, 1), M::message(u"a"_s, u"2"_s, 2)});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);

        QList<LinkState> seen;
        connect(source, &GatewaySource::linkStateChanged, this,
            [&seen](LinkState s) { seen.append(s); });
        QSignalSpy resets(source, &GatewaySource::presenceReset);
        QSignalSpy events(source, &GatewaySource::eventsArrived);
        stream->close(QWebSocketProtocol::CloseCodeGoingAway, u"restarting"_s);
        WAIT_VERIFY(seen.contains(LinkState::Lost));
        QCOMPARE(source->failure(), Failure::Lost);
        QVERIFY2(source->linkError().contains(u"restarting"_s), qPrintable(source->linkError()));
        // The last view stays while the link is down.
        QCOMPARE(source->onlineUids(), QList<QByteArray> {"a"});

        QWebSocket *again = waitStream(2);
        QVERIFY(again);
        WAIT_COMPARE(source->linkState(), LinkState::Resyncing);
        // A fresh snapshot: the gateway's view changed meanwhile, and its
        // recent events repeat the two the console already has.
        M::snapshot(again, {M::uid(u"b"_s, 2)},
            {M::message(u"a"_s, u"1"_s, 1), M::message(u"a"_s, u"2"_s, 2),
                M::message(u"b"_s, u"3"_s, 3)});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        QCOMPARE(
            seen, QList<LinkState>({LinkState::Lost, LinkState::Resyncing, LinkState::Connected}));
        QCOMPARE(resets.size(), 1);
        QCOMPARE(source->onlineUids(), QList<QByteArray> {"b"});
        QCOMPARE(events.size(), 1);
        const QList<Event> fresh = events.at(0).at(0).value<QList<Event>>();
        QCOMPARE(fresh.size(), 1); // only what the console had not seen
        QCOMPARE(fresh.at(0).text, "3");
        QVERIFY(source->linkError().isEmpty());
        QCOMPARE(source->failure(), Failure::None);
    }

    void gatewayGoneKeepsRetrying()
    {
        RemoteGatewaySource *source = attach();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {}, {});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        m_gateway->close(); // the port is closed: refused, again and again
        WAIT_COMPARE(source->linkState(), LinkState::Lost);
        WAIT_COMPARE_GE(source->reconnects(), 3);
        QCOMPARE(source->failure(), Failure::Unreachable);
        QVERIFY2(source->linkError().contains(u"refused"_s), qPrintable(source->linkError()));
    }

    void silentStreamCountsAsLost()
    {
        RemoteGatewaySource *source = attach();
        source->setStallTimeout(200);
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {}, {});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        // No counters any more, the TCP connection still up (a dead route).
        WAIT_COMPARE(source->linkState(), LinkState::Lost);
        QVERIFY(waitStream(2));
    }

    void refusals_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<bool>("keepOpen");
        QTest::addColumn<Failure>("failure");
        QTest::addColumn<QString>("words");
        QTest::addColumn<bool>("retries");
        for (const bool keepOpen : {false, true}) {
            const char *how = keepOpen ? ", kept open" : ", closed";
            QTest::addRow("wrong key%s", how) << 101 << QByteArray("wrong") << keepOpen
                                              << Failure::Unauthorized << u"API key"_s << false;
            QTest::addRow("no key%s", how) << 101 << QByteArray() << keepOpen
                                           << Failure::Unauthorized << u"API key"_s << false;
            QTest::addRow("too old%s", how)
                << 404 << QByteArray("right") << keepOpen << Failure::Incompatible
                << u"incompatible version"_s << false;
            QTest::addRow("other protocol%s", how)
                << 400 << QByteArray("right") << keepOpen << Failure::Incompatible
                << u"incompatible version"_s << false;
            QTest::addRow("too many consoles%s", how)
                << 503 << QByteArray("right") << keepOpen << Failure::Busy << u"too many consoles"_s
                << true;
        }
    }
    void refusals()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, key);
        QFETCH(bool, keepOpen);
        QFETCH(Failure, failure);
        QFETCH(QString, words);
        QFETCH(bool, retries);
        m_gateway->key = "right";
        m_gateway->upgradeStatus = status;
        m_gateway->closeAfterRefusal = !keepOpen;
        RemoteGatewaySource *source = attach(key);
        source->setSlowHandshake(100);
        WAIT_COMPARE(source->linkState(), LinkState::Lost);
        QCOMPARE(source->failure(), failure);
        QVERIFY2(source->linkError().contains(words), qPrintable(source->linkError()));
        QVERIFY(source->linkError().contains(m_gateway->url()));
        if (retries) {
            WAIT_COMPARE_GE(m_gateway->requests.size(), 3);
        } else {
            // No retry; the status may have been read on a second request.
            QCOMPARE(source->reconnects(), 0);
            QVERIFY(m_gateway->requests.size() <= 2);
        }
    }

    void unreachableHost()
    {
        QTcpServer closed;
        QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
        const quint16 port = closed.serverPort();
        closed.close();
        RemoteGatewaySource *source = attach({}, u"http://127.0.0.1:%1"_s.arg(port));
        WAIT_COMPARE(source->linkState(), LinkState::Lost);
        QCOMPARE(source->failure(), Failure::Unreachable);
        QVERIFY2(source->linkError().contains(u"refused"_s), qPrintable(source->linkError()));
    }

    void tlsFailureSaysWhy()
    {
        // A plain-text server spoken to with https: the handshake fails.
        RemoteGatewaySource *source = attach({}, u"https://127.0.0.1:%1"_s.arg(m_gateway->port()));
        WAIT_COMPARE(source->linkState(), LinkState::Lost, 10000);
        QCOMPARE(source->failure(), Failure::Tls);
        QVERIFY2(source->linkError().contains(u"TLS"_s), qPrintable(source->linkError()));
        QCOMPARE(source->reconnects(), 0);
    }

    void tlsUntrustedThenTrustedWithAttachCa()
    {
        REQUIRE_PROGRAM("openssl");
        QTemporaryDir dir;
        const QString cert = dir.filePath(u"cert.pem"_s);
        const QString key = dir.filePath(u"key.pem"_s);
        QProcess openssl;
        openssl.start(u"openssl"_s,
            {u"req"_s, u"-x509"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s,
                u"ec_paramgen_curve:prime256v1"_s, u"-nodes"_s, u"-keyout"_s, key, u"-out"_s, cert,
                u"-subj"_s, u"/CN=localhost"_s, u"-days"_s, u"2"_s, u"-addext"_s,
                u"subjectAltName=IP:127.0.0.1,DNS:localhost"_s});
        QVERIFY(openssl.waitForFinished(30000) && openssl.exitCode() == 0);
        m_gateway = std::make_unique<FakeAdminGateway>(cert, key);
        QVERIFY(m_gateway->url().startsWith(u"https://"_s));

        // Self-signed, not in the system store: refused, with the reason.
        RemoteGatewaySource *source = attach();
        WAIT_COMPARE(source->linkState(), LinkState::Lost, 10000);
        QCOMPARE(source->failure(), Failure::Tls);
        QVERIFY2(source->linkError().contains(u"self"_s, Qt::CaseInsensitive),
            qPrintable(source->linkError()));
        QCOMPARE(source->reconnects(), 0);

        // --attach-ca: trusted, and the stream opens over wss.
        AttachTarget target;
        QString error;
        QVERIFY(AttachTarget::load(m_gateway->url(), {}, cert, &target, &error));
        m_source = std::make_unique<RemoteGatewaySource>(target);
        m_source->open();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"1001"_s, 1)}, {});
        WAIT_COMPARE(m_source->linkState(), LinkState::Connected, 10000);
        QCOMPARE(m_source->onlineUids(), QList<QByteArray> {"1001"});
        // The actions go over https with the same trust.
        m_gateway->answers.insert("POST /api/push", {200, "{\"result\":\"ok\",\"delivered\":1}"});
        QList<PushResult> pushes;
        m_source->push("{\"uid\":\"1001\"}", this, [&](const PushResult &r) { pushes.append(r); });
        WAIT_COMPARE(pushes.size(), 1, 10000);
        QCOMPARE(pushes.at(0).status, PushStatus::Ok);
    }

    void unreadableHelloIsIncompatible()
    {
        RemoteGatewaySource *source = attach();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        FakeAdminGateway::send(stream, "{\"t\":\"hello\",\"protocol\":\"one\"}");
        WAIT_COMPARE(source->linkState(), LinkState::Lost);
        QCOMPARE(source->failure(), Failure::Incompatible);
    }

    void actions()
    {
        m_gateway->key = "k";
        RemoteGatewaySource *source = attach("k");
        m_gateway->answers.insert("POST /api/push", {200, "{\"result\":\"ok\",\"delivered\":3}"});
        m_gateway->answers.insert(
            "DELETE /api/uids/a%2Fb", {200, "{\"result\":\"ok\",\"closed\":2}"});
        m_gateway->answers.insert("GET /api/uids/1001",
            {200,
                "{\"uid\":\"1001\",\"connections\":[{\"id\":7,\"peer\":\"10.0.0.7:50912\","
                "\"since\":\"2026-11-30T08:00:01.004Z\",\"lastActivity\":\"2026-11-30T08:00:02."
                "000Z\",\"idleSeconds\":3,\"messagesIn\":1,\"messagesOut\":4,\"bytesIn\":10,"
                "\"bytesOut\":180}]}"});

        QList<PushResult> pushes;
        const QByteArray line = "{\"uid\":\"1001\",\"msg\":\"hé\"}";
        source->push(line, this, [&](const PushResult &r) { pushes.append(r); });
        WAIT_COMPARE(pushes.size(), 1);
        QCOMPARE(pushes.at(0).status, PushStatus::Ok);
        QCOMPARE(pushes.at(0).delivered, 3);
        const FakeAdminGateway::Request &r = m_gateway->requests.last();
        QCOMPARE(r.body, line); // byte for byte
        QCOMPARE(r.headers.value("content-type"), "application/json");
        QCOMPARE(r.headers.value("authorization"), "Bearer k");

        m_gateway->answers.insert("POST /api/push", {202, "{\"result\":\"queued\",\"stored\":1}"});
        source->push(line, this, [&](const PushResult &r) { pushes.append(r); });
        WAIT_COMPARE(pushes.size(), 2);
        QCOMPARE(pushes.at(1).status, PushStatus::Queued);
        m_gateway->answers.insert("POST /api/push", {404, "{\"result\":\"fail\"}"});
        source->push(line, this, [&](const PushResult &r) { pushes.append(r); });
        WAIT_COMPARE(pushes.size(), 3);
        QCOMPARE(pushes.at(2).status, PushStatus::Fail);
        m_gateway->answers.insert("POST /api/push", {400, "{\"error\":\"missing uid\"}"});
        source->push("{}", this, [&](const PushResult &r) { pushes.append(r); });
        WAIT_COMPARE(pushes.size(), 4);
        QCOMPARE(pushes.at(3).status, PushStatus::Error);
        QCOMPARE(pushes.at(3).error, "missing uid");

        QList<KickResult> kicks;
        source->kick("a/b", this, [&](const KickResult &r) { kicks.append(r); });
        WAIT_COMPARE(kicks.size(), 1);
        QCOMPARE(kicks.at(0).closed, 2);
        QVERIFY(kicks.at(0).error.isEmpty());
        source->kick("nobody", this, [&](const KickResult &r) { kicks.append(r); });
        WAIT_COMPARE(kicks.size(), 2);
        QCOMPARE(kicks.at(1).closed, 0);

        QList<QList<SessionInfo>> sessions;
        source->requestSessions(
            "1001", this, [&](const QList<SessionInfo> &s) { sessions.append(s); });
        WAIT_COMPARE(sessions.size(), 1);
        QCOMPARE(sessions.at(0).size(), 1);
        const SessionInfo &s = sessions.at(0).at(0);
        QCOMPARE(s.id, 7u);
        QCOMPARE(s.uid, "1001");
        QCOMPARE(s.peer, u"10.0.0.7:50912"_s);
        QCOMPARE(s.bytesOut, 180u);
        QCOMPARE(s.lastActivity - s.connectedAt, 996);

        // A wrong key on an action says so; a gone context drops the answer.
        m_gateway->key = "other";
        source->kick("a/b", this, [&](const KickResult &r) { kicks.append(r); });
        WAIT_COMPARE(kicks.size(), 3);
        QVERIFY2(kicks.at(2).error.contains(u"API key"_s), qPrintable(kicks.at(2).error));
        auto context = std::make_unique<QObject>();
        bool ran = false;
        source->push(line, context.get(), [&](const PushResult &) { ran = true; });
        const qsizetype before = m_gateway->requests.size();
        context.reset();
        WAIT_COMPARE(m_gateway->requests.size(), before + 1);
        source->kick("sync", this, [&](const KickResult &r) { kicks.append(r); });
        WAIT_COMPARE(kicks.size(), 4); // answered after the push (one connection each, in order)
        QVERIFY(!ran);
    }

    void modelsFedByTheRemoteSource()
    {
        RemoteGatewaySource *source = attach();
        OnlineModel online(source);
        LogModel log(source, source->eventCapacity());
        QAbstractItemModelTester onlineTester(
            &online, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester logTester(
            &log, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"1001"_s, 2), M::uid(u"2002"_s, 1)},
            {M::message(u"1001"_s, u"first"_s, 1)});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        online.applyPending();
        log.flush();
        QCOMPARE(online.rowCount(), 2);
        QCOMPARE(online.connectionCount(), 3);
        QCOMPARE(log.rowCount(), 1);
        QCOMPARE(log.event(0).text, "first");

        FakeAdminGateway::send(
            stream, M::presence({M::uid(u"2002"_s, 0), M::uid(u"3003"_s, 1)}, false));
        FakeAdminGateway::send(stream, M::events({M::message(u"3003"_s, u"second"_s, 2)}));
        QSignalSpy synced(source, &RemoteGatewaySource::synced);
        FakeAdminGateway::send(stream, M::ready());
        WAIT_COMPARE(synced.size(), 1);
        online.applyPending();
        log.flush();
        QCOMPARE(online.rowCount(), 2);
        QVERIFY(online.rowOf("3003") >= 0);
        QCOMPARE(online.rowOf("2002"), -1);
        QCOMPARE(log.rowCount(), 2);

        // Lost and back with a new view: the table is rebuilt, the log kept.
        stream->abort();
        QWebSocket *again = waitStream(2);
        QVERIFY(again);
        M::snapshot(again, {M::uid(u"4004"_s, 1)}, {M::message(u"4004"_s, u"third"_s, 3)});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        WAIT_COMPARE(online.rowCount(), 1);
        QCOMPARE(online.uidAt(0), "4004");
        log.flush();
        QCOMPARE(log.rowCount(), 3);
    }

    void attachDialogRemembersPathsNotKeys()
    {
        QTemporaryFile keyFile;
        QVERIFY(keyFile.open());
        keyFile.write("never-in-settings\n");
        keyFile.flush();
        QSettings().remove(u"attach"_s);
        AttachDialog dialog;
        QSignalSpy requested(&dialog, &AttachDialog::attachRequested);
        dialog.urlBox()->setEditText(u"ftp://nowhere"_s);
        dialog.accept();
        QCOMPARE(requested.size(), 0);
        QVERIFY2(dialog.error().contains(u"ftp://nowhere"_s), qPrintable(dialog.error()));
        dialog.urlBox()->setEditText(m_gateway->url());
        dialog.keyFileEdit()->setText(keyFile.fileName());
        dialog.accept();
        QCOMPARE(requested.size(), 1);
        QCOMPARE(requested.at(0).at(0).value<AttachTarget>().key, "never-in-settings");

        const QList<AttachDialog::Recent> recent = AttachDialog::recent();
        QCOMPARE(recent.size(), 1);
        QCOMPARE(recent.at(0).url, m_gateway->url());
        QCOMPARE(recent.at(0).keyFile, keyFile.fileName());
        QSettings settings;
        settings.sync();
        QFile stored(settings.fileName());
        QVERIFY(stored.open(QIODevice::ReadOnly));
        QVERIFY(!stored.readAll().contains("never-in-settings"));

        // Offered again, most recent first and without duplicates.
        AttachTarget other;
        QString error;
        QVERIFY(AttachTarget::load(u"https://gw.example:2443"_s, {}, {}, &other, &error));
        AttachDialog::remember(other);
        AttachDialog::remember(other);
        AttachDialog again;
        QCOMPARE(again.urlBox()->count(), 2);
        QCOMPARE(again.urlBox()->itemText(0), u"https://gw.example:2443"_s);
        QCOMPARE(again.urlBox()->currentText(), u"https://gw.example:2443"_s);
        again.urlBox()->setCurrentIndex(1);
        Q_EMIT again.urlBox()->activated(1);
        QCOMPARE(again.keyFileEdit()->text(), keyFile.fileName());
    }

    void attachOnTheCommandLine()
    {
        QTemporaryFile keyFile;
        QVERIFY(keyFile.open());
        keyFile.write("cli-key\n");
        keyFile.flush();
        m_gateway->key = "cli-key";
        QProcess console;
        console.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
        console.setProcessEnvironment(env);
        console.start(QStringLiteral(PUSHCONSOLE_BINARY),
            {u"--attach"_s, m_gateway->url(), u"--api-key-file"_s, keyFile.fileName()});
        QWebSocket *stream = waitStream();
        QVERIFY2(stream, console.readAll().constData());
        QCOMPARE(m_gateway->requests.first().headers.value("authorization"), "Bearer cli-key");
        // No listeners of its own: nothing but the stream was opened.
        M::snapshot(stream, {M::uid(u"1001"_s, 1)}, {});
        console.terminate();
        QVERIFY(console.waitForFinished(10000));

        // A gateway option makes no sense here: refused with a reason.
        QProcess bad;
        bad.setProcessChannelMode(QProcess::MergedChannels);
        bad.setProcessEnvironment(env);
        bad.start(QStringLiteral(PUSHCONSOLE_BINARY),
            {u"--attach"_s, m_gateway->url(), u"--ws-port"_s, u"9000"_s});
        QVERIFY(bad.waitForFinished(10000));
        QCOMPARE(bad.exitCode(), 2);
        const QByteArray out = bad.readAll();
        QVERIFY2(out.contains("ws-port") && out.contains("no gateway runs here"), out.constData());

        QProcess noKey;
        noKey.setProcessChannelMode(QProcess::MergedChannels);
        noKey.setProcessEnvironment(env);
        noKey.start(QStringLiteral(PUSHCONSOLE_BINARY),
            {u"--attach"_s, m_gateway->url(), u"--api-key-file"_s, u"/nonexistent/key"_s});
        QVERIFY(noKey.waitForFinished(10000));
        QCOMPARE(noKey.exitCode(), 2);
        QVERIFY(noKey.readAll().contains("/nonexistent/key"));

        // The gateway's --help lists the attach options too.
        QProcess help;
        help.setProcessEnvironment(env);
        help.start(QStringLiteral(PUSHCONSOLE_BINARY), {u"--help"_s});
        QVERIFY(help.waitForFinished(10000));
        const QByteArray text = help.readAllStandardOutput();
        QVERIFY(text.contains("--attach <URL>"));
        QVERIFY(text.contains("--attach-ca"));
    }

    // A full window on a busy gateway; with PUSHCONSOLE_SCREENSHOT_DIR set,
    // its pictures connected and with the link lost are saved there.
    void attachedWindowPictures()
    {
        RemoteGatewaySource *source = attach();
        MainWindow window(source);
        window.resize(1440, 900);
        window.show();
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        QList<QJsonObject> uids;
        for (int i = 0; i < 40; ++i)
            uids.append(M::uid(QString::number(1001 + i), 1 + i % 3,
                i % 7 == 0 ? QStringList {u"gw-b"_s} : QStringList {}));
        uids.append(M::uid(u"9001"_s, 0, {u"gw-b"_s}));
        QList<QJsonObject> events;
        for (int i = 0; i < 30; ++i)
            events.append(M::message(
                QString::number(1001 + i), u"{\"type\":\"ping\",\"seq\":%1}"_s.arg(i), i * 250));
        FakeAdminGateway::send(stream, M::hello(u"gw-a"_s, true));
        FakeAdminGateway::send(stream, M::presence(uids, true));
        FakeAdminGateway::send(stream, M::events(events));
        FakeAdminGateway::send(stream, M::ready());
        QSignalSpy synced(source, &RemoteGatewaySource::synced);
        for (int i = 0; i < 30; ++i) {
            QJsonObject c = M::counters(41, 80, 100 + i * i * 7);
            c.insert(u"steadyMs"_s, 1000 * (i + 1));
            c.insert(u"time"_s,
                QDateTime::currentDateTimeUtc().addSecs(i - 30).toString(Qt::ISODateWithMs));
            FakeAdminGateway::send(stream, c);
        }
        FakeAdminGateway::send(
            stream, "{\"t\":\"skipped\",\"count\":5231,\"byType\":{\"push\":5200,\"message\":31}}");
        FakeAdminGateway::send(stream, M::ready());
        WAIT_COMPARE(synced.size(), 2); // the snapshot's ready, then the sync point's
        QCOMPARE(source->linkState(), LinkState::Connected);
        window.onlinePanel()->model()->applyPending();
        QTest::qWait(300); // the log's and the chart's batch timers: only for the picture
        const QString dir = qEnvironmentVariable("PUSHCONSOLE_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            QVERIFY(window.grab().save(dir + u"/attach-connected.png"_s));
        stream->close(QWebSocketProtocol::CloseCodeGoingAway, u"gateway restarting"_s);
        WAIT_VERIFY(!window.banner()->isHidden());
        QTest::qWait(100);
        if (!dir.isEmpty())
            QVERIFY(window.grab().save(dir + u"/attach-lost.png"_s));
        qInfo("title: %s", qPrintable(window.windowTitle()));
    }

    void attachedWindow()
    {
        RemoteGatewaySource *source = attach();
        MainWindow window(source);
        window.show();
        QVERIFY(!window.startAction()->isVisible());
        QVERIFY(!window.stopAction()->isVisible());
        QVERIFY(!window.settingsAction()->isVisible());
        QWebSocket *stream = waitStream();
        QVERIFY(stream);
        M::snapshot(stream, {M::uid(u"1001"_s, 1)}, {});
        WAIT_COMPARE(source->linkState(), LinkState::Connected);
        QVERIFY2(window.windowTitle().contains(m_gateway->url()), qPrintable(window.windowTitle()));
        QVERIFY2(window.windowTitle().contains(u"gw-a"_s), qPrintable(window.windowTitle()));
        auto *where = window.findChild<QLabel *>(u"statusLink"_s);
        QVERIFY(where);
        WAIT_VERIFY2(where->text().contains(u"7.7.7"_s), where->text());
        QVERIFY(where->text().contains(m_gateway->url()));
        QVERIFY(window.banner()->isHidden());

        stream->close(QWebSocketProtocol::CloseCodeGoingAway, u"bye"_s);
        WAIT_VERIFY(!window.banner()->isHidden());
        QVERIFY2(window.banner()->text().contains(u"lost"_s), qPrintable(window.banner()->text()));
        QVERIFY(window.windowTitle().contains(u"disconnected"_s));
        QVERIFY(!window.centralWidget()->findChild<QWidget *>(u"mainSplitter"_s)->isEnabled());
        QWebSocket *again = waitStream(2);
        QVERIFY(again);
        M::snapshot(again, {M::uid(u"1001"_s, 1)}, {});
        WAIT_VERIFY(window.banner()->isHidden());
        QVERIFY(window.centralWidget()->findChild<QWidget *>(u"mainSplitter"_s)->isEnabled());
    }
};

PUSHCONSOLE_UI_TEST_MAIN(TestRemoteSource)
#include "tst_remotesource.moc"
