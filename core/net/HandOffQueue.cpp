#include "HandOffQueue.h"

#include <QLoggingCategory>
#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include <sys/eventfd.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcHandOff, "pushconsole.handoff", QtWarningMsg)

namespace {

struct Entry
{
    HandOffItem item;
    qint64 cost = 0;
};

// EntryOverhead must cover a slot at twice its size (a grown vector) plus a
// payload header and its malloc chunk.
static_assert(2 * sizeof(Entry) + 32 <= HandOffQueue::EntryOverhead);

// A consumer's spare vector keeps its capacity for the next batch up to
// this many slots (64 KiB); past it the memory goes back at once, so a
// burst does not leave a large unaccounted vector behind.
constexpr size_t SpareSlots = 1024;

} // namespace

// Shared by the queue and its producers; the last of them frees it, so the
// eventfd is never closed while a producer may still write to it (a
// descriptor number reused elsewhere would get the write).
class HandOffQueue::State
{
public:
    State(qint64 maxBytes, int eventFd)
        : maxBytes(maxBytes)
        , eventFd(eventFd)
    { }
    ~State()
    {
        if (eventFd >= 0)
            ::close(eventFd);
    }

    const qint64 maxBytes;
    const int eventFd;

    // Everything below is under mutex. The armed flag needs no atomic of its
    // own: the push that sets it holds the lock anyway.
    mutable std::mutex mutex;
    std::vector<Entry> items;
    Stats counters;
    bool armed = false; // a wake-up is outstanding: the consumer will take the batch
    bool closed = false;

    // The consumer thread's alone: the vector the last batch came in,
    // emptied, swapped in as the next queue.
    std::vector<Entry> spare;
};

HandOffQueue::Producer::Producer(std::shared_ptr<State> state)
    : m_state(std::move(state))
{ }

bool HandOffQueue::Producer::tryPush(HandOffItem item, qint64 cost)
{
    return push(std::move(item), cost, false);
}

bool HandOffQueue::Producer::forcePush(HandOffItem item)
{
    return push(std::move(item), 0, true);
}

bool HandOffQueue::Producer::push(HandOffItem item, qint64 cost, bool force)
{
    if (!m_state)
        return false;
    State &s = *m_state;
    cost = std::max(cost, costOf(item.payload));
    bool wake = false;
    {
        const std::lock_guard<std::mutex> lock(s.mutex);
        if (s.closed || (!force && cost > s.maxBytes - s.counters.bytes)) {
            ++s.counters.refused;
            return false;
        }
        s.items.push_back(Entry {std::move(item), cost});
        s.counters.bytes += cost;
        s.counters.peakBytes = std::max(s.counters.peakBytes, s.counters.bytes);
        ++s.counters.pushed;
        if (!s.armed) {
            s.armed = true;
            ++s.counters.wakeUps;
            wake = true;
        }
    }
    // Outside the lock: the consumer may be waiting for it. The counter of
    // an eventfd cannot overflow from single increments, so this cannot
    // fail with EAGAIN; the descriptor lives as long as the state.
    if (wake) {
        const quint64 one = 1;
        if (::write(s.eventFd, &one, sizeof one) != sizeof one)
            qCWarning(lcHandOff, "eventfd write failed: %s", std::strerror(errno));
    }
    return true;
}

HandOffQueue::Stats HandOffQueue::Producer::stats() const
{
    if (!m_state)
        return {};
    const std::lock_guard<std::mutex> lock(m_state->mutex);
    Stats stats = m_state->counters;
    stats.items = qint64(m_state->items.size());
    return stats;
}

HandOffQueue::HandOffQueue(qint64 maxBytes, Handler handler, QObject *parent)
    : QObject(parent)
    , m_maxBytes(maxBytes)
    , m_handler(std::move(handler))
{
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    m_state = std::make_shared<State>(maxBytes, fd);
    if (fd < 0) {
        qCWarning(
            lcHandOff, "eventfd failed: %s; the queue refuses every push", std::strerror(errno));
        m_state->closed = true;
        m_closed = true;
        return;
    }
    m_notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &HandOffQueue::drain);
}

HandOffQueue::~HandOffQueue()
{
    close();
}

HandOffQueue::Producer HandOffQueue::producer() const
{
    return Producer(m_state);
}

bool HandOffQueue::isOpen() const
{
    const std::lock_guard<std::mutex> lock(m_state->mutex);
    return !m_state->closed;
}

HandOffQueue::Stats HandOffQueue::stats() const
{
    return Producer(m_state).stats();
}

void HandOffQueue::close()
{
    m_closed = true;
    std::vector<Entry> dropped;
    {
        const std::lock_guard<std::mutex> lock(m_state->mutex);
        m_state->closed = true;
        dropped.swap(m_state->items);
        for (const Entry &entry : dropped)
            m_state->counters.bytes -= entry.cost;
    }
    // Payloads are freed here, outside the lock. A drain under way stops
    // at its next item and gives back its own bytes.
    dropped.clear();
    m_state->spare = {};
    if (m_notifier) {
        // It may be the notifier whose activation is running: let it be
        // deleted once that returns (as a child, with us at the latest).
        m_notifier->setEnabled(false);
        m_notifier->deleteLater();
        m_notifier = nullptr;
    }
}

void HandOffQueue::drain()
{
    State &s = *m_state;
    // Reset the eventfd before taking the batch: a wake-up written after
    // this read finds it readable again, so none is lost (at worst one
    // turn finds an empty queue).
    quint64 count = 0;
    if (::read(s.eventFd, &count, sizeof count) < 0 && errno != EAGAIN)
        qCWarning(lcHandOff, "eventfd read failed: %s", std::strerror(errno));
    // A handler that spins a nested event loop must not see later items
    // before the ones behind it in the outer batch.
    if (m_draining) {
        m_drainAgain = true;
        return;
    }
    m_draining = true;
    do {
        m_drainAgain = false;
        std::vector<Entry> batch;
        batch.swap(s.spare);
        {
            const std::lock_guard<std::mutex> lock(s.mutex);
            if (s.closed)
                break;
            batch.swap(s.items);
            s.armed = false;
            if (!batch.empty())
                ++s.counters.batches;
        }
        qint64 batchBytes = 0;
        for (Entry &entry : batch) {
            batchBytes += entry.cost;
            // Closed by the handler: the rest is dropped unhandled.
            if (m_handler && !m_closed)
                m_handler(entry.item);
        }
        batch.clear(); // payloads freed before their bytes are given back
        {
            const std::lock_guard<std::mutex> lock(s.mutex);
            s.counters.bytes -= batchBytes;
        }
        if (batch.capacity() <= SpareSlots && !m_closed)
            s.spare.swap(batch);
        if (m_batchDone && !m_closed)
            m_batchDone();
    } while (m_drainAgain && !m_closed);
    m_draining = false;
}
