#pragma once

#include "Config.h"
#include "Listener.h"
#include "RefusalReporter.h"
#include "TextConnection.h"

#include <QObject>
#include <QSet>
#include <QTimer>

struct Metrics;
class EventLog;
class PushRouter;

// The inner push port of the seed (Workerman's text://): a JSON line in,
// "ok", "fail" or "error: ..." back.
class TextPushServer final : public QObject, private TextConnection::Owner
{
    Q_OBJECT
public:
    TextPushServer(const Config &config, PushRouter *router, EventLog *log, Metrics *metrics,
        QObject *parent = nullptr);

    bool listen(QString *error);
    void stopListening();
    // Shutdown: no more requests are read; replies already due still go
    // out. allClosed() follows once every connection is gone (each within
    // the close timeout).
    void closeAll();
    bool isListening() const { return m_listener.isListening(); }
    quint16 port() const { return m_listener.port(); }
    QString addressString() const { return m_listener.addressString(); }
    int connectionCount() const { return int(m_connections.size()); }

    // A copy: a change applies from the next listen() on.
    void setConfig(const Config &config) { m_config = config; }
    // A reload: limits and timeouts take effect now (connections read the
    // settings on every line); the address and port need a restart.
    void applyLive(const Config &config);
    const Config &config() const override { return m_config; }
    // Loopback always; anything else only inside one of the allowed subnets.
    static bool isAllowed(const QHostAddress &peer, const QList<QPair<QHostAddress, int>> &allow);
    PushRouter *router() const override { return m_router; }
    EventLog *eventLog() const override { return m_log; }
    Metrics *metrics() const override { return m_metrics; }

Q_SIGNALS:
    void allClosed();

private:
    void checkAllClosed();
    void startSweep();
    void accepted(int fd, const PeerAddress &peer);

    void finished(TextConnection *c, const QString &reason) override;
    void refusedHttp(TextConnection *c) override;
    void sweep();

    Config m_config;
    PushRouter *m_router;
    EventLog *m_log;
    Metrics *m_metrics;
    Listener m_listener;
    RefusalReporter m_refusals;
    QSet<TextConnection *> m_connections;
    QTimer m_sweep; // idle and line timeouts
    bool m_closingAll = false;
};
