#include "HttpTestSupport.h"
#include "PrometheusParser.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "HttpApi.h"
#include "MetricList.h"
#include "Metrics.h"
#include "PrometheusExporter.h"

#include <QRegularExpression>

#include <cmath>
#include <cstring>
#include <type_traits>

using namespace TestSupport;
using namespace HttpTestSupport;

// GET /metrics scraped by a real curl, read back with a strict parser of the
// Prometheus text format, and the numbers checked against the traffic.
class tst_Metrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void curlScrapeParsesAndCounts();
    void latencyHistogramCountsEveryDelivery();
    void exporterEscapesAndFormats();
    void everyCounterIsExported();
    void pushPortCountersAreExported();
    void referenceListsWhatIsExported();
    void parserRejectsBrokenText_data();
    void parserRejectsBrokenText();
};

void tst_Metrics::curlScrapeParsesAndCounts()
{
    REQUIRE_PROGRAM("curl");
    const QString curl = programPath(QStringLiteral("curl"));
    auto server = startServer();
    QVERIFY(server);

    // Traffic of every kind: two uids, three connections, pushes from the
    // text port, the HTTP API and the console, a malformed one, a kick.
    WsClient a1(server->wsPort());
    WsClient a2(server->wsPort());
    WsClient b(server->wsPort());
    QVERIFY(a1.bind("a", server.get()));
    QVERIFY(a2.bind("a", server.get()));
    QVERIFY(b.bind("b", server.get()));
    TextClient backend(server->textPort());
    QCOMPARE(backend.request(pushLine("a", "1")), QByteArray("ok\n"));
    QCOMPARE(backend.request(pushLine("nobody", "2")), QByteArray("fail\n"));
    QVERIFY(backend.request("{nope").startsWith("error: invalid JSON at offset 1: "));
    const QString push = QStringLiteral("http://127.0.0.1:%1/api/push").arg(server->httpPort());
    Run r = run(curl,
        {QStringLiteral("-sS"), QStringLiteral("-H"),
            QStringLiteral("Content-Type: application/json"), QStringLiteral("-d"),
            QString::fromUtf8(pushLine("b", "3")), push});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.constData());
    QCOMPARE(r.out, QByteArray(R"({"result":"ok","delivered":1})"));
    server->router()->push(pushLine("a", "4"), PushSource::Console, QStringLiteral("console"));
    QVERIFY(a1.waitForMessages(2));
    QVERIFY(a2.waitForMessages(2));
    QVERIFY(b.waitForMessages(1));
    a1.socket.sendTextMessage(QStringLiteral("hello from a1"));
    WAIT_COMPARE_GE(server->metrics().messagesIn, 4);
    QCOMPARE(server->kick("b"), 1);
    QVERIFY(b.waitForDisconnected());
    WAIT_VERIFY(!server->registry()->isOnline("b"));

    r = run(curl,
        {QStringLiteral("-sS"), QStringLiteral("--fail"), QStringLiteral("-D"), QStringLiteral("-"),
            QStringLiteral("http://127.0.0.1:%1/metrics").arg(server->httpPort())});
    QVERIFY2(r.finished && r.exitCode == 0, r.err.constData());
    const qsizetype headEnd = r.out.indexOf("\r\n\r\n");
    QVERIFY(headEnd > 0);
    const QByteArray head = r.out.left(headEnd);
    const QByteArray text = r.out.mid(headEnd + 4);
    QVERIFY2(head.startsWith("HTTP/1.1 200 "), head.constData());
    QVERIFY2(head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"),
        head.constData());

    PrometheusParser parser;
    QVERIFY2(parser.parse(text),
        qPrintable(parser.error() + QLatin1Char('\n') + QString::fromUtf8(text)));

    for (const char *family : {"pushconsole_connections", "pushconsole_bound_connections",
             "pushconsole_bound_uids", "pushconsole_pushes_total", "pushconsole_messages_in_total",
             "pushconsole_messages_out_total", "pushconsole_bytes_in_total",
             "pushconsole_bytes_out_total", "pushconsole_evictions_total",
             "pushconsole_push_latency_seconds", "pushconsole_start_time_seconds"})
        QVERIFY2(parser.families().contains(family), family);
    QCOMPARE(
        parser.families().value("pushconsole_push_latency_seconds").type, QByteArray("histogram"));

    QCOMPARE(parser.value("pushconsole_connections"), 2.0);
    QCOMPARE(parser.value("pushconsole_bound_connections"), 2.0);
    QCOMPARE(parser.value("pushconsole_bound_uids"), 1.0);
    QVERIFY(parser.value("pushconsole_http_connections") >= 1); // curl's own
    const auto pushes = [&](const char *source, const char *result) {
        return parser.value("pushconsole_pushes_total", {{"source", source}, {"result", result}});
    };
    QCOMPARE(pushes("text", "ok"), 1.0);
    QCOMPARE(pushes("text", "fail"), 1.0);
    QCOMPARE(pushes("text", "error"), 1.0);
    QCOMPARE(pushes("http", "ok"), 1.0);
    QCOMPARE(pushes("http", "fail"), 0.0);
    QCOMPARE(pushes("console", "ok"), 1.0);
    QCOMPARE(parser.value("pushconsole_messages_out_total"), 5.0); // 2 + 1 + 2
    QCOMPARE(parser.value("pushconsole_messages_in_total"), 4.0); // 3 binds + 1 message
    QVERIFY(parser.value("pushconsole_bytes_out_total") > 0);
    QVERIFY(parser.value("pushconsole_bytes_in_total") > 0);
    QCOMPARE(parser.value("pushconsole_evictions_total", {{"reason", "kicked"}}), 1.0);
    QCOMPARE(parser.value("pushconsole_evictions_total", {{"reason", "heartbeat"}}), 0.0);
    // Valid pushes: 1 + 1 (text), 1 (http), 1 (console); the malformed one is not timed.
    QCOMPARE(parser.value("pushconsole_push_latency_seconds_count"), 4.0);
    QCOMPARE(parser.value("pushconsole_push_latency_seconds_bucket", {{"le", "+Inf"}}), 4.0);
    QVERIFY(parser.value("pushconsole_push_latency_seconds_sum") > 0);
    QVERIFY(parser.value("pushconsole_push_latency_seconds_sum") < 1);
    const double started = parser.value("pushconsole_start_time_seconds");
    QVERIFY(std::abs(started - QDateTime::currentMSecsSinceEpoch() / 1000.0) < 60);
    QCOMPARE(parser.value("pushconsole_http_responses_total", {{"code", "200"}}), 1.0);
}

