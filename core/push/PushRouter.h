#pragma once

#include "Event.h"
#include "FanOut.h"
#include "OfflineDelivery.h"
#include "PushRequest.h"
#include "PushResult.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

struct Metrics;
class ClusterRoute;
class EventLog;
class OfflineStore;
class SessionRegistry;

// The one place that delivers: the text port, the console and every later
// API hand their pushes here, so they all count, log and behave alike.
class PushRouter final : public QObject
{
    Q_OBJECT
public:
    PushRouter(
        SessionRegistry *registry, EventLog *log, Metrics *metrics, QObject *parent = nullptr);

    // Runs once with the final result of a push that was answered pending.
    using Completion = std::function<void(const PushResult &)>;

    // `line` is a whole request (a JSON object with a uid) and is also the
    // frame every target receives, untouched. `origin` names the sender for
    // the log (a peer address, "console", ...). Most pushes are answered at
    // once; one whose answer depends on Redis (a publish to other nodes, a
    // store) returns a result with pending set, and `done` runs exactly once
    // later with the final one (also when the link is lost meanwhile). Never
    // called for a result that was not pending. Callers that may be gone by
    // then guard what `done` captures.
    PushResult push(const QByteArray &line, PushSource source, const QString &origin = QString(),
        Completion done = {});

    // For callers that have parsed already.
    PushResult deliver(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin = QString(), Completion done = {});

    // Cluster mode and offline delivery, both optional. Without them the
    // path of a push is the single-node one, less one test.
    void setCluster(ClusterRoute *cluster) { m_cluster = cluster; }
    // Stored messages are delivered by an OfflineDelivery made here, which
    // follows the registry and the store by itself.
    void setOfflineStore(OfflineStore *store, const OfflineDelivery::Options &options = {});
    OfflineDelivery *offlineDelivery() const { return m_delivery.get(); }
    // False when every push is answered at once: callers need no completion.
    bool mayAnswerLater() const;

    // With --threads: whether the socket threads are behind on the writes
    // handed to them. Push ports stop reading while they are (whenCaughtUp),
    // so backends feel the back-pressure as they do when one thread writes
    // everything, instead of replies running ahead of deliveries.
    void setBacklogCheck(std::function<bool()> behind) { m_behind = std::move(behind); }
    bool isBackedUp() const { return m_behind && m_behind(); }
    // Runs resume (unless context is gone) once the backlog is small again:
    // when caughtUp() is called, or at the latest 10 ms later.
    void whenCaughtUp(QObject *context, std::function<void()> resume);
    // The socket threads say they caught up: whoever waits goes on now.
    void caughtUp();

    // How a large fan-out is sliced (see FanOut); tests make slices small.
    const FanOut::Slice &fanOutSlice() const { return m_fanOut.slice(); }
    void setFanOutSlice(const FanOut::Slice &slice) { m_fanOut.setSlice(slice); }
    bool isFanningOut() const { return m_fanOut.isBusy(); }
    // Sends what sliced fan-outs still owe now and answers them: before a
    // shutdown closes the connections, and before they are destroyed.
    void finishFanOuts() { m_fanOut.finishAll(); }

private:
    // More targets than one slice: delivered by m_fanOut over several loop
    // iterations, and answered when every target had its turn.
    bool isLarge(const PushRequest &request) const;
    PushResult fanOut(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin, Completion done);
    // Other nodes and the offline store; records the push and answers it,
    // maybe later (see push()).
    // `behind`: uids online here whose backlog is being delivered; the push
    // is stored behind it. `sliced`, when set, starts the local delivery
    // (a FanOut), which reports its counts to the function it is given;
    // `local` then holds no counts yet.
    PushResult routeBeyond(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin, const PushResult &local, const QList<QByteArray> &behind,
        Completion done, const std::function<void(FanOut::Finished)> &sliced = {});
    void record(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin, const PushResult &result);
    // The log's event for a push, less its result.
    Event describe(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin, Event::Level level) const;
    // Counts the push and logs `described` (when set) with its result.
    void record(PushSource source, const Event *described, const PushResult &result);
    void checkCaughtUp();

    SessionRegistry *m_registry;
    EventLog *m_log;
    Metrics *m_metrics;
    ClusterRoute *m_cluster = nullptr;
    OfflineStore *m_offline = nullptr;
    std::unique_ptr<OfflineDelivery> m_delivery;
    FanOut m_fanOut;
    std::function<bool()> m_behind;
    std::vector<std::pair<QPointer<QObject>, std::function<void()>>> m_waitingForThreads;
    QTimer m_caughtUpPoll;
};
