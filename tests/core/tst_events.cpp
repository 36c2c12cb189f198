#include "ConsoleLogger.h"
#include "Event.h"
#include "Events.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>

#include <QTest>

// Pins the headless log's rendering of every kind of event, byte for byte:
// log shippers and scripts split these lines.
class tst_Events : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void renderingPins_data();
    void renderingPins();
    void factoriesRenderAsBefore_data();
    void factoriesRenderAsBefore();
    void everyReasonRendersInEnglish();
    void englishMapsBackToItsReason();
    void jsonRoundTrip_data();
    void jsonRoundTrip();
    void jsonForm();
    void jsonUnknownReasonKeepsDetail();
    void jsonMalformed();
    void limitBoundsArguments();
};

namespace {

constexpr qint64 At = 1796198401004; // 2026-12-02T08:00:01.004Z

Event make(Event::Type type, Event::Level level, const char *detail)
{
    Event e;
    e.time = At;
    e.type = type;
    e.level = level;
    e.detail = QString::fromUtf8(detail);
    return e;
}

Event closed(const char *reason, qint64 discarded = 0, int code = 1000)
{
    Event e = make(Event::Type::Closed, Event::Level::Info, reason);
    e.connection = 42;
    e.uid = "1001";
    e.peer = QStringLiteral("10.1.2.3:50912");
    e.closeCode = code;
    e.size = 12;
    e.discarded = discarded;
    return e;
}

Event rejected(const char *reason)
{
    Event e = make(Event::Type::Rejected, Event::Level::Warning, reason);
    e.connection = 42;
    e.peer = QStringLiteral("10.1.2.3:50912");
    return e;
}

Event error(const char *detail)
{
    return make(Event::Type::Error, Event::Level::Warning, detail);
}

Event push(PushStatus status, const char *detail)
{
    Event e = make(Event::Type::Push, Event::Level::Debug, detail);
    e.source = PushSource::TextPort;
    e.status = status;
    e.uid = "1001";
    e.size = 5;
    e.peer = QStringLiteral("127.0.0.1:4000");
    e.text = "hello";
    e.delivered = status == PushStatus::Ok ? 1 : 0;
    return e;
}

struct Pin
{
    const char *name;
    Event event;
    QByteArray line;
};

// The events as each call site built them by hand before events were typed,
// and the line each gave.
QList<Pin> pins()
{
    QList<Pin> out;
    const QByteArray t = "2026-12-02T08:00:01.004Z ";
    const auto row = [&](const char *name, const Event &e, const QByteArray &rest) {
        out.append({name, e, t + rest + '\n'});
    };
    // The ones each call site builds today (the text as it is built there).
    row("listening",
        make(Event::Type::Listening, Event::Level::Info,
            "ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=epoll tls=on "
            "auth=HS256 trusted-proxies=10.0.0.0/8 proxy-protocol=on node=a redis=redis://r:6379 "
            "offline=sqlite:/var/lib/x.db http-tls=on"),
        "info listening ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=epoll "
        "tls=on auth=HS256 trusted-proxies=10.0.0.0/8 proxy-protocol=on node=a "
        "redis=redis://r:6379 offline=sqlite:/var/lib/x.db http-tls=on");
    row("listening-plain",
        make(Event::Type::Listening, Event::Level::Info,
            "ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=default"),
        "info listening ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=default");
    row("stopped", make(Event::Type::Stopped, Event::Level::Info, "listeners closed"),
        "info stopped listeners closed");
    {
        Event e = make(Event::Type::Stopped, Event::Level::Warning,
            "clients=3 aborted=1 undelivered-bytes=77");
        e.size = 3;
        e.delivered = 1;
        e.discarded = 77;
        row("shutdown", e, "warning stopped clients=3 aborted=1 undelivered-bytes=77");
    }
    {
        Event e = make(Event::Type::Connected, Event::Level::Info, "/ws?x=1");
        e.connection = 42;
        e.peer = QStringLiteral("10.1.2.3:50912");
        row("connect", e, "info connect conn=42 peer=10.1.2.3:50912 path=\"/ws?x=1\"");
    }
    {
        Event e = make(Event::Type::Bound, Event::Level::Info, "");
        e.connection = 42;
        e.uid = "1001";
        e.peer = QStringLiteral("10.1.2.3:50912");
        row("bind", e, "info bind conn=42 uid=1001 peer=10.1.2.3:50912");
    }
    {
        Event e = rejected("invalid uid");
        e.size = 3;
        e.text = "a b";
        row("reject-invalid-uid", e,
            "warning reject conn=42 peer=10.1.2.3:50912 size=3 reason=\"invalid uid\" "
            "text=\"a b\"");
    }
    {
        Event e = rejected("too many connections for this uid (2), none of them with this token");
        e.uid = "1001";
        row("reject-uid-limit", e,
            "warning reject conn=42 uid=1001 peer=10.1.2.3:50912 reason=\"too many connections "
            "for this uid (2), none of them with this token\"");
    }
    row("reject-handshake", rejected("handshake refused: not a WebSocket upgrade"),
        "warning reject conn=42 peer=10.1.2.3:50912 reason=\"handshake refused: not a WebSocket "
        "upgrade\"");
    row("reject-protocol", rejected("invalid UTF-8"),
        "warning reject conn=42 peer=10.1.2.3:50912 reason=\"invalid UTF-8\"");
    {
        Event e = make(Event::Type::Rejected, Event::Level::Warning,
            "too many connections from this address (5)");
        e.peer = QStringLiteral("10.1.2.3:50912");
        row("reject-refused", e,
            "warning reject peer=10.1.2.3:50912 reason=\"too many connections from this address "
            "(5)\"");
    }
    row("reject-summary",
        make(Event::Type::Rejected, Event::Level::Warning,
            "7 more connections refused in the last second (last: connection limit reached (9))"),
        "warning reject reason=\"7 more connections refused in the last second (last: connection "
        "limit reached (9))\"");
    row("close-client", closed("client closed"),
        "info close conn=42 uid=1001 peer=10.1.2.3:50912 code=1000 seconds=12 reason=\"client "
        "closed\"");
    row("close-client-reason", closed("client closed: bye \"now\""),
        "info close conn=42 uid=1001 peer=10.1.2.3:50912 code=1000 seconds=12 reason=\"client "
        "closed: bye \\\"now\\\"\"");
    row("close-slow", closed("slow consumer: output queue over 4194304 bytes", 512, 0),
        "info close conn=42 uid=1001 peer=10.1.2.3:50912 seconds=12 reason=\"slow consumer: "
        "output queue over 4194304 bytes\" discarded=512");
    row("close-heartbeat", closed("heartbeat timeout (idle 75 s)", 0, 0),
        "info close conn=42 uid=1001 peer=10.1.2.3:50912 seconds=12 reason=\"heartbeat timeout "
        "(idle 75 s)\"");
    row("close-closed", closed("closed"),
        "info close conn=42 uid=1001 peer=10.1.2.3:50912 code=1000 seconds=12 reason=closed");
    {
        Event e = make(Event::Type::Closed, Event::Level::Warning,
            "push connection: line not finished within 5000 ms (--text-line-timeout)");
        e.peer = QStringLiteral("127.0.0.1:4000");
        e.size = 9;
        row("close-push", e,
            "warning close peer=127.0.0.1:4000 seconds=9 reason=\"push connection: line not "
            "finished within 5000 ms (--text-line-timeout)\"");
    }
    {
        Event e = make(Event::Type::Closed, Event::Level::Warning,
            "3 more connections without a uid evicted in the last second (last: evicted: too "
            "many connections without a uid (100))");
        row("close-evictions", e,
            "warning close reason=\"3 more connections without a uid evicted in the last second "
            "(last: evicted: too many connections without a uid (100))\"");
    }
    {
        Event e = make(Event::Type::MessageIn, Event::Level::Debug, "");
        e.connection = 42;
        e.uid = "1001";
        e.size = 2;
        e.text = "hi";
        row("message", e, "debug message conn=42 uid=1001 size=2 text=hi");
    }
    row("push-ok", push(PushStatus::Ok, ""),
        "debug push source=text result=ok delivered=1 uid=1001 size=5 from=127.0.0.1:4000 "
        "text=hello");
    {
        Event e = push(PushStatus::Fail, "");
        e.dropped = 2;
        e.level = Event::Level::Info;
        row("push-dropped", e,
            "info push source=text result=fail delivered=0 dropped=2 uid=1001 size=5 "
            "from=127.0.0.1:4000");
    }
    {
        Event e = push(PushStatus::Error, "invalid JSON at offset 3: unterminated object");
        e.level = Event::Level::Warning;
        e.uid.clear();
        row("push-error", e,
            "warning push source=text result=error size=5 from=127.0.0.1:4000 reason=\"invalid "
            "JSON at offset 3: unterminated object\"");
    }
    {
        Event e = push(PushStatus::Queued, "the offline store could not take it");
        e.source = PushSource::Http;
        row("push-store-failed", e,
            "debug push source=http result=queued uid=1001 size=5 from=127.0.0.1:4000 "
            "reason=\"the offline store could not take it\" text=hello");
    }
    {
        Event e = push(PushStatus::Ok, "stored while offline");
        e.peer = QStringLiteral("offline store");
        row("push-offline", e,
            "debug push source=text result=ok delivered=1 uid=1001 size=5 from=\"offline "
            "store\" reason=\"stored while offline\" text=hello");
    }
    {
        Event e = push(PushStatus::Error, "line too long (limit 65536 bytes); connection closed");
        e.level = Event::Level::Warning;
        e.uid.clear();
        e.size = -1;
        e.text.clear();
        row("push-line-too-long", e,
            "warning push source=text result=error from=127.0.0.1:4000 reason=\"line too long "
            "(limit 65536 bytes); connection closed\"");
    }
    row("error-fds", error("out of file descriptors: WebSocket connection refused"),
        "warning error reason=\"out of file descriptors: WebSocket connection refused\"");
    {
        Event e = error("stored message larger than --max-output (100 bytes): dropped");
        e.uid = "1001";
        e.size = 300;
        row("error-stored-too-large", e,
            "warning error uid=1001 size=300 reason=\"stored message larger than --max-output "
            "(100 bytes): dropped\"");
    }
    {
        Event e = error("unsupported proxy header: the proxy's address counts instead");
        e.connection = 42;
        e.peer = QStringLiteral("10.1.2.3:50912");
        row("error-forwarded-for", e,
            "warning error conn=42 peer=10.1.2.3:50912 reason=\"unsupported proxy header: the "
            "proxy's address counts instead\"");
    }
    row("error-repeated",
        error("4 more in the last 10 s (last: offline store: write failed: disk full)"),
        "warning error reason=\"4 more in the last 10 s (last: offline store: write failed: disk "
        "full)\"");
    row("cluster-up",
        make(Event::Type::Cluster, Event::Level::Info,
            "state=up node=a redis=redis://r:6379 nodes=2 remote-uids=10"),
        "info cluster state=up node=a redis=redis://r:6379 nodes=2 remote-uids=10");
    row("reload-ok",
        make(Event::Type::Reloaded, Event::Level::Info,
            "result=ok applied=log-level reloaded=none restart-needed=none"),
        "info reload result=ok applied=log-level reloaded=none restart-needed=none");
    row("reload-refused",
        make(Event::Type::Reloaded, Event::Level::Error,
            "result=refused error=\"bad 'x'\" changed=none"),
        "error reload result=refused error=\"bad 'x'\" changed=none");
    return out;
}

} // namespace