void tst_Metrics::latencyHistogramCountsEveryDelivery()
{
    auto server = startServer();
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("1", server.get()));
    for (int i = 0; i < 50; ++i)
        server->router()->push(pushLine("1", "x"), PushSource::Console);
    server->router()->push("not json", PushSource::Console);
    const Metrics &m = server->metrics();
    QCOMPARE(m.pushLatencyCount(), 50u);
    QVERIFY(m.pushLatencySumNs > 0);
    PrometheusParser parser;
    const QByteArray text = server->httpApi()->metricsText();
    QVERIFY2(parser.parse(text), qPrintable(parser.error()));
    QCOMPARE(parser.value("pushconsole_push_latency_seconds_count"), 50.0);
    // Each bucket's bound in seconds; the smallest is 5 µs.
    QCOMPARE(parser.families()
                 .value("pushconsole_push_latency_seconds")
                 .samples.front()
                 .labels.value("le"),
        QByteArray("5e-06"));
}

void tst_Metrics::exporterEscapesAndFormats()
{
    QCOMPARE(PrometheusExporter::formatValue(0), QByteArray("0"));
    QCOMPARE(PrometheusExporter::formatValue(12345678901234.0), QByteArray("12345678901234"));
    QCOMPARE(PrometheusExporter::formatValue(0.25), QByteArray("0.25"));
    QCOMPARE(PrometheusExporter::formatValue(qInf()), QByteArray("+Inf"));

    PrometheusExporter out;
    out.family("t_total", "counter", "Help with a \\ backslash\nand a new line.");
    out.sample("t_total", {{"v", "a \"quoted\" \\ value\nnext"}}, 3);
    out.histogram("h_seconds", "A histogram.", std::array<double, 2> {0.5, 1}.data(), 2,
        std::array<quint64, 3> {1, 2, 3}.data(), 4.5);
    PrometheusParser parser;
    QVERIFY2(parser.parse(out.text()),
        qPrintable(parser.error() + QLatin1Char('\n') + QString::fromUtf8(out.text())));
    QCOMPARE(parser.value("t_total", {{"v", "a \"quoted\" \\ value\nnext"}}), 3.0);
    QCOMPARE(parser.value("h_seconds_bucket", {{"le", "0.5"}}), 1.0);
    QCOMPARE(parser.value("h_seconds_bucket", {{"le", "1"}}), 3.0);
    QCOMPARE(parser.value("h_seconds_bucket", {{"le", "+Inf"}}), 6.0);
    QCOMPARE(parser.value("h_seconds_count"), 6.0);
    QCOMPARE(parser.value("h_seconds_sum"), 4.5);
}

