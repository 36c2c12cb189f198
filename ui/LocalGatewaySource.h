#pragma once

#include "GatewaySettings.h"
#include "GatewaySource.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

class ClusterLink;
class PushServer;

// The gateway in this process, seen through the console's one interface.
// Reads go straight to PushServer's parts; every answer comes at once
// except a push that waits for Redis (cluster, offline store). It can
// start and stop the listeners and edit the settings.
class LocalGatewaySource final : public GatewaySource, public GatewaySettings
{
    Q_OBJECT
public:
    // server must outlive this source.
    explicit LocalGatewaySource(PushServer *server, QObject *parent = nullptr);

    LinkState linkState() const override { return LinkState::Connected; }
    QString location() const override { return {}; }
    QString version() const override;
    bool isListening() const override;
    QDateTime startedAt() const override;
    QString wsAddress() const override;
    QString textAddress() const override;
    QString httpAddress() const override;
    ClusterState cluster() const override;
    OfflineState offline() const override;

    QList<QByteArray> onlineUids() const override;
    PresenceEntry presence(const QByteArray &uid) const override;
    void requestSessions(const QByteArray &uid, QObject *context, SessionsHandler done) override;

    QList<Event> recentEvents() const override;
    int eventCapacity() const override;
    CounterSample counters() const override;

    void push(const QByteArray &line, QObject *context, PushHandler done) override;
    void kick(const QByteArray &uid, QObject *context, KickHandler done) override;
    bool kicksAcrossCluster() const override;

    bool canControlListeners() const override { return true; }
    bool canEditSettings() const override { return true; }
    bool startListeners(QString *error) override;
    void stopListeners() override;

    Config config() const override;
    void setConfig(const Config &config) override;

    // Samples the counters and emits countersSampled() now, as the timer
    // does every interval; public for tests.
    void sampleCounters();
    void setSampleInterval(int ms) { m_sampleTimer.setInterval(ms); }

private:
    // The cluster link appears with the gateway's first successful start,
    // which may come after the console opened (a busy port at start).
    void attachCluster();

    PushServer *m_server;
    QPointer<ClusterLink> m_cluster;
    QTimer m_sampleTimer;
    QElapsedTimer m_clock;
};
