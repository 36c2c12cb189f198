#pragma once

#include "AdminStream.h"
#include "Config.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>

struct Event;
struct Metrics;
class ClusterLink;
class EventLog;
class HttpRequest;
class HttpResponder;
class OfflineStore;
class SessionRegistry;

// The admin stream (GET /api/events, docs/admin-stream.md): every attached
// console's stream, what they are told, and the limits that keep them from
// slowing the gateway. It reads the same parts the in-process console reads
// (ui/LocalGatewaySource): the registry, the cluster link, the event log,
// the metrics. Each event is serialized once for all streams, and only when
// one of them will send it; a stream over its rate or its output cap only
// counts it. Owned by PushServer, which hands it the upgrade requests the
// HTTP API let through.
class AdminHub final : public QObject, private AdminStream::Owner
{
    Q_OBJECT
public:
    // What the hub reads, and nothing more.
    struct Context
    {
        const SessionRegistry *registry = nullptr;
        EventLog *log = nullptr;
        Metrics *metrics = nullptr;
        // nullptr when off; they appear with the first start.
        std::function<ClusterLink *()> cluster;
        std::function<const OfflineStore *()> offline;
        std::function<bool()> listening;
        std::function<QDateTime()> startedAt;
        std::function<QString()> wsAddress;
        std::function<QString()> textAddress;
        std::function<QString()> httpAddress;
    };

    static constexpr char Protocol[] = "pushconsole.admin.v1";
    static constexpr int ProtocolVersion = 1;
    static constexpr int ChunkUids = 1000; // uids per presence message
    static constexpr int SnapshotEvents = 1000; // events in the snapshot
    static constexpr int BatchMs = 100; // events, presence: one message per stream per batch
    static constexpr int CountersMs = 1000;

    AdminHub(const Config &config, const Context &context, QObject *parent = nullptr);
    ~AdminHub() override;

    // The limits, the ping interval and the heartbeat; applies at once.
    void setConfig(const Config &config);

    // GET /api/events, after the HTTP API's own checks (HttpApi::Context).
    void handleRequest(
        const HttpRequest &request, const HttpResponder &responder, const QString &peer);

    // The listeners opened or closed (and the cluster link may be new).
    void listeningChanged();
    // Shutdown: every stream gets a close (1001); allClosed() once all are
    // gone. New streams are refused from now on.
    void closeAll();
    int streamCount() const { return int(m_streams.size()); }
    // Real bytes the streams hold (socket queues and what waits for a batch).
    qint64 bufferedBytes() const;

Q_SIGNALS:
    void allClosed();

private:
    void streamDrained(AdminStream *s) override;
    void streamFinished(AdminStream *s, const QString &reason) override;

    void attachCluster();
    void eventAdded(const Event &event);
    void uidChanged(const QByteArray &uid);
    void resyncAll();
    void stateChanged(bool listening, bool cluster);
    // Sends what the stream is owed next, as far as its output allows.
    void advance(AdminStream *s);
    void flush(AdminStream *s);
    void batchTick();
    void secondTick();
    // Every stream is past its rate for this second: the hot paths stop
    // building events until the next second starts.
    void updateSaturation(qint64 now);
    void unsaturateTick();
    void endSaturation();
    // Hands what the hot paths did not build to every live stream's
    // skipped counts.
    void collectUnbuilt();

    QByteArray helloMessage() const;
    QByteArray listenersJson() const;
    QByteArray clusterJson() const;
    QByteArray offlineJson() const;
    QByteArray countersMessage() const;
    QByteArray eventsSnapshot() const;
    // The next presence chunk of the stream's snapshot list.
    QByteArray presenceChunk(AdminStream *s) const;
    // One uid as the console shows it; false when it is online nowhere.
    bool appendPresence(QByteArray &out, const QByteArray &uid, bool evenIfGone) const;
    QList<QByteArray> allUids() const;
    // The socket queue below which the next part of a snapshot goes out.
    qint64 lowWater(const AdminStream *s) const { return s->maxOutput() / 2; }

    Config m_config;
    Context m_context;
    QList<AdminStream *> m_streams;
    QPointer<ClusterLink> m_cluster;
    QTimer m_batch;
    QTimer m_second;
    QTimer m_unsaturate;
    qint64 m_saturatedSecond = 0;
    QElapsedTimer m_clock;
    bool m_closing = false;
};