void tst_Events::renderingPins_data()
{
    QTest::addColumn<Event>("event");
    QTest::addColumn<QByteArray>("line");
    for (const Pin &p : pins())
        QTest::newRow(p.name) << p.event << p.line;
}

void tst_Events::renderingPins()
{
    QFETCH(Event, event);
    QFETCH(QByteArray, line);
    QCOMPARE(ConsoleLogger::format(event), line);
}

namespace {

using R = Event::Reason;

Event at(Event e)
{
    e.time = At;
    return e;
}

Event withLevel(Event e, Event::Level level)
{
    e.level = level;
    return e;
}

// Sample arguments for a reason: numbers for '#', a nested reason for '@'.
QStringList sampleArgs(R reason)
{
    QStringList args;
    int n = 0;
    for (const QString &name : Event::reasonArgNames(reason)) {
        ++n;
        if (name.startsWith(QLatin1Char('#')))
            args << QString::number(n * 10);
        else if (name.startsWith(QLatin1Char('@')))
            args << QStringLiteral("slow_consumer") << QStringLiteral("4194304");
        else
            args << QStringLiteral("v%1 \"q\" 中").arg(n);
    }
    return args;
}

} // namespace

void tst_Events::factoriesRenderAsBefore_data()
{
    QTest::addColumn<Event>("event");
    QTest::addColumn<QByteArray>("line");
    QHash<QByteArray, QByteArray> lines;
    for (const Pin &p : pins())
        lines.insert(p.name, p.line);
    const QString peer = QStringLiteral("10.1.2.3:50912");
    const auto row = [&](const char *name, const Event &e) {
        QVERIFY2(lines.contains(name), name);
        QTest::newRow(name) << at(e) << lines.value(name);
    };
    row("listening",
        Events::listening({QStringLiteral("0.0.0.0:8080"), QStringLiteral("127.0.0.1:9000"),
            QStringLiteral("off"), QStringLiteral("1024"), QStringLiteral("epoll"),
            QStringLiteral("on"), QStringLiteral("HS256"), QStringLiteral("10.0.0.0/8"),
            QStringLiteral("on"), QStringLiteral("a"), QStringLiteral("redis://r:6379"),
            QStringLiteral("sqlite:/var/lib/x.db"), QStringLiteral("on")}));
    row("listening-plain",
        Events::listening({QStringLiteral("0.0.0.0:8080"), QStringLiteral("127.0.0.1:9000"),
            QStringLiteral("off"), QStringLiteral("1024"), QStringLiteral("default"), QString(),
            QString(), QString(), QString(), QString(), QString(), QString(), QString()}));
    row("stopped", Events::listenersClosed());
    row("shutdown", Events::shutdownDone(3, 1, 77));
    row("connect", Events::connected(42, peer, "/ws?x=1"));
    row("bind", Events::bound(42, "1001", peer));
    row("reject-invalid-uid",
        Events::rejected(Event::Level::Warning, 42, {}, peer,
            Events::fromEnglish(QStringLiteral("invalid uid")), 3, "a b"));
    row("reject-uid-limit",
        Events::rejected(
            Event::Level::Warning, 42, "1001", peer, Events::why(R::UidLimitOtherTokens, 2)));
    row("reject-handshake",
        withLevel(
            Events::rejected(Event::Level::Info, 42, {}, peer,
                Events::why(R::HandshakeRefused, {QStringLiteral("not a WebSocket upgrade")})),
            Event::Level::Warning));
    row("reject-protocol",
        Events::rejected(Event::Level::Warning, 42, {}, peer,
            Events::fromEnglish(QStringLiteral("invalid UTF-8"))));
    row("reject-refused",
        Events::refused(Event::Type::Rejected, peer, Events::why(R::AddressLimit, 5)));
    row("reject-summary",
        Events::refused(Event::Type::Rejected, QString(),
            Events::wrap(
                R::RefusalsRepeated, {QStringLiteral("7")}, Events::why(R::ConnectionLimit, 9))));
    row("close-client",
        Events::closed(
            42, "1001", peer, Events::fromEnglish(QStringLiteral("client closed")), 12, 1000));
    row("close-client-reason",
        Events::closed(42, "1001", peer,
            Events::fromEnglish(QStringLiteral("client closed: bye \"now\"")), 12, 1000));
    row("close-slow",
        withLevel(
            Events::closed(42, "1001", peer, Events::why(R::SlowConsumer, 4194304), 12, 0, 512),
            Event::Level::Info));
    row("close-heartbeat",
        Events::closed(42, "1001", peer,
            Events::fromEnglish(QStringLiteral("heartbeat timeout (idle 75 s)")), 12));
    row("close-closed", Events::closed(42, "1001", peer, Events::why(R::Closed), 12, 1000));
    row("close-push",
        withLevel(Events::closed(0, {}, QStringLiteral("127.0.0.1:4000"),
                      Events::wrap(R::PushConnection, {}, Events::why(R::LineTimeout, 5000)), 9),
            Event::Level::Warning));
    row("close-evictions",
        withLevel(Events::refused(Event::Type::Closed, QString(),
                      Events::wrap(R::EvictionsRepeated, {QStringLiteral("3")},
                          Events::why(R::EvictedUnbound, 100))),
            Event::Level::Warning));
    row("message", Events::message(42, "1001", "hi"));
    {
        Event e = Events::pushed(
            PushSource::TextPort, Event::Level::Debug, QStringLiteral("127.0.0.1:4000"));
        e.uid = "1001";
        e.size = 5;
        e.text = "hello";
        e.delivered = 1;
        row("push-ok", e);
        e.peer = QStringLiteral("offline store");
        e.reason = R::StoredWhileOffline;
        row("push-offline", e);
        e.peer = QStringLiteral("127.0.0.1:4000");
        e.source = PushSource::Http;
        e.status = PushStatus::Queued;
        e.delivered = 0;
        e.reason = R::StoreFailed;
        row("push-store-failed", e);
        e.source = PushSource::TextPort;
        e.status = PushStatus::Error;
        e.level = Event::Level::Warning;
        e.uid.clear();
        const Events::Why json =
            Events::fromEnglish(QStringLiteral("invalid JSON at offset 3: unterminated object"));
        QCOMPARE(json.reason, R::InvalidJson);
        e.reason = json.reason;
        e.args = json.args;
        row("push-error", e);
        e.reason = R::LineTooLong;
        e.args = QStringList {QStringLiteral("65536")};
        e.size = -1;
        e.text.clear();
        row("push-line-too-long", e);
    }
    row("error-fds", Events::error(Event::Level::Warning, Events::why(R::OutOfFdsWs)));
    {
        Event e = Events::error(Event::Level::Warning, Events::why(R::StoredTooLarge, 100));
        e.uid = "1001";
        e.size = 300;
        row("error-stored-too-large", e);
    }
    {
        Event e = Events::error(Event::Level::Warning,
            Events::why(R::ForwardedForIgnored, {QStringLiteral("unsupported proxy header")}));
        e.connection = 42;
        e.peer = peer;
        row("error-forwarded-for", e);
    }
    row("error-repeated",
        Events::error(Event::Level::Warning,
            Events::wrap(R::Repeated, {QStringLiteral("4"), QStringLiteral("10")},
                Events::why(
                    R::OfflineFailed, {QStringLiteral("write"), QStringLiteral("disk full")}))));
    row("cluster-up",
        Events::cluster(false,
            Events::why(R::ClusterUp,
                {QStringLiteral("a"), QStringLiteral("redis://r:6379"), QStringLiteral("2"),
                    QStringLiteral("10")})));
    row("reload-ok", Events::reloadOk({QStringLiteral("log-level")}, {}, {}));
    row("reload-refused", Events::reloadRefused(QStringLiteral("bad \"x\"")));
}

