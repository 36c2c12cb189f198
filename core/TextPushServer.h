#pragma once

#include "Listener.h"
#include "RefusalReporter.h"

#include <QObject>
#include <QSet>
#include <QTimer>

struct Config;
struct Metrics;
class EventLog;
class PushRouter;
class TextConnection;

// The inner push port of the seed (Workerman's text://): a JSON line in,
// "ok", "fail" or "error: ..." back.
class TextPushServer final : public QObject
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

    const Config &config() const { return m_config; }
    // Loopback always; anything else only inside one of the allowed subnets.
    static bool isAllowed(const QHostAddress &peer, const QList<QPair<QHostAddress, int>> &allow);
    PushRouter *router() const { return m_router; }
    EventLog *eventLog() const { return m_log; }
    Metrics *metrics() const { return m_metrics; }

Q_SIGNALS:
    void allClosed();

private:
    friend class TextConnection;
    void checkAllClosed();
    void accepted(int fd, const PeerAddress &peer);

    void finished(TextConnection *c, const QString &reason);
    void refusedHttp(TextConnection *c);
    void sweep();

    const Config &m_config;
    PushRouter *m_router;
    EventLog *m_log;
    Metrics *m_metrics;
    Listener m_listener;
    RefusalReporter m_refusals;
    QSet<TextConnection *> m_connections;
    QTimer m_sweep; // idle and line timeouts
    bool m_closingAll = false;
};
