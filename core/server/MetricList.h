#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QDateTime>
#include <QString>

struct Metrics;
class ClusterLink;
class HttpServer;
class OfflineStore;
class SessionRegistry;
class SocketThreads;

// What the metrics are read from: the counters and the live parts. Any
// part may be missing (nullptr: its gauges read 0), as when the HTTP API,
// the cluster or offline delivery is off.
struct MetricInputs
{
    const Metrics *metrics = nullptr;
    const SessionRegistry *registry = nullptr;
    const HttpServer *http = nullptr;
    const ClusterLink *cluster = nullptr;
    const OfflineStore *offline = nullptr;
    const SocketThreads *threads = nullptr; // none with --threads 1
    QDateTime startedAt; // of the listeners
};

// The one list of Prometheus metrics: GET /metrics (through HttpApi's
// Context) and the reference (--help-metrics, docs/metrics.md) are both
// written from it, so a counter cannot be documented and not exported, or
// the other way round.
class MetricList final
{
    Q_DECLARE_TR_FUNCTIONS(MetricList)
public:
    // The text exposition format 0.0.4.
    static QByteArray prometheus(const MetricInputs &inputs);
    static QString markdown();
};
