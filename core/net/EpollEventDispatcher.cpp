#include "EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QEvent>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QThread>
#include <QVarLengthArray>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace {
Q_LOGGING_CATEGORY(lcEventLoop, "pushconsole.eventloop")

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// epoll_event.data for the wake-up eventfd. Socket registrations put a
// non-zero tag in the upper half, so they can never collide with it.
constexpr quint64 kWakeUpData = 0;

// Enough to drain a busy gateway in a few calls; anything left over stays
// ready (level-triggered) and is returned by the next epoll_wait.
constexpr int kMaxEventsPerWait = 256;

constexpr qint64 kMaxIntervalMs = qint64(10) * 365 * 24 * 3600 * 1000; // ten years

// Mirrors poll() as QEventDispatcherUNIX uses it: an error or hang-up wakes
// every kind of notifier, so that the owner gets to see the failure on its
// next read() or write().
struct NotifierKind
{
    QSocketNotifier::Type type;
    quint32 wanted; // what we ask epoll for
    quint32 triggers; // what activates the notifier
};
constexpr std::array<NotifierKind, 3> kNotifierKinds {{
    {QSocketNotifier::Read, EPOLLIN, EPOLLIN | EPOLLHUP | EPOLLERR},
    {QSocketNotifier::Write, EPOLLOUT, EPOLLOUT | EPOLLHUP | EPOLLERR},
    {QSocketNotifier::Exception, EPOLLPRI, EPOLLPRI | EPOLLHUP | EPOLLERR},
}};

const char *typeName(int type)
{
    switch (type) {
    case QSocketNotifier::Read:
        return "Read";
    case QSocketNotifier::Write:
        return "Write";
    default:
        return "Exception";
    }
}

quint32 wantedEvents(const std::array<QSocketNotifier *, 3> &notifiers)
{
    quint32 events = 0;
    for (const NotifierKind &kind : kNotifierKinds) {
        if (notifiers[kind.type])
            events |= kind.wanted;
    }
    return events;
}

quint64 epollData(int fd, quint32 tag)
{
    return (quint64(tag) << 32) | quint32(fd);
}

// Qt documents CoarseTimer as accurate to 5% of the interval. Instead of
// ignoring that freedom we move the expiry to the roundest instant within the
// margin: with thousands of per-connection timers (QTimer defaults to
// CoarseTimer) expiries then cluster on the same milliseconds and one
// wake-up serves many of them. Qt's own rules are more elaborate; this keeps
// their two properties that matter, the 5% bound (so it may also fire early,
// as in Qt) and the preference for round boundaries.
std::chrono::steady_clock::time_point coarseExpiry(
    std::chrono::steady_clock::time_point nominal, qint64 intervalMs)
{
    using std::chrono::nanoseconds;
    const qint64 slack =
        std::chrono::duration_cast<nanoseconds>(milliseconds(intervalMs)).count() / 20;
    const qint64 t = std::chrono::duration_cast<nanoseconds>(nominal.time_since_epoch()).count();
    for (const qint64 granularityMs : {1000, 500, 250, 100, 50, 25, 10, 5, 2, 1}) {
        const qint64 g = granularityMs * 1000 * 1000;
        const qint64 nearest = (t + g / 2) / g * g;
        if (std::abs(nearest - t) <= slack)
            return std::chrono::steady_clock::time_point(
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    nanoseconds(nearest)));
    }
    return nominal;
}

// VeryCoarseTimer keeps whole-second accuracy like Qt: the first expiry is
// on a second boundary, pushed to the next one past the half-second mark.
std::chrono::steady_clock::time_point veryCoarseFirstExpiry(
    std::chrono::steady_clock::time_point now, qint64 intervalMs)
{
    const auto sinceEpoch = now.time_since_epoch();
    const auto whole = std::chrono::floor<std::chrono::seconds>(sinceEpoch);
    auto expiry = std::chrono::steady_clock::time_point(whole) + milliseconds(intervalMs);
    if (sinceEpoch - whole > 500ms)
        expiry += 1s;
    return expiry;
}

