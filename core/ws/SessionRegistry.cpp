#include "SessionRegistry.h"

#include "MonotonicClock.h"
#include "WsConnection.h"

#include <QDateTime>

#include <algorithm>

SessionRegistry::SessionRegistry(QObject *parent)
    : QObject(parent)
{ }

WsConnection *SessionRegistry::bind(WsConnection *c, const QByteArray &uid, int maxPerUid)
{
    c->setUid(uid);
    c->setFanOutMark(m_fanOuts);
    m_bound.pushBack(c->m_boundHook, c);
    Connections &list = m_byUid[uid];
    list.push_back(c);
    ++m_connectionCount;
    if (list.size() == 1)
        Q_EMIT uidOnline(uid);
    else
        Q_EMIT uidChanged(uid, int(list.size()));
    if (maxPerUid > 0 && int(list.size()) > maxPerUid)
        return list.front();
    return nullptr;
}

void SessionRegistry::unbind(WsConnection *c)
{
    if (!c->isBound())
        return;
    const QByteArray uid = c->uid();
    auto it = m_byUid.find(uid);
    if (it == m_byUid.end())
        return;
    Connections &list = it.value();
    const auto pos = std::find(list.begin(), list.end(), c);
    if (pos == list.end())
        return;
    list.erase(pos);
    --m_connectionCount;
    if (m_walk == &c->m_boundHook)
        m_walk = m_walk->next;
    m_bound.remove(c->m_boundHook);
    // Only this connection's own entry goes: the seed's onClose removed the
    // uid even when a newer connection had taken it over.
    if (list.empty()) {
        m_byUid.erase(it);
        Q_EMIT uidOffline(uid);
    } else {
        Q_EMIT uidChanged(uid, int(list.size()));
    }
}

WsConnection *SessionRegistry::walkNext()
{
    if (!m_walk)
        return nullptr;
    WsConnection *c = m_walk->owner; // nullptr: the root, the end
    m_walk = c ? m_walk->next : nullptr;
    return c;
}

const SessionRegistry::Connections *SessionRegistry::connections(const QByteArray &uid) const
{
    const auto it = m_byUid.constFind(uid);
    return it == m_byUid.cend() ? nullptr : &it.value();
}

SessionInfo SessionRegistry::info(const WsConnection *c)
{
    // Connections keep monotonic times; show wall-clock ones.
    const qint64 offset = QDateTime::currentMSecsSinceEpoch() - MonotonicClock::nowMs();
    SessionInfo s;
    s.id = c->id();
    s.uid = c->uid();
    s.peer = c->peer().toString();
    s.connectedAt = c->connectedAtMs() + offset;
    s.lastActivity = c->lastActivityMs() + offset;
    s.messagesIn = c->messagesIn();
    s.messagesOut = c->messagesOut();
    s.bytesIn = c->bytesIn();
    s.bytesOut = c->bytesOut();
    return s;
}

QList<SessionInfo> SessionRegistry::sessions(const QByteArray &uid) const
{
    QList<SessionInfo> out;
    if (const Connections *list = connections(uid)) {
        for (const WsConnection *c : *list)
            out.append(info(c));
    }
    return out;
}
