#include "MetricList.h"

#include "ClusterLink.h"
#include "Config.h"
#include "HttpServer.h"
#include "Metrics.h"
#include "OfflineStore.h"
#include "PrometheusExporter.h"
#include "SessionRegistry.h"
#include "SocketThreads.h"

#include <functional>

namespace {

using Read = std::function<double(const MetricInputs &)>;
using Labels = PrometheusExporter::Labels;

struct Series
{
    Labels labels; // empty: the family's one sample
    Read read;
    const char *doc = nullptr; // what this label value means, Markdown
};

enum class Kind : quint8 { Counter, Gauge, Histogram };

// One metric family. Its samples are the fixed `series`, or, for labels
// known only when scraped (HTTP status codes) and for the histogram, what
// `write` adds.
struct Family
{
    const char *name;
    Kind kind;
    const char *help; // the "# HELP" line: scrapers see it, keep it stable
    QList<Series> series;
    const char *doc = nullptr; // more for the reference, Markdown
    std::function<void(const MetricInputs &, PrometheusExporter &)> write = nullptr;
    const char *labelsDoc = nullptr; // the labels of `write`, Markdown
};

const Metrics &counters(const MetricInputs &in)
{
    static const Metrics none;
    return in.metrics ? *in.metrics : none;
}

// A family with one sample read from the counters.
Family counter(
    const char *name, const char *help, quint64 Metrics::*field, const char *doc = nullptr)
{
    return {name, Kind::Counter, help,
        {{{}, [field](const MetricInputs &in) { return double(counters(in).*field); }}}, doc};
}

Family gauge(const char *name, const char *help, Read read, const char *doc = nullptr)
{
    return {name, Kind::Gauge, help, {{{}, std::move(read)}}, doc};
}

Read field(quint64 Metrics::*f)
{
    return [f](const MetricInputs &in) { return double(counters(in).*f); };
}

Read http(double (*read)(const HttpServer &))
{
    return [read](const MetricInputs &in) { return in.http ? read(*in.http) : 0.0; };
}

// One figure of the socket threads' inboxes together; 0 with --threads 1.
Read threads(double (*read)(const HandOffQueue::Stats &))
{
    return [read](const MetricInputs &in) {
        return in.threads ? read(in.threads->inboxTotals()) : 0.0;
    };
}

QList<Family> buildList()
{
    QList<Family> list;
    list << gauge("pushconsole_start_time_seconds",
        "Start time of the gateway's listeners, seconds since the Unix epoch.",
        [](const MetricInputs &in) { return double(in.startedAt.toMSecsSinceEpoch()) / 1000.0; });
    list << gauge("pushconsole_connections", "WebSocket connections open (bound or not).",
        field(&Metrics::connectionsOpen));
    list << gauge("pushconsole_bound_connections", "WebSocket connections bound to a uid.",
        [](const MetricInputs &in) {
            return in.registry ? double(in.registry->connectionCount()) : 0.0;
        });
    list << gauge("pushconsole_bound_uids", "Distinct uids with at least one connection.",
        [](const MetricInputs &in) { return in.registry ? double(in.registry->uidCount()) : 0.0; });
    list << gauge("pushconsole_text_connections", "Backend connections open on the push port.",
        field(&Metrics::textConnectionsOpen));
    list << counter("pushconsole_connections_accepted_total", "WebSocket TCP connections accepted.",
        &Metrics::connectionsAccepted);
    list << gauge("pushconsole_threads",
        "Threads the WebSocket sockets run on, the main thread included (--threads).",
        [](const MetricInputs &in) {
            return in.threads ? double(in.threads->workerCount() + 1) : 1.0;
        });
    list << gauge("pushconsole_socket_thread_queue_bytes",
        "Writes handed to socket threads and not taken yet, in bytes with their bookkeeping.",
        threads([](const HandOffQueue::Stats &s) { return double(s.bytes); }),
        "Push ports stop reading while one socket thread holds more than 32 KiB; "
        "0 with `--threads 1`.");
    list << Family {"pushconsole_socket_thread_queue_refused_total", Kind::Counter,
        "Writes refused because a socket thread's queue was full (the client is dropped).",
        {{{}, threads([](const HandOffQueue::Stats &s) { return double(s.refused); })}}};
    list << gauge("pushconsole_http_connections", "HTTP API connections open.",
        http([](const HttpServer &h) { return double(h.connectionCount()); }));
    list << gauge("pushconsole_http_buffered_bytes",
        "Memory the HTTP API holds for its clients: requests, unsent answers, bookkeeping.",
        http([](const HttpServer &h) { return double(h.bufferedBytes()); }));
    list << gauge("pushconsole_http_paused_connections",
        "HTTP connections not read because their answers are not read or too many requests "
        "are in flight.",
        http([](const HttpServer &h) { return double(h.pausedCount()); }),
        "See `--http-max-output` and `--http-max-in-flight`.");
    list << Family {"pushconsole_http_timeouts_total", Kind::Counter,
        "HTTP connections closed by a deadline, by deadline.",
        {{{{"deadline", "request"}},
             http([](const HttpServer &h) { return double(h.requestTimeouts()); }),
             "`--http-request-timeout`"},
            {{{"deadline", "idle"}},
                http([](const HttpServer &h) { return double(h.idleTimeouts()); }),
                "`--http-idle-timeout`"},
            {{{"deadline", "unread_answers"}},
                http([](const HttpServer &h) { return double(h.stalledOutputs()); }),
                "answers not read for `--http-idle-timeout`"}}};
    list << Family {"pushconsole_http_tls_failures_total", Kind::Counter,
        "TLS handshakes on the HTTP API port that failed or did not finish in time.",
        {{{}, http([](const HttpServer &h) { return double(h.tlsFailures()); })}},
        "With `--http-tls`: a plain-HTTP client, a client refusing the certificate, a hello "
        "not done within `--http-request-timeout`."};

    Family pushes {
        "pushconsole_pushes_total", Kind::Counter, "Push requests by source and result.", {}};
    for (int source = 0; source < Metrics::SourceCount; ++source) {
        for (int status = 0; status < Metrics::StatusCount; ++status) {
            pushes.series.append({{{"source", pushSourceName(PushSource(source))},
                                      {"result", pushStatusName(PushStatus(status))}},
                [source, status](const MetricInputs &in) {
                    return double(counters(in).pushes[source][status]);
                }});
        }
    }
    list << pushes;
    list << counter("pushconsole_messages_in_total", "WebSocket messages received from clients.",
        &Metrics::messagesIn, "Text and binary frames.");
    list << counter(
        "pushconsole_messages_out_total", "Push frames written to clients.", &Metrics::messagesOut);
    list << counter(
        "pushconsole_bytes_in_total", "Bytes received from WebSocket clients.", &Metrics::bytesIn);
    list << counter("pushconsole_bytes_out_total", "Push bytes written to WebSocket clients.",
        &Metrics::bytesOut);
    list << Family {"pushconsole_evictions_total", Kind::Counter,
        "WebSocket connections closed by the gateway, by reason.",
        {{{{"reason", "heartbeat"}}, field(&Metrics::evictedIdle), "idle past `--heartbeat`"},
            {{{"reason", "bind_timeout"}}, field(&Metrics::bindTimeouts), "`--bind-timeout`"},
            {{{"reason", "uid_cap"}}, field(&Metrics::replacedByCap),
                "the oldest over `--max-conns-per-uid`, or `--max-conns-per-token` with tokens"},
            {{{"reason", "kicked"}}, field(&Metrics::kicked),
                "the console or `DELETE /api/uids/…`"},
            {{{"reason", "slow_consumer"}}, field(&Metrics::droppedSlow), "over `--max-output`"},
            {{{"reason", "unbound_cap"}}, field(&Metrics::evictedUnbound),
                "the oldest connection without a uid, dropped for a new one past "
                "`--max-unbound`"}}};
    Family dropped {"pushconsole_dropped_bytes_total", Kind::Counter,
        "Bytes queued for WebSocket clients (pushes answered ok) that never reached them, by "
        "reason.",
        {}, "Never silent: each drop is also a `close` line in the log."};
    const char *dropDocs[Metrics::DropReasonCount] = {"over `--max-output`",
        "idle past `--heartbeat`", "closed and never answered the close",
        "reset or hung up with output unread", "still unread at `--shutdown-timeout`"};
    for (int reason = 0; reason < Metrics::DropReasonCount; ++reason)
        dropped.series.append({{{"reason", dropReasonName(DropReason(reason))}},
            [reason](const MetricInputs &in) { return double(counters(in).droppedBytes[reason]); },
            dropDocs[reason]});
    list << dropped;
    list << counter("pushconsole_rejected_total",
        "WebSocket clients refused: bad handshake, invalid uid, protocol error.",
        &Metrics::rejected);
    list << Family {"pushconsole_refused_connections_total", Kind::Counter,
        "Connections reset at accept by a limit, by limit.",
        {{{{"limit", "max_connections"}}, field(&Metrics::refusedTotal), "`--max-connections`"},
            {{{"limit", "max_conns_per_ip"}}, field(&Metrics::refusedPerIp),
                "`--max-conns-per-ip`"},
            {{{"limit", "max_unbound"}}, field(&Metrics::refusedUnbound), "`--max-unbound`"},
            {{{"limit", "push_port"}}, field(&Metrics::refusedText),
                "push port: a source not in `--text-allow`, or over `--max-text-conns`"},
            {{{"limit", "max_http_conns"}}, field(&Metrics::refusedHttp), "`--max-http-conns`"}}};

    // Attached consoles (docs/admin-stream.md).
    list << gauge("pushconsole_admin_streams", "Admin streams (attached consoles) open.",
        field(&Metrics::adminStreamsOpen), "`GET /api/events`; at most `--max-admin-streams`.");
    list << counter("pushconsole_admin_events_skipped_total",
        "Events not sent to an admin stream (over its output cap or event rate), summed over "
        "the streams.",
        &Metrics::adminEventsSkipped,
        "Each stream hears of its own in a `skipped` message (`--admin-max-output`, "
        "`--admin-max-event-rate`).");

    // Offline delivery (--offline-ttl); zero without it.
    list << counter("pushconsole_offline_stored_total",
        "Messages stored for uids online nowhere, one per uid.", &Metrics::offlineStored);
    list << counter("pushconsole_offline_delivered_total",
        "Stored messages sent to a connection of their uid.", &Metrics::offlineDelivered,
        "A message sent again after a drop counts again.");
    list << counter("pushconsole_offline_dropped_total",
        "Stored messages dropped by the caps (oldest first), or not stored as over them.",
        &Metrics::offlineDropped);
    list << counter("pushconsole_offline_expired_total",
        "Stored messages older than --offline-ttl, never delivered.", &Metrics::offlineExpired);
    list << counter("pushconsole_offline_store_errors_total",
        "Stores, reads and acknowledgements the offline store could not do (disk full, a "
        "Redis error); such pushes were answered fail.",
        &Metrics::offlineStoreErrors);

    Family latency {"pushconsole_push_latency_seconds", Kind::Histogram,
        "Time the router takes to hand one push to all its targets.", {},
        "Measured inside the gateway: encode once, write or queue to each socket."};
    latency.write = [name = latency.name, help = latency.help](
                        const MetricInputs &in, PrometheusExporter &out) {
        const Metrics &m = counters(in);
        double bounds[std::size(Metrics::LatencyBoundsNs)];
        for (size_t i = 0; i < std::size(bounds); ++i)
            bounds[i] = double(Metrics::LatencyBoundsNs[i]) / 1e9;
        out.histogram(name, help, bounds, int(std::size(bounds)), m.pushLatency,
            double(m.pushLatencySumNs) / 1e9);
    };
    list << latency;

    Family responses {"pushconsole_http_responses_total", Kind::Counter,
        "HTTP API answers by status code.", {},
        "HTTP pushes refused before the router count here under their codes (`401`, `403`, "
        "`413`, `415`, `421`, `400`), not in `pushconsole_pushes_total`."};
    responses.write = [name = responses.name](const MetricInputs &in, PrometheusExporter &out) {
        if (!in.http)
            return;
        const QMap<int, quint64> &codes = in.http->responseCounts();
        for (auto it = codes.cbegin(); it != codes.cend(); ++it)
            out.sample(name, {{"code", QByteArray::number(it.key())}}, double(it.value()));
    };
    responses.labelsDoc = "`code`: the HTTP status";
    list << responses;

    // Later additions, after the families above so that their lines keep
    // their order.
    list << counter("pushconsole_uid_full_refusals_total",
        "WebSocket clients refused with tokens: their uid was full and none of its connections "
        "had their token.",
        &Metrics::refusedUidFull,
        "Closed with 4001; see `--max-conns-per-uid` and `--max-conns-per-token`.");
    list << Family {"pushconsole_text_timeouts_total", Kind::Counter,
        "Push-port connections closed by a deadline, by deadline.",
        {{{{"deadline", "idle"}}, field(&Metrics::textIdleTimeouts), "`--text-idle-timeout`"},
            {{{"deadline", "line"}}, field(&Metrics::textLineTimeouts), "`--text-line-timeout`"}}};
    list << counter("pushconsole_text_http_requests_total",
        "Push-port connections closed because they sent an HTTP request (a web page); nothing "
        "was pushed.",
        &Metrics::refusedTextHttp);
    list << gauge("pushconsole_cluster_up",
        "1 while the link to the cluster's Redis is up, else 0 (always 0 without --redis).",
        [](const MetricInputs &in) { return in.cluster && in.cluster->isUp() ? 1.0 : 0.0; });
    list << gauge("pushconsole_cluster_nodes",
        "Gateways in the cluster as this one sees them, itself included.",
        [](const MetricInputs &in) {
            return in.cluster ? double(in.cluster->nodes().size()) : 0.0;
        });
    list << counter("pushconsole_cluster_published_total",
        "Push messages this node published to the nodes holding their uids.", &Metrics::clusterSent,
        "One per node addressed.");
    list << counter("pushconsole_cluster_received_total",
        "Pushes other nodes published to this one.", &Metrics::clusterReceived);
    list << counter("pushconsole_cluster_link_losses_total",
        "Times the link to the cluster's Redis went down.", &Metrics::clusterLinkLosses);
    list << counter("pushconsole_cluster_publish_refused_total",
        "Publishes to other nodes not sent because --cluster-max-in-flight was reached.",
        &Metrics::clusterPublishRefused, "The push answers `fail` for those nodes.");
    list << gauge(
        "pushconsole_cluster_in_flight_bytes",
        "Bytes of pushes awaiting Redis's answer (publishes, offline stores).",
        [](const MetricInputs &in) {
            return in.cluster ? double(in.cluster->publishBytesInFlight()) : 0.0;
        },
        "Capped by `--cluster-max-in-flight`.");
    list << gauge("pushconsole_offline_available",
        "1 while offline delivery is on and its store can take messages, else 0.",
        [](const MetricInputs &in) { return in.offline && in.offline->isAvailable() ? 1.0 : 0.0; });
    return list;
}

const QList<Family> &families()
{
    static const QList<Family> list = buildList();
    return list;
}

const char *kindName(Kind kind)
{
    switch (kind) {
    case Kind::Counter:
        return "counter";
    case Kind::Gauge:
        return "gauge";
    case Kind::Histogram:
        return "histogram";
    }
    return "untyped";
}

QString escaped(const char *text)
{
    QString out;
    for (const QChar c : QString::fromUtf8(text)) {
        if (c == QLatin1Char('|') || c == QLatin1Char('*') || c == QLatin1Char('_'))
            out += QLatin1Char('\\');
        out += c;
    }
    return out;
}

QString durationText(qint64 ns)
{
    if (ns >= 1'000'000'000)
        return QStringLiteral("%1 s").arg(double(ns) / 1e9);
    if (ns >= 1'000'000)
        return QStringLiteral("%1 ms").arg(double(ns) / 1e6);
    return QStringLiteral("%1 µs").arg(double(ns) / 1e3);
}

} // namespace

QByteArray MetricList::prometheus(const MetricInputs &inputs)
{
    PrometheusExporter out;
    for (const Family &f : families()) {
        if (f.kind == Kind::Histogram) {
            f.write(inputs, out);
            continue;
        }
        out.family(f.name, kindName(f.kind), f.help);
        for (const Series &s : f.series) {
            out.sample(f.name, s.labels, s.read(inputs));
        }
        if (f.write)
            f.write(inputs, out);
    }
    return out.text();
}

QString MetricList::markdown()
{
    const Config defaults;
    QString out;
    out += tr("# Metrics") + QLatin1String("\n\n");
    out += tr("*Generated by `pushconsole --help-metrics` from the metric list "
              "(core/server/MetricList.cpp), which GET /metrics is written from too; `cmake "
              "--build build --target update_docs` writes it again.*")
        + QLatin1String("\n\n");
    out += tr("`GET /metrics` on the HTTP port answers in the Prometheus text exposition format "
              "0.0.4 (`Content-Type: %1`). With an API key set it needs the key "
              "(`authorization: {type: Bearer, credentials_file: /etc/pushconsole/api.key}` in "
              "the scrape config) unless `--http-public-metrics`. Scrape config: "
              "`static_configs: [{targets: [\"%2:%3\"]}]`.")
               .arg(QLatin1String(PrometheusExporter::ContentType), defaults.httpBind.toString())
               .arg(defaults.httpPort)
        + QLatin1String("\n\n");
    out += tr("| metric | type | labels | meaning |") + QLatin1String("\n|---|---|---|---|\n");
    for (const Family &f : families()) {
        // Each label with its values, in the order the samples come.
        QList<QByteArray> names;
        QHash<QByteArray, QStringList> values;
        for (const Series &s : f.series) {
            for (const auto &[name, value] : s.labels) {
                if (!names.contains(name))
                    names.append(name);
                QString text = QStringLiteral("`%1`").arg(QString::fromUtf8(value));
                if (s.doc && s.labels.size() == 1)
                    text += QStringLiteral(" (%1)").arg(QString::fromUtf8(s.doc));
                if (!values[name].contains(text))
                    values[name].append(text);
            }
        }
        QStringList labels;
        for (const QByteArray &name : names)
            labels.append(
                QStringLiteral("`%1`: %2")
                    .arg(QString::fromUtf8(name), values.value(name).join(QLatin1String(", "))));
        if (f.labelsDoc)
            labels.append(QString::fromUtf8(f.labelsDoc));
        if (f.kind == Kind::Histogram)
            labels.append(tr("`le`: buckets from %1 to %2")
                              .arg(durationText(Metrics::LatencyBoundsNs[0]),
                                  durationText(std::end(Metrics::LatencyBoundsNs)[-1])));
        QString meaning = escaped(f.help);
        if (f.doc)
            meaning += QLatin1Char(' ') + QString::fromUtf8(f.doc);
        out += QStringLiteral("| `%1` | %2 | %3 | %4 |\n")
                   .arg(QLatin1String(f.name), QLatin1String(kindName(f.kind)),
                       labels.join(QLatin1String("; ")), meaning);
    }
    out += QLatin1Char('\n');
    out += tr("A push that is over `--max-line` on either port never reaches the router and is "
              "not in `pushconsole_pushes_total`; on HTTP it shows as `code=\"413\"`.")
        + QLatin1Char('\n');
    return out;
}