int ceilToMs(std::chrono::steady_clock::duration d)
{
    return int(std::min<qint64>(std::chrono::ceil<milliseconds>(d).count(), INT_MAX));
}

bool onThread(const QObject *dispatcher, const QObject *object)
{
    return object->thread() == dispatcher->thread()
        && dispatcher->thread() == QThread::currentThread();
}
} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
{
    m_epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (m_epollFd < 0)
        qFatal("EpollEventDispatcher: epoll_create1 failed: %s", strerror(errno));
    m_wakeUpFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wakeUpFd < 0)
        qFatal("EpollEventDispatcher: eventfd failed: %s", strerror(errno));
    epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeUpData;
    if (epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_wakeUpFd, &ev) != 0)
        qFatal("EpollEventDispatcher: cannot watch the wake-up eventfd: %s", strerror(errno));
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    close(m_wakeUpFd);
    close(m_epollFd);
}

// ---------------------------------------------------------------------------
// Socket notifiers

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = int(notifier->type());
    if (!onThread(this, notifier)) {
        qCWarning(
            lcEventLoop, "QSocketNotifier: socket notifiers cannot be enabled from another thread");
        return;
    }

    auto it = m_sockets.find(fd);
    if (it == m_sockets.end()) {
        it = m_sockets.insert(fd, SocketSet {});
        if (++m_lastTag == 0) // 0 is the wake-up fd's
            ++m_lastTag;
        it->tag = m_lastTag;
    }
    SocketSet &set = *it;
    if (set.notifiers[type] && set.notifiers[type] != notifier)
        qCWarning(lcEventLoop, "Multiple socket notifiers for same socket %d and type %s", fd,
            typeName(type));
    set.notifiers[type] = notifier;
    // A notifier enabled while a batch is being dispatched must not be
    // activated by that batch: its readiness was sampled before it existed.
    set.serials[type] = ++m_notifierSerial;
    updateEpoll(fd, set);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const int fd = int(notifier->socket());
    const int type = int(notifier->type());
    if (!onThread(this, notifier)) {
        qCWarning(lcEventLoop,
            "QSocketNotifier: socket notifier (fd %d) cannot be disabled from another thread", fd);
        return;
    }

    const auto it = m_sockets.find(fd);
    if (it == m_sockets.end() || !it->notifiers[type])
        return;
    if (it->notifiers[type] != notifier) {
        qCWarning(lcEventLoop, "Multiple socket notifiers for same socket %d and type %s", fd,
            typeName(type));
        return;
    }
    it->notifiers[type] = nullptr;
    it->serials[type] = 0;
    updateEpoll(fd, *it);
}

void EpollEventDispatcher::addToEpoll(int epollFd, int fd, SocketSet &set)
{
    epoll_event ev {};
    ev.events = wantedEvents(set.notifiers);
    ev.data.u64 = epollData(fd, set.tag);
    if (epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev) == 0
        || (errno == EEXIST && epoll_ctl(epollFd, EPOLL_CTL_MOD, fd, &ev) == 0)) {
        set.inEpoll = true;
        return;
    }
    if (errno == EPERM) {
        // Regular files and some character devices cannot be watched. poll()
        // reports them as always readable and writable, so must we.
        set.unpollable = true;
        return;
    }
    qCWarning(lcEventLoop, "QSocketNotifier: cannot watch fd %d: %s", fd, strerror(errno));
}

