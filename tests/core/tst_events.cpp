#include "ConsoleLogger.h"
#include "Event.h"

#include <QTest>

// Pins the headless log's rendering of every kind of event, byte for byte:
// log shippers and scripts split these lines.
class tst_Events : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void renderingPins_data();
    void renderingPins();
};

namespace {

constexpr qint64 At = 1796198401004; // 2026-12-02T08:00:01.004Z

Event make(Event::Type type, Event::Level level, const QString &detail)
{
    Event e;
    e.time = At;
    e.type = type;
    e.level = level;
    e.detail = detail;
    return e;
}

Event closed(const QString &reason, qint64 discarded = 0, int code = 1000)
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

Event rejected(const QString &reason)
{
    Event e = make(Event::Type::Rejected, Event::Level::Warning, reason);
    e.connection = 42;
    e.peer = QStringLiteral("10.1.2.3:50912");
    return e;
}

Event error(const QString &detail)
{
    return make(Event::Type::Error, Event::Level::Warning, detail);
}

Event push(PushStatus status, const QString &detail)
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

} // namespace

void tst_Events::renderingPins_data()
{
    QTest::addColumn<Event>("event");
    QTest::addColumn<QByteArray>("line");
    const QByteArray t = "2026-12-02T08:00:01.004Z ";
    const auto row = [&](const char *name, const Event &e, const QByteArray &rest) {
        QTest::newRow(name) << e << (t + rest + '\n');
    };
    // The ones each call site builds today (the text as it is built there).
    row("listening",
        make(Event::Type::Listening, Event::Level::Info,
            "ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=epoll tls=on "
            "auth=HS256 trusted-proxies=10.0.0.0/8 proxy-protocol=on node=a redis=redis://r:6379 "
            "offline=sqlite:/var/lib/x.db"),
        "info listening ws=0.0.0.0:8080 text=127.0.0.1:9000 http=off max-fds=1024 loop=epoll "
        "tls=on auth=HS256 trusted-proxies=10.0.0.0/8 proxy-protocol=on node=a "
        "redis=redis://r:6379 offline=sqlite:/var/lib/x.db");
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
        row("connect", e, "info connect conn=42 peer=10.1.2.3:50912 path=/ws?x=1");
    }
    {
        Event e = make(Event::Type::Bound, Event::Level::Info, QString());
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
        Event e = make(Event::Type::MessageIn, Event::Level::Debug, QString());
        e.connection = 42;
        e.uid = "1001";
        e.size = 2;
        e.text = "hi";
        row("message", e, "debug message conn=42 uid=1001 size=2 text=hi");
    }
    row("push-ok", push(PushStatus::Ok, QString()),
        "debug push source=text result=ok delivered=1 uid=1001 size=5 from=127.0.0.1:4000 "
        "text=hello");
    {
        Event e = push(PushStatus::Fail, QString());
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
}

void tst_Events::renderingPins()
{
    QFETCH(Event, event);
    QFETCH(QByteArray, line);
    QCOMPARE(ConsoleLogger::format(event), line);
}

QTEST_GUILESS_MAIN(tst_Events)
#include "tst_events.moc"