void tst_Events::factoriesRenderAsBefore()
{
    QFETCH(Event, event);
    QFETCH(QByteArray, line);
    QVERIFY(event.detail.isEmpty()); // typed: nothing hand-written
    QVERIFY(event.reason != R::None || event.type == Event::Type::Bound
        || event.type == Event::Type::MessageIn || event.type == Event::Type::Push);
    QCOMPARE(ConsoleLogger::format(event), line);
}

void tst_Events::everyReasonRendersInEnglish()
{
    QSet<QString> codes;
    for (R r : Event::allReasons()) {
        const QString code = QLatin1String(Event::reasonCode(r));
        QVERIFY2(!codes.contains(code), qPrintable(code));
        codes.insert(code);
        QVERIFY(
            QRegularExpression(QStringLiteral("^[a-z0-9]+(_[a-z0-9]+)*$")).match(code).hasMatch());
        R back = R::None;
        QVERIFY(Event::reasonFromCode(code, &back));
        QCOMPARE(back, r);
        Event e;
        e.reason = r;
        e.args = sampleArgs(r);
        QVERIFY2(!e.englishDetail().isEmpty(), qPrintable(code));
        QVERIFY2(!e.englishDetail().contains(QLatin1Char('%')), qPrintable(code));
    }
}

void tst_Events::englishMapsBackToItsReason()
{
    // The texts the WebSocket and push connections still pass as text.
    for (R r : Event::allReasons()) {
        const QStringList names = Event::reasonArgNames(r);
        if (r == R::Listening || r == R::Text || r == R::Warning || r == R::StartFailed
            || r == R::ForwardedForIgnored || r == R::Opened
            || std::any_of(names.begin(), names.end(),
                [](const QString &n) { return n.startsWith(QLatin1Char('@')); }))
            continue;
        const QString english = Events::english(Events::why(r, sampleArgs(r)));
        const Events::Why back = Events::fromEnglish(english);
        QCOMPARE(Events::english(back), english);
        QCOMPARE(back.reason, r);
    }
    // Free text nested in a reason that adds to it.
    QCOMPARE(Events::english(Events::wrap(R::HttpApiRefused, {},
                 Events::fromEnglish(QStringLiteral("request from origin \"x\" refused")))),
        QStringLiteral("HTTP API: request from origin \"x\" refused"));
    const Events::Why other = Events::fromEnglish(QStringLiteral("something new"));
    QCOMPARE(other.reason, R::Text);
    QCOMPARE(other.args, QStringList {QStringLiteral("something new")});
    // A number where a number goes, or it is not that reason.
    QCOMPARE(Events::fromEnglish(QStringLiteral("heartbeat timeout (idle x s)")).reason, R::Text);
}