void EpollEventDispatcher::updateEpoll(int fd, SocketSet &set)
{
    const quint32 events = wantedEvents(set.notifiers);
    if (events == 0) {
        if (set.inEpoll && epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr) != 0) {
            // EBADF: the fd was closed before its notifier was disabled. The
            // kernel dropped the registration with it, unless the file lives
            // on in a duplicate; noteUnmatchedEvent() copes with that case.
            if (errno == EBADF || errno == ENOENT)
                qCDebug(
                    lcEventLoop, "fd %d was closed before its socket notifier was disabled", fd);
            else
                qCWarning(lcEventLoop, "epoll_ctl(DEL, %d) failed: %s", fd, strerror(errno));
        }
        if (set.unpollable)
            m_unpollableFds.removeOne(fd);
        m_sockets.remove(fd);
        return;
    }
    if (set.unpollable)
        return;
    if (set.inEpoll) {
        epoll_event ev {};
        ev.events = events;
        ev.data.u64 = epollData(fd, set.tag);
        if (epoll_ctl(m_epollFd, EPOLL_CTL_MOD, fd, &ev) == 0)
            return;
        if (errno != ENOENT) {
            qCWarning(lcEventLoop, "epoll_ctl(MOD, %d) failed: %s", fd, strerror(errno));
            return;
        }
        // The fd was closed (the kernel forgot it) and its number reused.
        set.inEpoll = false;
    }
    addToEpoll(m_epollFd, fd, set);
    if (set.unpollable)
        m_unpollableFds.append(fd);
}

int EpollEventDispatcher::activateSocketNotifiers(
    int fd, quint32 tag, quint32 events, quint64 batchSerial)
{
    int activated = 0;
    for (const NotifierKind &kind : kNotifierKinds) {
        if (!(events & kind.triggers))
            continue;
        // Look the fd up again for every notifier: the previous handler may
        // have disabled or deleted any notifier, including those of this fd,
        // and may have grown the hash.
        const auto it = m_sockets.constFind(fd);
        if (it == m_sockets.cend() || it->tag != tag)
            break;
        QSocketNotifier *notifier = it->notifiers[kind.type];
        if (!notifier || it->serials[kind.type] > batchSerial)
            continue;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
        if (m_interrupt.load(std::memory_order_relaxed))
            break;
    }
    return activated;
}

// epoll registers (file, fd) pairs, not fds. If an fd is closed while still
// registered and the file survives in a duplicate (dup(), fork()), the
// kernel keeps reporting it under the old number and EPOLL_CTL_DEL can no
// longer reach it: a level-triggered event that never goes away, i.e. a
// busy loop. A registration we removed successfully is never reported again,
// so an event that matches nothing in two consecutive waits can only be such
// a zombie. The only cure is a fresh epoll instance.
void EpollEventDispatcher::noteUnmatchedEvent(quint64 data, bool &sawKnownZombie)
{
    if (m_previousUnmatched.contains(data))
        sawKnownZombie = true;
    else
        m_unmatched.append(data);
}

void EpollEventDispatcher::rebuildEpoll()
{
    qCWarning(lcEventLoop,
        "epoll reports a descriptor that was closed while a socket notifier was enabled "
        "and survives in a duplicate; rebuilding the epoll set");
    const int epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (epollFd < 0) {
        qCWarning(lcEventLoop, "epoll_create1 failed: %s", strerror(errno));
        return;
    }
    epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeUpData;
    if (epoll_ctl(epollFd, EPOLL_CTL_ADD, m_wakeUpFd, &ev) != 0) {
        qCWarning(lcEventLoop, "cannot watch the wake-up eventfd: %s", strerror(errno));
        close(epollFd);
        return;
    }
    for (auto it = m_sockets.begin(); it != m_sockets.end(); ++it) {
        if (it->unpollable)
            continue;
        it->inEpoll = false;
        addToEpoll(epollFd, it.key(), *it);
        if (it->unpollable)
            m_unpollableFds.append(it.key());
    }
    close(m_epollFd);
    m_epollFd = epollFd;
    m_unmatched.clear();
    m_previousUnmatched.clear();
}

bool EpollEventDispatcher::consumeWakeUp()
{
    eventfd_t value;
    const bool woken = eventfd_read(m_wakeUpFd, &value) == 0;
    // Only after the read: clearing first would let a concurrent wakeUp()
    // write the eventfd, we would swallow it, and with the flag still set no
    // later wakeUp() would ever write again.
    m_wakeUpPending.store(false, std::memory_order_release);
    return woken;
}

