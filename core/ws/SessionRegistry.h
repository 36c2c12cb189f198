#pragma once

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

    QList<SessionInfo> sessions(const QByteArray &uid) const;
    static SessionInfo info(const WsConnection *c);

Q_SIGNALS:
    void uidOnline(const QByteArray &uid);
    void uidOffline(const QByteArray &uid);
    // The connection count of uid changed (it is online in both cases).
    void uidChanged(const QByteArray &uid, int connections);

private:
    QHash<QByteArray, Connections> m_byUid;
    int m_connectionCount = 0;
};