void tst_Events::jsonRoundTrip_data()
{
    QTest::addColumn<Event>("event");
    for (R r : Event::allReasons()) {
        Event e = at(Event());
        e.type = r == R::Listening ? Event::Type::Listening : Event::Type::Closed;
        e.level = Event::Level::Warning;
        e.reason = r;
        e.args = sampleArgs(r);
        e.connection = 42;
        e.uid = "1001";
        e.peer = QStringLiteral("10.1.2.3:50912");
        e.size = 12;
        if (e.type == Event::Type::Closed) { // only a close sends these
            e.closeCode = 1000;
            e.discarded = 7;
        }
        QTest::newRow(Event::reasonCode(r)) << e;
    }
    for (const Pin &p : pins()) {
        if (p.event.reason == R::None && p.event.detail.isEmpty())
            QTest::newRow(p.name) << p.event;
    }
    Event push = Events::pushed(PushSource::Cluster, Event::Level::Debug, QStringLiteral("node:b"));
    push.time = At;
    push.status = PushStatus::Fail;
    push.dropped = 2;
    push.text = "x\xff"; // invalid UTF-8 becomes U+FFFD on the wire
    QTest::newRow("push-fail") << push;
}

void tst_Events::jsonRoundTrip()
{
    QFETCH(Event, event);
    const QJsonObject json = event.toJson();
    // Through text, as the stream sends it.
    const QJsonObject parsed = QJsonDocument::fromJson(QJsonDocument(json).toJson()).object();
    const std::optional<Event> back = Event::fromJson(parsed);
    QVERIFY(back);
    QCOMPARE(back->time, event.time);
    QCOMPARE(back->type, event.type);
    QCOMPARE(back->level, event.level);
    QCOMPARE(back->reason, event.reason);
    QCOMPARE(back->args, event.args);
    QCOMPARE(back->connection, event.connection);
    QCOMPARE(back->uid, event.uid);
    QCOMPARE(back->peer, event.peer);
    QCOMPARE(back->size, event.size);
    QCOMPARE(back->source, event.source);
    QCOMPARE(back->status, event.status);
    QCOMPARE(back->delivered, event.delivered);
    QCOMPARE(back->dropped, event.dropped);
    QCOMPARE(back->closeCode, event.closeCode);
    QCOMPARE(back->discarded, event.discarded);
    QCOMPARE(back->text, QString::fromUtf8(event.text).toUtf8());
    QCOMPARE(back->englishDetail(), event.englishDetail());
    QCOMPARE(back->toJson(), json);
}