int EpollEventDispatcher::waitAndDispatch(int timeoutMs, bool includeNotifiers, bool &woken)
{
    const auto deadline = Clock::now() + milliseconds(std::max(timeoutMs, 0));
    auto retryTimeout = [&] {
        return timeoutMs <= 0 ? timeoutMs : std::max(0, ceilToMs(deadline - Clock::now()));
    };

    if (!includeNotifiers) {
        // Sockets stay registered (and level-triggered ready) in the epoll
        // set, so waiting on it would spin. Wait for the wake-up fd alone.
        pollfd pfd {m_wakeUpFd, POLLIN, 0};
        int n;
        while ((n = poll(&pfd, 1, timeoutMs)) < 0 && errno == EINTR)
            timeoutMs = retryTimeout();
        if (n < 0)
            qCWarning(lcEventLoop, "poll failed: %s", strerror(errno));
        woken = n > 0 && consumeWakeUp();
        return woken ? 1 : 0;
    }

    // On the stack, not a member: a handler below may run a nested event
    // loop that waits again while this batch is only half dispatched.
    std::array<epoll_event, kMaxEventsPerWait> events;
    const quint64 batchSerial = m_notifierSerial;
    int n;
    while ((n = epoll_wait(m_epollFd, events.data(), int(events.size()), timeoutMs)) < 0
        && errno == EINTR)
        timeoutMs = retryTimeout();
    if (n < 0) {
        qCWarning(lcEventLoop, "epoll_wait failed: %s", strerror(errno));
        return 0;
    }
    m_previousUnmatched.swap(m_unmatched);
    m_unmatched.clear();

    int activated = 0;
    bool sawZombie = false;
    for (int i = 0; i < n && !m_interrupt.load(std::memory_order_relaxed); ++i) {
        const quint64 data = events[i].data.u64;
        if (data == kWakeUpData) {
            woken = consumeWakeUp();
            activated += woken ? 1 : 0;
            continue;
        }
        const int fd = int(quint32(data));
        const quint32 tag = quint32(data >> 32);
        const auto it = m_sockets.constFind(fd);
        if (it == m_sockets.cend() || it->tag != tag) {
            noteUnmatchedEvent(data, sawZombie);
            continue;
        }
        activated += activateSocketNotifiers(fd, tag, events[i].events, batchSerial);
    }

    if (!m_unpollableFds.isEmpty()) {
        const QList<int> unpollable = m_unpollableFds; // handlers may change the list
        for (const int fd : unpollable) {
            if (m_interrupt.load(std::memory_order_relaxed))
                break;
            const auto it = m_sockets.constFind(fd);
            if (it != m_sockets.cend() && it->unpollable)
                activated += activateSocketNotifiers(fd, it->tag, EPOLLIN | EPOLLOUT, batchSerial);
        }
    }

    if (sawZombie)
        rebuildEpoll();
    return activated;
}

// ---------------------------------------------------------------------------
// Timers
//
// Timeouts come from epoll_wait's millisecond argument rather than a
// timerfd: Qt timers have millisecond intervals anyway, and a timerfd would
// cost a timerfd_settime() syscall whenever the nearest expiry changes,
// which with per-connection timers being restarted on traffic is most of
// the time.

void EpollEventDispatcher::registerTimer(
    int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qCWarning(lcEventLoop, "EpollEventDispatcher::registerTimer: invalid arguments");
        return;
    }
    if (!onThread(this, object)) {
        qCWarning(lcEventLoop,
            "EpollEventDispatcher::registerTimer: timers cannot be started from another thread");
        return;
    }
    if (const auto old = m_timers.find(timerId); old != m_timers.end())
        removeTimer(old);
    // The API takes qint64; absurd values would overflow the nanosecond
    // clock, and nothing real waits longer than this.
    interval = std::min(interval, kMaxIntervalMs);

    Timer timer;
    timer.object = object;
    timer.interval = interval;
    timer.type = timerType;
    timer.registration = ++m_timerSerial;

    // Same conversions as Qt: below 20 ms, 5% is under the millisecond
    // resolution; from 20 s on it is over a second.
    if (timer.type == Qt::CoarseTimer && interval <= 20)
        timer.type = Qt::PreciseTimer;
    else if (timer.type == Qt::CoarseTimer && interval >= 20000)
        timer.type = Qt::VeryCoarseTimer;

    const auto now = Clock::now();
    Clock::time_point expiry = now + milliseconds(interval);
    switch (timer.type) {
    case Qt::PreciseTimer:
        break;
    case Qt::CoarseTimer:
        expiry = coarseExpiry(expiry, interval);
        break;
    case Qt::VeryCoarseTimer:
        // Whole seconds, rounded to nearest. Qt would let 1..499 ms round to
        // zero and then fire on every loop iteration; we keep at least one
        // second. A zero interval stays a zero timer whatever its type.
        if (interval > 0) {
            timer.interval = std::max<qint64>(1, (interval + 500) / 1000) * 1000;
            expiry = veryCoarseFirstExpiry(now, timer.interval);
        }
        break;
    }
    timer.key = {expiry, ++m_timerSerial};
    m_timerQueue.emplace(timer.key, timerId);
    m_timersByObject.insert(object, timerId);
    m_timers.insert(timerId, timer);
}

