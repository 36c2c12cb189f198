#pragma once

#include <QAbstractEventDispatcher>
#include <QHash>
#include <QList>
#include <QMultiHash>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <utility>

class QSocketNotifier;

// An event dispatcher for Linux whose wake-up cost depends on what is ready,
// not on what is registered. Qt's own UNIX and glib dispatchers rebuild and
// poll() the full set of socket notifiers on every iteration, which with
// tens of thousands of mostly idle connections dominates the CPU time of the
// gateway. Here the kernel keeps the interest set (epoll), and timers live in
// an ordered map so the nearest expiry is found without a scan.
//
// Install it before the application object exists:
//     QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
// or for a worker with QThread::setEventDispatcher() before start().
//
// All registration functions must be called from the dispatcher's thread;
// only wakeUp() and interrupt() may be called from anywhere.
class EpollEventDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(
        int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    using Clock = std::chrono::steady_clock;
    // (expiry, sequence): the sequence keeps equal expiries in registration
    // order and makes every key unique.
    using TimerKey = std::pair<Clock::time_point, quint64>;

    struct Timer
    {
        QObject *object = nullptr;
        qint64 interval = 0; // ms; whole seconds (as ms) for VeryCoarseTimer
        Qt::TimerType type = Qt::PreciseTimer;
        TimerKey key;
        quint64 registration = 0;
        bool activating = false; // its QTimerEvent is being delivered
    };

    struct SocketSet
    {
        std::array<QSocketNotifier *, 3> notifiers {}; // indexed by QSocketNotifier::Type
        std::array<quint64, 3> serials {}; // when each notifier was registered
        quint32 tag = 0; // identifies this registration in epoll_event data
        bool inEpoll = false;
        bool unpollable = false; // regular file or similar: epoll refuses, always ready
    };

    void addToEpoll(int epollFd, int fd, SocketSet &set);
    void updateEpoll(int fd, SocketSet &set);
    int waitAndDispatch(int timeoutMs, bool includeNotifiers, bool &woken);
    int activateSocketNotifiers(int fd, quint32 tag, quint32 events, quint64 batchSerial);
    void noteUnmatchedEvent(quint64 data, bool &sawKnownZombie);
    void rebuildEpoll();
    bool consumeWakeUp();

    void scheduleNext(Timer &timer, Clock::time_point now);
    void requeue(Timer &timer, Clock::time_point expiry);
    int activateTimers();
    int timeoutToNextTimer() const;
    void removeTimer(QHash<int, Timer>::iterator it);

    int m_epollFd = -1;
    int m_wakeUpFd = -1;
    std::atomic<bool> m_wakeUpPending {false};
    std::atomic<bool> m_interrupt {false};

    QHash<int, SocketSet> m_sockets; // fd -> its notifiers
    QList<int> m_unpollableFds;
    quint64 m_notifierSerial = 0;
    quint32 m_lastTag = 0;
    // Events that matched no registration in the last batch; see noteUnmatchedEvent().
    QList<quint64> m_unmatched;
    QList<quint64> m_previousUnmatched;

    QHash<int, Timer> m_timers; // timer id -> timer
    std::map<TimerKey, int> m_timerQueue; // ordered by expiry -> timer id
    QMultiHash<QObject *, int> m_timersByObject;
    quint64 m_timerSerial = 0;
};