void tst_Events::jsonForm()
{
    Event e = Events::closed(42, "1001", QStringLiteral("10.1.2.3:50912"),
        Events::why(R::SlowConsumer, 4194304), 12, 1000, 0);
    e.time = At;
    const QJsonObject o = e.toJson();
    QCOMPARE(o.value(QLatin1String("time")).toString(), QStringLiteral("2026-12-02T08:00:01.004Z"));
    QCOMPARE(o.value(QLatin1String("type")).toString(), QStringLiteral("close"));
    QCOMPARE(o.value(QLatin1String("level")).toString(), QStringLiteral("info"));
    QCOMPARE(o.value(QLatin1String("reason")).toString(), QStringLiteral("slow_consumer"));
    QCOMPARE(o.value(QLatin1String("args")).toObject().value(QLatin1String("limit")).toDouble(),
        4194304.0);
    QCOMPARE(o.value(QLatin1String("conn")).toDouble(), 42.0);
    QCOMPARE(o.value(QLatin1String("uid")).toString(), QStringLiteral("1001"));
    QCOMPARE(o.value(QLatin1String("size")).toDouble(), 12.0);
    QCOMPARE(o.value(QLatin1String("closeCode")).toInt(), 1000);
    QCOMPARE(o.value(QLatin1String("discarded")).toInt(), 0);
    QCOMPARE(o.value(QLatin1String("detail")).toString(),
        QStringLiteral("slow consumer: output queue over 4194304 bytes"));
    QVERIFY(!o.contains(QLatin1String("source")));
    QVERIFY(!o.contains(QLatin1String("text")));
    // Nothing empty is sent.
    const QJsonObject bind = Events::bound(0, {}, {}).toJson();
    for (const char *key :
        {"reason", "args", "conn", "uid", "peer", "size", "text", "detail", "closeCode", "status"})
        QVERIFY2(!bind.contains(QLatin1String(key)), key);
    // A nested reason's arguments under its name.
    const QJsonObject summary = Events::refused(Event::Type::Rejected, QString(),
        Events::wrap(
            R::RefusalsRepeated, {QStringLiteral("7")}, Events::why(R::ConnectionLimit, 9)))
                                    .toJson();
    const QJsonObject args = summary.value(QLatin1String("args")).toObject();
    QCOMPARE(args.value(QLatin1String("count")).toInt(), 7);
    QCOMPARE(args.value(QLatin1String("last")).toString(), QStringLiteral("connection_limit"));
    QCOMPARE(args.value(QLatin1String("last_limit")).toInt(), 9);
}

