#pragma once

#include "GatewaySource.h"

#include <QMap>
#include <QPointer>

// A gateway source the test drives by hand: what a remote source would
// report, with no gateway behind it. Requests (sessions, pushes, kicks)
// are kept until the test answers them, unless answerAtOnce is set.
class FakeGatewaySource final : public GatewaySource
{
public:
    template<typename Handler>
    struct Request
    {
        QByteArray key; // the uid, or the push line
        QPointer<QObject> context;
        Handler done;
    };

    // What the getters return; change it, then emit what changed.
    LinkState link = LinkState::Connected;
    QString where = QStringLiteral("https://gw.example:2121");
    QString gatewayVersion = QStringLiteral("9.9.9");
    bool listening = true;
    QDateTime started = QDateTime::currentDateTimeUtc();
    QString ws = QStringLiteral("10.0.0.5:8013");
    QString text = QStringLiteral("127.0.0.1:5678");
    QString http = QStringLiteral("127.0.0.1:2121");
    ClusterState clusterState;
    OfflineState offlineState;
    CounterSample sample;
    QList<Event> recent;
    int capacity = 1000;
    bool controls = false;
    bool settings = false;
    QMap<QByteArray, PresenceEntry> uids;
    QMap<QByteArray, QList<SessionInfo>> sessions;
    bool answerAtOnce = false;

    QList<Request<SessionsHandler>> sessionRequests;
    QList<Request<PushHandler>> pushes;
    QList<Request<KickHandler>> kicks;
    int starts = 0;
    int stops = 0;

    LinkState linkState() const override { return link; }
    QString location() const override { return where; }
    QString version() const override { return gatewayVersion; }
    bool isListening() const override { return listening; }
    QDateTime startedAt() const override { return started; }
    QString wsAddress() const override { return ws; }
    QString textAddress() const override { return text; }
    QString httpAddress() const override { return http; }
    ClusterState cluster() const override { return clusterState; }
    OfflineState offline() const override { return offlineState; }
    QList<QByteArray> onlineUids() const override { return uids.keys(); }
    PresenceEntry presence(const QByteArray &uid) const override
    {
        PresenceEntry gone;
        gone.uid = uid;
        return uids.value(uid, gone);
    }
    void requestSessions(const QByteArray &uid, QObject *context, SessionsHandler done) override
    {
        if (answerAtOnce)
            done(sessions.value(uid));
        else
            sessionRequests.append({uid, context, std::move(done)});
    }
    QList<Event> recentEvents() const override { return recent; }
    int eventCapacity() const override { return capacity; }
    CounterSample counters() const override { return sample; }
    void push(const QByteArray &line, QObject *context, PushHandler done) override
    {
        pushes.append({line, context, std::move(done)});
    }
    void kick(const QByteArray &uid, QObject *context, KickHandler done) override
    {
        kicks.append({uid, context, std::move(done)});
    }
    bool canControlListeners() const override { return controls; }
    bool canEditSettings() const override { return settings; }
    bool startListeners(QString *error) override
    {
        ++starts;
        if (!controls) {
            *error = QStringLiteral("not supported");
            return false;
        }
        listening = true;
        Q_EMIT listeningChanged(true);
        return true;
    }
    void stopListeners() override
    {
        ++stops;
        if (!controls)
            return;
        listening = false;
        Q_EMIT listeningChanged(false);
    }

    // Driving it.
    void setPresence(const PresenceEntry &entry)
    {
        if (entry.isOnline())
            uids.insert(entry.uid, entry);
        else
            uids.remove(entry.uid);
        Q_EMIT presenceChanged(entry.uid);
    }
    void removePresence(const QByteArray &uid)
    {
        uids.remove(uid);
        Q_EMIT presenceChanged(uid);
    }
    void resetPresence(const QList<PresenceEntry> &entries)
    {
        uids.clear();
        for (const PresenceEntry &e : entries)
            uids.insert(e.uid, e);
        Q_EMIT presenceReset();
    }
    void setLink(LinkState state)
    {
        link = state;
        Q_EMIT linkStateChanged(state);
    }
    void setCluster(const ClusterState &state)
    {
        clusterState = state;
        Q_EMIT clusterChanged();
    }
    void emitSample(const CounterSample &s)
    {
        sample = s;
        Q_EMIT countersSampled(s);
    }
    // Answers a kept request as a remote gateway would, later; false when
    // its context was gone (nothing is run then).
    template<typename Handler, typename Result>
    static bool answer(QList<Request<Handler>> *requests, const Result &result)
    {
        const Request<Handler> r = requests->takeFirst();
        if (!r.context)
            return false;
        r.done(result);
        return true;
    }
};

inline PresenceEntry presenceOf(
    const QByteArray &uid, int connections, const QStringList &otherNodes = {}, quint64 out = 0)
{
    PresenceEntry e;
    e.uid = uid;
    e.connections = connections;
    for (int i = 0; i < connections; ++i)
        e.peers.append(QStringLiteral("10.1.0.%1:4000").arg(i + 1));
    e.connectedAt = connections ? 1700000000000 : 0;
    e.lastActivity = e.connectedAt;
    e.messagesIn = quint64(connections);
    e.messagesOut = out;
    e.otherNodes = otherNodes;
    return e;
}