void tst_Metrics::everyCounterIsExported()
{
    // Every field of Metrics gets its own value; each must come out as a
    // sample of /metrics. A counter added to Metrics and not to the metric
    // list fails here.
    static_assert(std::is_trivially_copyable_v<Metrics> && std::is_standard_layout_v<Metrics>);
    static_assert(sizeof(Metrics) % sizeof(quint64) == 0);
    constexpr size_t FieldCount = sizeof(Metrics) / sizeof(quint64);
    quint64 values[FieldCount];
    for (size_t i = 0; i < FieldCount; ++i)
        values[i] = 1000003 + 7919 * i;
    Metrics m;
    std::memcpy(static_cast<void *>(&m), values, sizeof m);
    MetricInputs in;
    in.metrics = &m;
    in.startedAt = QDateTime::currentDateTimeUtc();
    const QByteArray text = MetricList::prometheus(in);
    PrometheusParser parser;
    QVERIFY2(parser.parse(text), qPrintable(parser.error()));
    QSet<double> exported;
    for (const PrometheusParser::Family &f : parser.families()) {
        for (const PrometheusParser::Sample &s : f.samples)
            exported.insert(s.value);
    }
    // The histogram's buckets come out summed (cumulative), its sum in
    // seconds: they are checked in latencyHistogramCountsEveryDelivery.
    const size_t latencyFirst = offsetof(Metrics, pushLatency) / sizeof(quint64);
    const size_t latencyEnd = offsetof(Metrics, pushLatencySumNs) / sizeof(quint64) + 1;
    for (size_t i = 0; i < FieldCount; ++i) {
        if (i >= latencyFirst && i < latencyEnd)
            continue;
        QVERIFY2(exported.contains(double(values[i])),
            qPrintable(QStringLiteral("field %1 of Metrics (value %2) is not exported")
                           .arg(i)
                           .arg(values[i])));
    }
}

void tst_Metrics::pushPortCountersAreExported()
{
    Config config = loopbackConfig();
    config.textLineTimeoutMs = 300;
    auto server = startServer(config);
    QVERIFY(server);
    // A web page's request on the push port, and a line never finished.
    TextClient page(server->textPort());
    page.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QVERIFY(page.waitForDisconnected());
    TextClient slow(server->textPort());
    slow.send(R"({"uid":"1")");
    QVERIFY(slow.waitForDisconnected());
    PrometheusParser parser;
    QVERIFY2(parser.parse(server->httpApi()->metricsText()), qPrintable(parser.error()));
    QCOMPARE(parser.value("pushconsole_text_http_requests_total"), 1.0);
    QCOMPARE(parser.value("pushconsole_text_timeouts_total", {{"deadline", "line"}}), 1.0);
    QCOMPARE(parser.value("pushconsole_text_timeouts_total", {{"deadline", "idle"}}), 0.0);
    // Off without --redis and --offline-ttl, and said so.
    QCOMPARE(parser.value("pushconsole_cluster_up"), 0.0);
    QCOMPARE(parser.value("pushconsole_offline_available"), 0.0);
}