void tst_Events::jsonUnknownReasonKeepsDetail()
{
    const QJsonObject o = QJsonDocument::fromJson(
        R"({"time":"2026-12-02T08:00:01.004Z","type":"close","level":"info",
            "reason":"quantum_flux","args":{"x":1},"conn":7,"detail":"flux capacitor",
            "future":[1,2]})")
                              .object();
    const std::optional<Event> e = Event::fromJson(o);
    QVERIFY(e);
    QCOMPARE(e->reason, R::Unknown);
    QCOMPARE(e->englishDetail(), QStringLiteral("flux capacitor"));
    QCOMPARE(e->connection, quint64(7));
    // Passed on as it came.
    QCOMPARE(e->toJson().value(QLatin1String("reason")).toString(), QStringLiteral("quantum_flux"));
    QCOMPARE(
        e->toJson().value(QLatin1String("detail")).toString(), QStringLiteral("flux capacitor"));
}

void tst_Events::jsonMalformed()
{
    const QByteArray bad[] = {
        "{}",
        R"({"type":"close"})",
        R"({"time":"2026-12-02T08:00:01.004Z"})",
        R"({"time":"yesterday","type":"close"})",
        R"({"time":12,"type":"close"})",
        R"({"time":"2026-12-02T08:00:01.004Z","type":""})",
        R"({"time":"2026-12-02T08:00:01.004Z","type":7})",
        R"({"time":["x"],"type":{"a":1}})",
    };
    for (const QByteArray &text : bad)
        QVERIFY2(!Event::fromJson(QJsonDocument::fromJson(text).object()), text.constData());
    // Wrong kinds and absurd values: an event still, every field in range.
    const std::optional<Event> odd = Event::fromJson(QJsonDocument::fromJson(
        R"({"time":"2026-12-02T08:00:01.004Z","type":"push","level":"loud","reason":"slow_consumer",
            "args":{"limit":"lots"},"conn":-5,"size":1e300,"uid":17,"delivered":-1,
            "dropped":1e20,"source":"moon","status":7,"closeCode":99999})")
                                                         .object());
    QVERIFY(odd);
    QCOMPARE(odd->level, Event::Level::Info);
    QCOMPARE(odd->connection, quint64(0));
    QCOMPARE(odd->size, qint64(-1));
    QVERIFY(odd->uid.isEmpty());
    QCOMPARE(odd->delivered, 0);
    QCOMPARE(odd->dropped, 0);
    QCOMPARE(odd->args, QStringList {QStringLiteral("lots")});
    QVERIFY(!odd->englishDetail().isEmpty());
    // Random objects built from the real keys: never a crash, always bounded.
    const char *keys[] = {"time", "type", "level", "reason", "args", "conn", "uid", "peer", "size",
        "text", "source", "status", "delivered", "dropped", "closeCode", "discarded", "detail"};
    const QJsonValue values[] = {QJsonValue(), QJsonValue(true), QJsonValue(-1), QJsonValue(1e18),
        QJsonValue(QStringLiteral("2026-12-02T08:00:01.004Z")), QJsonValue(QStringLiteral("close")),
        QJsonValue(QStringLiteral("push")), QJsonValue(QStringLiteral("repeated")),
        QJsonValue(QString(5000, QLatin1Char('x'))), QJsonValue(QJsonArray {1, 2}),
        QJsonValue(QJsonObject {{QStringLiteral("last"), QStringLiteral("repeated")},
            {QStringLiteral("last_last"), QStringLiteral("repeated")},
            {QStringLiteral("count"), QString(5000, QLatin1Char('y'))}})};
    QRandomGenerator random(12);
    for (int i = 0; i < 3000; ++i) {
        QJsonObject o;
        for (const char *key : keys) {
            if (random.bounded(3) != 0)
                o.insert(QLatin1String(key), values[random.bounded(int(std::size(values)))]);
        }
        const std::optional<Event> e = Event::fromJson(o);
        if (!e)
            continue;
        QVERIFY(e->uid.size() <= Event::MaxString);
        QVERIFY(e->text.size() <= Event::MaxText);
        QVERIFY(e->args.size() <= Event::MaxArgs);
        qsizetype total = 0;
        for (const QString &a : e->args)
            total += a.size();
        QVERIFY(total <= Event::MaxArgsTotal + Event::MaxArgs);
        e->toJson();
        ConsoleLogger::format(*e);
    }
}

void tst_Events::limitBoundsArguments()
{
    Event e = Events::error(Event::Level::Warning,
        Events::why(
            R::OfflineFailed, {QString(10000, QLatin1Char('a')), QString(10000, QChar(0x4E2D))}));
    for (int i = 0; i < 50; ++i)
        e.args << QString(1000, QLatin1Char('z'));
    e.limit();
    QCOMPARE(e.args.size(), Event::MaxArgs);
    qsizetype total = 0;
    for (const QString &a : e.args) {
        QVERIFY(a.toUtf8().size() <= Event::MaxString);
        total += a.size();
    }
    QVERIFY(total <= Event::MaxArgsTotal + Event::MaxArgs);
    QVERIFY(e.englishDetail().startsWith(QLatin1String("offline store: aaa")));
    // The operator's own listening text is never cut.
    Event l = Events::listening({QString(1000, QLatin1Char('w'))});
    l.limit();
    QCOMPARE(l.args.first().size(), 1000);
}

QTEST_GUILESS_MAIN(tst_Events)
#include "tst_events.moc"
