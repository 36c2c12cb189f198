// attach_latency: the console's side of the admin stream, measured with the
// console's own RemoteGatewaySource (not a stand-in reader).
//
// 1. Snapshot: --snapshots times, a fresh source attaches and the time from
//    open() to its first "ready" (linkState Connected) is taken, with the
//    number of uids it mirrored.
// 2. Latency: one QWebSocket client binds --uid, a backend connection on the
//    push port sends --pushes pushes paced at --rate per second, each with a
//    sequence number; the time from writing a push line to the push's event
//    arriving through the source's eventsArrived() is recorded (p50/p90/p99/
//    max). The source runs in this process, so both ends read one clock.
//
// Bench code: prints figures, asserts nothing about them.
#include "AttachTarget.h"
#include "Event.h"
#include "RemoteGatewaySource.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QHash>
#include <QTcpSocket>
#include <QTimer>
#include <QWebSocket>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

bool spinUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    }
    return true;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
    return v[i];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Attach RemoteGatewaySource to a gateway: snapshot time, push-to-event latency."));
    p.addHelpOption();
    p.addOptions({
        {QStringLiteral("url"), QStringLiteral("The gateway's HTTP API, http://HOST:PORT."),
            QStringLiteral("url")},
        {QStringLiteral("api-key-file"), QStringLiteral("The API key file."),
            QStringLiteral("file")},
        {QStringLiteral("ws-port"), QStringLiteral("WebSocket port (on 127.0.0.1)."),
            QStringLiteral("port")},
        {QStringLiteral("text-port"), QStringLiteral("Push port (on 127.0.0.1)."),
            QStringLiteral("port")},
        {QStringLiteral("snapshots"), QStringLiteral("Attach this many times (default 3)."),
            QStringLiteral("n"), QStringLiteral("3")},
        {QStringLiteral("expect-uids"),
            QStringLiteral("Wait until the gateway has at least this many uids first."),
            QStringLiteral("n"), QStringLiteral("0")},
        {QStringLiteral("pushes"), QStringLiteral("Pushes for the latency run (0: none)."),
            QStringLiteral("n"), QStringLiteral("2000")},
        {QStringLiteral("rate"), QStringLiteral("Pushes per second (default 200)."),
            QStringLiteral("r"), QStringLiteral("200")},
        {QStringLiteral("uid"), QStringLiteral("The uid the bench binds and pushes to."),
            QStringLiteral("uid"), QStringLiteral("attach-latency")},
    });
    p.process(app);
    if (!p.isSet(QStringLiteral("url"))) {
        std::fprintf(stderr, "attach_latency: --url is required\n");
        return 2;
    }
    AttachTarget target;
    QString error;
    if (!AttachTarget::load(p.value(QStringLiteral("url")), p.value(QStringLiteral("api-key-file")),
            {}, &target, &error)) {
        std::fprintf(stderr, "attach_latency: %s\n", qPrintable(error));
        return 2;
    }
    const int snapshots = p.value(QStringLiteral("snapshots")).toInt();
    const int expectUids = p.value(QStringLiteral("expect-uids")).toInt();
    const int pushes = p.value(QStringLiteral("pushes")).toInt();
    const double rate = qMax(1.0, p.value(QStringLiteral("rate")).toDouble());
    const QByteArray uid = p.value(QStringLiteral("uid")).toUtf8();

    // 1. Snapshots.
    for (int run = 0; run < snapshots; ++run) {
        RemoteGatewaySource source(target);
        QElapsedTimer t;
        t.start();
        source.open();
        if (!spinUntil(
                [&] {
                    return source.linkState() == GatewaySource::LinkState::Connected
                        || source.failure() == RemoteGatewaySource::Failure::Unauthorized;
                },
                120000)
            || source.linkState() != GatewaySource::LinkState::Connected) {
            std::fprintf(
                stderr, "attach_latency: not connected: %s\n", qPrintable(source.linkError()));
            return 1;
        }
        const double ms = double(t.nsecsElapsed()) / 1e6;
        const int uids = int(source.onlineUids().size());
        if (uids < expectUids) {
            // The clients are still binding: wait, and attach again.
            std::fprintf(stderr, "attach_latency: %d uids of %d, waiting\n", uids, expectUids);
            spinUntil([&] { return int(source.onlineUids().size()) >= expectUids; }, 120000);
            --run;
            continue;
        }
        std::printf(
            "snapshot    run %d: %d uids, attach to Connected %.1f ms\n", run + 1, uids, ms);
        std::fflush(stdout);
    }
    if (pushes <= 0)
        return 0;

    // 2. Latency.
    const quint16 wsPort = quint16(p.value(QStringLiteral("ws-port")).toUInt());
    const quint16 textPort = quint16(p.value(QStringLiteral("text-port")).toUInt());
    if (!wsPort || !textPort) {
        std::fprintf(stderr, "attach_latency: --ws-port and --text-port are required\n");
        return 2;
    }
    RemoteGatewaySource source(target);
    QElapsedTimer clock;
    clock.start();
    QHash<qint64, qint64> sentAt; // seq -> ns
    std::vector<double> latencies;
    int received = 0;
    quint64 skipped = 0;
    const QByteArray marker = "\"seq\":";
    QObject::connect(&source, &GatewaySource::eventsArrived, &app, [&](const QList<Event> &events) {
        const qint64 now = clock.nsecsElapsed();
        for (const Event &e : events) {
            if (e.reason == Event::Reason::EventsSkipped)
                skipped += e.args.value(0).toULongLong();
            if (e.type != Event::Type::Push || e.uid != uid)
                continue;
            const int at = int(e.text.indexOf(marker));
            if (at < 0)
                continue;
            const qint64 seq = e.text.mid(at + marker.size()).split('}').front().toLongLong();
            const auto it = sentAt.find(seq);
            if (it == sentAt.end())
                continue;
            latencies.push_back(double(now - it.value()) / 1e3);
            sentAt.erase(it);
            ++received;
        }
    });
    source.open();
    if (!spinUntil(
            [&] { return source.linkState() == GatewaySource::LinkState::Connected; }, 120000)) {
        std::fprintf(stderr, "attach_latency: not connected: %s\n", qPrintable(source.linkError()));
        return 1;
    }
    QWebSocket client;
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(wsPort)));
    if (!spinUntil([&] { return client.state() == QAbstractSocket::ConnectedState; }, 10000)) {
        std::fprintf(stderr, "attach_latency: the client did not connect\n");
        return 1;
    }
    client.sendTextMessage(QString::fromUtf8(uid));
    if (!spinUntil([&] { return source.presence(uid).connections > 0; }, 10000)) {
        std::fprintf(stderr, "attach_latency: %s never showed as bound\n", uid.constData());
        return 1;
    }
    int delivered = 0;
    QObject::connect(&client, &QWebSocket::textMessageReceived, &app, [&] { ++delivered; });
    QTcpSocket backend;
    backend.connectToHost(QHostAddress::LocalHost, textPort);
    if (!backend.waitForConnected(5000)) {
        std::fprintf(stderr, "attach_latency: the push port refused\n");
        return 1;
    }
    QObject::connect(&backend, &QTcpSocket::readyRead, &app, [&] { backend.readAll(); });

    // Paced by the schedule, not by the timer's ticks: a late tick sends
    // what is due, so the rate holds on average.
    int sent = 0;
    const qint64 start = clock.nsecsElapsed();
    QTimer pacer;
    pacer.setTimerType(Qt::PreciseTimer);
    pacer.setInterval(1);
    QObject::connect(&pacer, &QTimer::timeout, &app, [&] {
        const qint64 due = qint64(double(clock.nsecsElapsed() - start) / 1e9 * rate) + 1;
        while (sent < pushes && sent < due) {
            const QByteArray line =
                "{\"uid\":\"" + uid + "\",\"seq\":" + QByteArray::number(sent) + "}\n";
            sentAt.insert(sent, clock.nsecsElapsed());
            backend.write(line);
            ++sent;
        }
        backend.flush();
        if (sent >= pushes)
            pacer.stop();
    });
    pacer.start();
    spinUntil([&] { return received >= pushes; }, int(double(pushes) / rate * 1000.0) + 10000);
    const double seconds = double(clock.nsecsElapsed() - start) / 1e9;
    std::printf("latency     %d pushes at %.0f/s over %.1f s: %d events received, %d delivered "
                "to the client, %llu skipped by the gateway\n",
        sent, rate, seconds, received, delivered, static_cast<unsigned long long>(skipped));
    std::printf("latency us  push line written -> event in RemoteGatewaySource: p50 %.0f p90 %.0f "
                "p99 %.0f max %.0f\n",
        percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99),
        percentile(latencies, 100));
    return received == pushes ? 0 : 1;
}
