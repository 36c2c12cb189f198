#pragma once

#include "Event.h"
#include "GatewayTypes.h"
#include "SessionInfo.h"

#include <QDateTime>
#include <QList>
#include <QObject>

#include <functional>

// The one door between the console and a gateway. Panels and models read
// and act only through it, so none of them knows whether the gateway runs
// in this process (LocalGatewaySource) or on a server the console attached
// to over the network (a remote source: the admin event stream plus the
// HTTP API).
//
// Reads are answered from what the source holds in memory (the in-process
// one reads the core, a remote one its mirror of the admin stream), so they
// never wait. What needs a round trip to a remote gateway (a uid's
// connections, a push, a kick) answers through a handler that runs exactly
// once: maybe before the call returns (the in-process source answers most
// at once), maybe later. The handler is dropped, not run, once its context
// object is destroyed, as with QObject::connect.
class GatewaySource : public QObject
{
    Q_OBJECT
public:
    // The console's link to the gateway. In process it is always Connected;
    // a remote source loses it with the network and re-syncs (a fresh
    // snapshot, announced by presenceReset()) once back.
    enum class LinkState { Connected, Lost, Resyncing };
    Q_ENUM(LinkState)

    using SessionsHandler = std::function<void(const QList<SessionInfo> &sessions)>;
    using PushHandler = std::function<void(const PushResult &result)>;
    using KickHandler = std::function<void(const KickResult &result)>;

    explicit GatewaySource(QObject *parent = nullptr);
    ~GatewaySource() override;

    // Identity and state.
    virtual LinkState linkState() const = 0;
    // Where the gateway is, for the window title: empty in process, the
    // URL attached to otherwise.
    virtual QString location() const = 0;
    virtual QString version() const = 0;
    // The watched gateway's node id (cluster mode) or host name, as it
    // calls itself; empty in process.
    virtual QString nodeName() const { return {}; }
    // Why the link is not Connected, in one translated sentence (a wrong
    // key, an unreachable host, a lost connection); empty when it is.
    virtual QString linkError() const { return {}; }
    virtual bool isListening() const = 0;
    // When the listeners last opened (UTC); the uptime counts from it.
    virtual QDateTime startedAt() const = 0;
    // "HOST:PORT" of each listener; the HTTP API's is "off" when disabled.
    virtual QString wsAddress() const = 0;
    virtual QString textAddress() const = 0;
    virtual QString httpAddress() const = 0;
    virtual ClusterState cluster() const = 0;
    virtual OfflineState offline() const = 0;

    // Presence: every uid bound on the watched gateway and, in cluster mode
    // with the link up, on the other nodes.
    virtual QList<QByteArray> onlineUids() const = 0;
    // A uid not online anywhere comes back with isOnline() false.
    virtual PresenceEntry presence(const QByteArray &uid) const = 0;
    // The connections of uid on the watched gateway (none for a uid bound
    // on other nodes only).
    virtual void requestSessions(const QByteArray &uid, QObject *context, SessionsHandler done) = 0;

    // Events: what happened before the console looked, oldest first, at
    // most eventCapacity() of them; later ones come by eventsArrived().
    virtual QList<Event> recentEvents() const = 0;
    // How many events the console keeps (--log-buffer).
    virtual int eventCapacity() const = 0;

    // The latest counters: read now in process, the last sample received
    // from a remote gateway.
    virtual CounterSample counters() const = 0;

    // Actions. A push line as on the push port (a JSON object with a uid),
    // sent as the console's; done gets the final result.
    virtual void push(const QByteArray &line, QObject *context, PushHandler done) = 0;
    // Closes every connection of uid on the watched gateway and, with
    // kicksAcrossCluster(), asks the other nodes holding it to close theirs.
    virtual void kick(const QByteArray &uid, QObject *context, KickHandler done) = 0;
    // A kick reaches uids bound only on other nodes: the window offers it
    // for every uid of the cluster view, not only this node's.
    virtual bool kicksAcrossCluster() const { return false; }

    // Capabilities: only the gateway in this process can open and close its
    // listeners or take new settings; the window hides what it cannot do.
    virtual bool canControlListeners() const = 0;
    virtual bool canEditSettings() const = 0;
    // With canControlListeners() only; otherwise they fail and change nothing.
    virtual bool startListeners(QString *error) = 0;
    virtual void stopListeners() = 0;

Q_SIGNALS:
    void linkStateChanged(GatewaySource::LinkState state);
    // Opened or closed; the addresses, the start time and the offline
    // store may have changed with it.
    void listeningChanged(bool listening);
    // Cluster mode began, the link went up or down, nodes came or went.
    void clusterChanged();
    // uid came, went, or its connections changed (here or on another node):
    // read presence(uid). Emitted per uid; consumers batch.
    void presenceChanged(const QByteArray &uid);
    // Many uids changed at once (a node joined or left, the link to the
    // cluster or to the gateway was lost or re-synced): read onlineUids()
    // again, at the next batch rather than at once.
    void presenceReset();
    // New events, oldest first: one per event in process, one batch per
    // stream message from a remote gateway.
    void eventsArrived(const QList<Event> &events);
    // About once a second.
    void countersSampled(const CounterSample &sample);
};