void tst_Metrics::referenceListsWhatIsExported()
{
    // docs/metrics.md (--help-metrics) has one row per family of /metrics.
    auto server = startServer();
    QVERIFY(server);
    PrometheusParser parser;
    QVERIFY2(parser.parse(server->httpApi()->metricsText()), qPrintable(parser.error()));
    const QString reference = MetricList::markdown();
    QSet<QByteArray> documented;
    const QRegularExpression row(QStringLiteral("^\\| `(pushconsole_[a-z_]+)` \\| ([a-z]+) \\|"),
        QRegularExpression::MultilineOption);
    for (auto it = row.globalMatch(reference); it.hasNext();) {
        const auto match = it.next();
        const QByteArray name = match.captured(1).toUtf8();
        QVERIFY2(parser.families().contains(name), name.constData());
        QCOMPARE(parser.families().value(name).type, match.captured(2).toUtf8());
        documented.insert(name);
    }
    for (const QByteArray &name : parser.families().keys())
        QVERIFY2(documented.contains(name), name.constData());
}

void tst_Metrics::parserRejectsBrokenText_data()
{
    // The parser must be able to say no, or the scrape test proves nothing.
    QTest::addColumn<QByteArray>("text");
    const QByteArray hist = "# HELP h A.\n# TYPE h histogram\n";
    QTest::newRow("no final newline")
        << QByteArray("# HELP a_total A.\n# TYPE a_total counter\na_total 1");
    QTest::newRow("sample before TYPE")
        << QByteArray("a_total 1\n# HELP a_total A.\n# TYPE a_total counter\n");
    QTest::newRow("no HELP") << QByteArray("# TYPE a_total counter\na_total 1\n");
    QTest::newRow("second TYPE") << QByteArray(
        "# HELP a A.\n# TYPE a gauge\n# TYPE a gauge\na 1\n");
    QTest::newRow("bad value") << QByteArray("# HELP a A.\n# TYPE a gauge\na one\n");
    QTest::newRow("bad escape") << QByteArray("# HELP a A.\n# TYPE a gauge\na{l=\"\\x\"} 1\n");
    QTest::newRow("unquoted label") << QByteArray("# HELP a A.\n# TYPE a gauge\na{l=1} 1\n");
    QTest::newRow("repeated series") << QByteArray("# HELP a A.\n# TYPE a gauge\na 1\na 2\n");
    QTest::newRow("split family") << QByteArray("# HELP a A.\n# TYPE a gauge\na{x=\"1\"} 1\n# HELP "
                                                "b B.\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n");
    QTest::newRow("negative counter")
        << QByteArray("# HELP a_total A.\n# TYPE a_total counter\na_total -1\n");
    QTest::newRow("counter without _total") << QByteArray("# HELP a A.\n# TYPE a counter\na 1\n");
    QTest::newRow("not cumulative")
        << hist + "h_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4\n";
    QTest::newRow("no +Inf") << hist + "h_bucket{le=\"1\"} 4\nh_sum 1\nh_count 4\n";
    QTest::newRow("+Inf is not count")
        << hist + "h_bucket{le=\"1\"} 4\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 5\n";
    QTest::newRow("no sum") << hist + "h_bucket{le=\"+Inf\"} 4\nh_count 4\n";
    QTest::newRow("le out of order") << hist
            + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 2\nh_sum "
              "1\nh_count 2\n";
    QTest::newRow("stray sample") << hist
            + "h_total 1\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n";
}

void tst_Metrics::parserRejectsBrokenText()
{
    QFETCH(QByteArray, text);
    PrometheusParser parser;
    QVERIFY2(!parser.parse(text), text.constData());
    QVERIFY(!parser.error().isEmpty());
}

PUSHCONSOLE_TEST_MAIN(tst_Metrics)
#include "tst_metrics.moc"