void EpollEventDispatcher::removeTimer(QHash<int, Timer>::iterator it)
{
    m_timerQueue.erase(it->key);
    m_timersByObject.remove(it->object, it.key());
    m_timers.erase(it);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    if (thread() != QThread::currentThread()) {
        qCWarning(lcEventLoop,
            "EpollEventDispatcher::unregisterTimer: timers cannot be stopped from another thread");
        return false;
    }
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    removeTimer(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    if (!object || !onThread(this, object)) {
        qCWarning(lcEventLoop, "EpollEventDispatcher::unregisterTimers: invalid object or thread");
        return false;
    }
    const QList<int> ids = m_timersByObject.values(object);
    for (const int id : ids) {
        if (const auto it = m_timers.find(id); it != m_timers.end())
            removeTimer(it);
    }
    return !ids.isEmpty();
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(
    QObject *object) const
{
    QVarLengthArray<std::pair<TimerKey, int>, 4> timers;
    for (auto it = m_timersByObject.constFind(object);
         it != m_timersByObject.cend() && it.key() == object; ++it) {
        if (const auto t = m_timers.constFind(it.value()); t != m_timers.cend())
            timers.append({t->key, it.value()});
    }
    // Qt lists them in expiry order.
    std::sort(timers.begin(), timers.end());

    QList<TimerInfo> result;
    result.reserve(timers.size());
    for (const auto &[key, id] : std::as_const(timers)) {
        const Timer &t = *m_timers.constFind(id);
        result.append(TimerInfo(id, int(std::min<qint64>(t.interval, INT_MAX)), t.type));
    }
    return result;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.constFind(timerId);
    if (it == m_timers.cend())
        return -1;
    const auto left = it->key.first - Clock::now();
    return left <= Clock::duration::zero() ? 0 : ceilToMs(left);
}

void EpollEventDispatcher::requeue(Timer &timer, Clock::time_point expiry)
{
    auto node = m_timerQueue.extract(timer.key); // reuses the map node: no allocation
    Q_ASSERT(!node.empty());
    timer.key = {expiry, ++m_timerSerial};
    node.key() = timer.key;
    m_timerQueue.insert(std::move(node));
}

void EpollEventDispatcher::scheduleNext(Timer &timer, Clock::time_point now)
{
    const auto interval = milliseconds(timer.interval);
    Clock::time_point next = timer.key.first + interval;
    // A late timer skips the intervals it missed instead of firing back to
    // back to catch up, as in Qt.
    if (timer.type == Qt::VeryCoarseTimer && timer.interval > 0) {
        if (next <= now)
            next =
                Clock::time_point(std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()))
                + interval;
    } else {
        if (next <= now)
            next = now + interval;
        if (timer.type == Qt::CoarseTimer) {
            next = coarseExpiry(next, timer.interval);
            if (next <= now)
                next += interval;
        }
    }
    requeue(timer, next);
}

int EpollEventDispatcher::activateTimers()
{
    if (m_timerQueue.empty())
        return 0;
    const auto now = Clock::now();

    // Handlers may start, stop and restart timers (ids get reused) or delete
    // their objects, so fix the set of due timers first, then fire each one
    // only if it still has the same queue entry. Restarted or new timers have
    // a new entry and wait for the next pass, and each timer fires at most
    // once per pass, which gives zero timers their once-per-iteration rhythm.
    QVarLengthArray<std::pair<int, quint64>, 32> due;
    for (auto it = m_timerQueue.cbegin(); it != m_timerQueue.cend() && it->first.first <= now; ++it)
        due.append({it->second, it->first.second});

    int activated = 0;
    for (const auto &[id, sequence] : std::as_const(due)) {
        if (m_interrupt.load(std::memory_order_relaxed))
            break; // the rest are still due and fire on the next pass
        const auto it = m_timers.find(id);
        if (it == m_timers.end() || it->key.second != sequence)
            continue;
        scheduleNext(*it, now);
        // Like Qt, a timer whose event is still being delivered (its handler
        // runs a nested event loop) is rescheduled but not re-entered.
        if (it->activating)
            continue;
        // Zero timers do not count, as in Qt: "process until nothing is left"
        // loops would otherwise never end while one is running.
        if (it->interval > 0)
            ++activated;
        it->activating = true;
        QObject *object = it->object;
        const quint64 registration = it->registration;

        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);

        // The handler may have stopped the timer, deleted the object, or
        // started another timer that got the same id.
        if (const auto after = m_timers.find(id);
            after != m_timers.end() && after->registration == registration)
            after->activating = false;
    }
    return activated;
}

