#include "Heartbeat.h"

#include "Metrics.h"
#include "MonotonicClock.h"
#include "WsConnection.h"

Heartbeat::Heartbeat(Handler *handler, QObject *parent)
    : QObject(parent)
    , m_handler(handler)
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, [this] { tick(MonotonicClock::nowMs()); });
    m_continuation.setSingleShot(true);
    m_continuation.setInterval(0);
    connect(&m_continuation, &QTimer::timeout, this, [this] { tick(MonotonicClock::nowMs()); });
}

void Heartbeat::setTimeouts(qint64 idleMs, qint64 pingMs, qint64 bindMs, qint64 closeMs)
{
    m_idleMs = idleMs;
    m_pingMs = pingMs;
    m_bindMs = bindMs;
    m_closeMs = closeMs;
}

void Heartbeat::start()
{
    m_timer.start();
}

void Heartbeat::stop()
{
    m_timer.stop();
    m_continuation.stop();
}

void Heartbeat::track(WsConnection *c)
{
    m_idle.pushBack(c->m_idleHook, c);
    m_unbound.pushBack(c->m_deadlineHook, c);
}

void Heartbeat::opened(WsConnection *c)
{
    c->m_lastPing = c->m_lastActivity;
    m_ping.pushBack(c->m_pingHook, c);
}

void Heartbeat::touch(WsConnection *c)
{
    c->m_lastActivity = MonotonicClock::nowMs();
    m_idle.moveToBack(c->m_idleHook, c);
}

void Heartbeat::bound(WsConnection *c)
{
    m_unbound.remove(c->m_deadlineHook);
}

void Heartbeat::closing(WsConnection *c)
{
    m_idle.remove(c->m_idleHook);
    m_ping.remove(c->m_pingHook);
    m_unbound.remove(c->m_deadlineHook);
    m_closing.pushBack(c->m_deadlineHook, c);
}

void Heartbeat::forget(WsConnection *c)
{
    m_idle.remove(c->m_idleHook);
    m_ping.remove(c->m_pingHook);
    // One hook serves the bind list and then the close list.
    if (c->m_deadlineHook.isLinked()) {
        if (c->m_closingSince != 0)
            m_closing.remove(c->m_deadlineHook);
        else
            m_unbound.remove(c->m_deadlineHook);
    }
}

void Heartbeat::tick(qint64 now)
{
    // Each loop removes its front (the gateway calls forget() or closing()),
    // so each ends after the due connections only. A budget bounds how long
    // one sweep holds the loop when thousands fall due together (a network
    // cut, the pings of a burst of connects); the rest follow right after the
    // events that waited.
    int budget = MaxPerSweep;
    while (WsConnection *c = m_closing.front()) {
        if (now - c->m_closingSince <= m_closeMs || budget-- <= 0)
            break;
        // A close reason set earlier wins.
        c->abort(QStringLiteral("close timeout"), DropReason::CloseTimeout);
    }
    while (WsConnection *c = m_idle.front()) {
        if (now - c->m_lastActivity <= m_idleMs || budget-- <= 0)
            break;
        m_handler->evictIdle(c, now - c->m_lastActivity);
    }
    while (WsConnection *c = m_unbound.front()) {
        if (now - c->m_connectedAt <= m_bindMs || budget-- <= 0)
            break;
        m_handler->bindTimedOut(c);
    }
    if (m_pingMs > 0) {
        while (WsConnection *c = m_ping.front()) {
            if (now - c->m_lastPing < m_pingMs || budget-- <= 0)
                break;
            c->m_lastPing = now;
            m_ping.moveToBack(c->m_pingHook, c);
            c->sendPing();
        }
    }
    if (budget < 0 && !m_continuation.isActive())
        m_continuation.start();
}
