#pragma once

#include "IntrusiveList.h"
#include "SessionInfo.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QVarLengthArray>

class WsConnection;

// uid → its bound connections, oldest first. The only index of who is
// online; the push router reads it, the gateway writes it.
class SessionRegistry final : public QObject
{
    Q_OBJECT
public:
    // Kept inside the hash's own storage for up to two connections: a push
    // then finds its targets without one more pointer to chase.
    using Connections = QVarLengthArray<WsConnection *, 2>;

    explicit SessionRegistry(QObject *parent = nullptr);

    // Adds c under uid. When that makes more than maxPerUid, returns the
    // oldest connection, which the caller closes; otherwise nullptr.
    WsConnection *bind(WsConnection *c, const QByteArray &uid, int maxPerUid);
    void unbind(WsConnection *c);

    const Connections *connections(const QByteArray &uid) const;
    bool isOnline(const QByteArray &uid) const { return m_byUid.contains(uid); }
    int uidCount() const { return int(m_byUid.size()); }
    int connectionCount() const { return m_connectionCount; }
    QList<QByteArray> uids() const { return m_byUid.keys(); }

    template<typename F>
    void forEachConnection(F f) const
    {
        for (auto it = m_byUid.cbegin(); it != m_byUid.cend(); ++it) {
            for (WsConnection *c : it.value())
                f(c);
        }
    }

    // A walk over every bound connection in bind order, one step at a
    // time, that stays valid while connections bind and unbind between
    // steps: a sliced broadcast (FanOut) spreads over many loop
    // iterations and must hold no pointer that can dangle. Connections
    // bound after the walk began come last. One walk at a time.
    void beginWalk() { m_walk = m_bound.frontHook(); }
    // The next connection, or nullptr at the end.
    WsConnection *walkNext();

    // Sliced fan-outs are numbered; a connection is owed the ones numbered
    // above its WsConnection::fanOutMark(), which bind() sets to the
    // newest so far: a fan-out goes to who was bound when it started.
    quint64 newFanOut() { return ++m_fanOuts; }

    QList<SessionInfo> sessions(const QByteArray &uid) const;
    static SessionInfo info(const WsConnection *c);

Q_SIGNALS:
    void uidOnline(const QByteArray &uid);
    void uidOffline(const QByteArray &uid);
    // The connection count of uid changed (it is online in both cases).
    void uidChanged(const QByteArray &uid, int connections);

private:
    QHash<QByteArray, Connections> m_byUid;
    IntrusiveList<WsConnection> m_bound; // in bind order
    ListHook<WsConnection> *m_walk = nullptr; // the walk's next step
    quint64 m_fanOuts = 0;
    int m_connectionCount = 0;
};