int EpollEventDispatcher::timeoutToNextTimer() const
{
    const auto now = Clock::now();
    for (const auto &[key, id] : m_timerQueue) {
        // Timers whose handler is running a nested loop cannot fire; a zero
        // timer among them would otherwise make that loop spin.
        if (m_timers.constFind(id)->activating)
            continue;
        return key.first <= now ? 0 : ceilToMs(key.first - now);
    }
    return -1;
}

// ---------------------------------------------------------------------------
// Event loop

void EpollEventDispatcher::wakeUp()
{
    // Any number of wake-ups before the loop gets to run cost one write.
    if (!m_wakeUpPending.exchange(true, std::memory_order_acq_rel)) {
        int ret;
        while ((ret = eventfd_write(m_wakeUpFd, 1)) != 0 && errno == EINTR) { }
        if (ret != 0)
            qCWarning(lcEventLoop, "eventfd_write failed: %s", strerror(errno));
    }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupt.store(true, std::memory_order_relaxed);
    wakeUp();
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupt.store(false, std::memory_order_relaxed);
    Q_EMIT awake();

    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    // A pending wake-up means someone posted an event or asked us to look
    // again; the eventfd is readable, so there is no blocking to announce.
    const bool canWait = (flags & QEventLoop::WaitForMoreEvents)
        && !m_interrupt.load(std::memory_order_relaxed)
        && !m_wakeUpPending.load(std::memory_order_acquire);
    if (canWait)
        Q_EMIT aboutToBlock();
    if (m_interrupt.load(std::memory_order_relaxed))
        return false;

    int timeoutMs = 0;
    if (canWait) {
        timeoutMs = includeTimers ? timeoutToNextTimer() : -1;
        if (includeNotifiers && !m_unpollableFds.isEmpty())
            timeoutMs = 0; // they are always ready
    }

    bool woken = false;
    int processed = waitAndDispatch(timeoutMs, includeNotifiers, woken);
    if (includeTimers && !m_interrupt.load(std::memory_order_relaxed))
        processed += activateTimers();
    // Almost every wake-up comes from QCoreApplication::postEvent(). Deliver
    // what was posted now rather than at the start of the next call, which
    // may block first: "while (!done) processEvents(WaitForMoreEvents);"
    // would otherwise hang when 'done' is set by the event that woke us.
    // (QEventDispatcherUNIX has that hang; the glib dispatcher does not.)
    if (woken && !m_interrupt.load(std::memory_order_relaxed))
        QCoreApplication::sendPostedEvents();
    return processed > 0;
}
