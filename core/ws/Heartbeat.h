#pragma once

#include "IntrusiveList.h"

#include <QObject>
#include <QTimer>

class WsConnection;

// The once-a-second sweep of the seed, without the seed's walk over every
// connection: connections sit in lists ordered by the time that matters to
// each list (last activity, last ping, connect or close start), so a tick
// only looks at the ones that are due.
class Heartbeat final : public QObject
{
    Q_OBJECT
public:
    // What to do with a connection that is due; closing ones that time out
    // are aborted by the heartbeat itself.
    class Handler
    {
    public:
        virtual void evictIdle(WsConnection *c, qint64 idleMs) = 0;
        virtual void bindTimedOut(WsConnection *c) = 0;

    protected:
        ~Handler() = default;
    };

    explicit Heartbeat(Handler *handler, QObject *parent = nullptr);

    void setTimeouts(qint64 idleMs, qint64 pingMs, qint64 bindMs, qint64 closeMs);
    void start();
    void stop();

    void track(WsConnection *c); // accepted: idle and bind deadlines start
    void opened(WsConnection *c); // handshake done: pings start
    void touch(WsConnection *c); // a frame arrived
    void bound(WsConnection *c); // no bind deadline any more
    void closing(WsConnection *c); // only the close deadline is left
    void forget(WsConnection *c);

    int unboundCount() const { return m_unbound.size(); }
    WsConnection *oldestUnbound() const { return m_unbound.front(); }

    // Connections handled by one sweep at most (~10 ms of work).
    static constexpr int MaxPerSweep = 2000;

    // One sweep at monotonic time now; the timer calls it every second.
    void tick(qint64 now);

private:
    Handler *m_handler;
    QTimer m_timer;
    QTimer m_continuation; // the rest of a sweep that ran out of budget
    IntrusiveList<WsConnection> m_idle; // by last activity
    IntrusiveList<WsConnection> m_ping; // by last ping sent
    IntrusiveList<WsConnection> m_unbound; // by connect time
    IntrusiveList<WsConnection> m_closing; // by close start
    qint64 m_idleMs = 55000;
    qint64 m_pingMs = 20000;
    qint64 m_bindMs = 55000;
    qint64 m_closeMs = 2000;
};
