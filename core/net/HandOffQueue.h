#pragma once

#include <QByteArray>
#include <QObject>

#include <functional>
#include <memory>

class QSocketNotifier;

// What crosses from one thread to another: a payload for a target the
// consumer knows (a connection id, say). The queue reads neither target nor
// tag. The payload is a QByteArray, so a frame built once is handed to
// several threads by reference (its count is atomic), never copied.
struct HandOffItem
{
    quint64 target = 0;
    quint64 tag = 0; // what the item belongs to (a push to answer), for the caller
    QByteArray payload;
    // A few bytes that go before the payload (a WebSocket frame header):
    // kept in the item, so a shared payload needs no copy to get one.
    static constexpr int MaxHead = 14;
    quint8 headSize = 0;
    char head[MaxHead] = {};
};

// A bounded hand-off from any number of threads to the event loop of one
// consumer thread.
//
// Producers push through a Producer handle (copyable, usable from any
// thread, valid after the queue is gone). The queue itself is a QObject of
// the consumer thread; create it there. A push takes a short lock to append
// to a vector; the consumer swaps the whole vector out under the same lock
// and runs the handler on it outside the lock, in push order (so each
// producer's items keep their order).
//
// Bounded in bytes: every item is counted with a cost (its payload plus
// EntryOverhead at least) from its push until the handler has run on the
// batch it came in, so queued and being-handled items together never pass
// maxBytes. A push that would is refused at once (tryPush returns false,
// counted in refused): it never blocks and never grows the queue.
//
// Wake-ups: one eventfd per queue. Only the push that finds the consumer
// idle (no wake-up outstanding) writes to it; every push after it, until
// the consumer has taken the batch, rides on that wake-up. A burst of
// thousands of pushes costs one write and one turn of the consumer's loop.
class HandOffQueue final : public QObject
{
    Q_OBJECT
public:
    // Per item on top of its payload: its slot in the vector (an item and
    // its cost, 64 bytes) with room for the vector's doubling, and the
    // payload's heap header. A shared payload is counted in full by every
    // queue holding it, which overstates, never understates.
    static constexpr qint64 EntryOverhead = 160;
    static qint64 costOf(const QByteArray &payload) { return payload.size() + EntryOverhead; }

    // Runs in the consumer thread, once per item, in order. It may push
    // (to this queue too: the item comes in a later batch) and may close the
    // queue (the rest of the batch is dropped); to delete the queue, use
    // deleteLater().
    using Handler = std::function<void(HandOffItem &item)>;

    struct Stats
    {
        qint64 bytes = 0; // queued or being handled
        qint64 peakBytes = 0; // the most bytes ever held at once
        qint64 items = 0; // queued (not counting those being handled)
        qint64 pushed = 0; // accepted pushes, ever
        qint64 refused = 0; // pushes refused: over the bound or after close
        qint64 wakeUps = 0; // eventfd writes by producers
        qint64 batches = 0; // non-empty batches handed to the handler
    };

    class State;

    // A producer's side of the queue: cheap to copy, for any thread.
    class Producer
    {
    public:
        Producer() = default;
        // False when the item would take the queue past its bound, when the
        // queue is closed, or for a default-constructed producer; the item
        // is then dropped and the caller answers `fail`. cost is raised to
        // costOf(item.payload) if lower.
        bool tryPush(HandOffItem item, qint64 cost);
        bool tryPush(HandOffItem item) { return tryPush(std::move(item), 0); }
        // Past the bound too: for the few items that must not be lost (a
        // socket to close), whose number the caller bounds some other way
        // (one per connection). Counted in bytes like any other; false
        // only when the queue is closed.
        bool forcePush(HandOffItem item);
        Stats stats() const;

    private:
        friend class HandOffQueue;
        explicit Producer(std::shared_ptr<State> state);
        bool push(HandOffItem item, qint64 cost, bool force);
        std::shared_ptr<State> m_state;
    };

    // maxBytes is the bound on what is queued and being handled. Without
    // an eventfd (out of descriptors) the queue starts closed: isOpen() is
    // false and every push is refused.
    HandOffQueue(qint64 maxBytes, Handler handler, QObject *parent = nullptr);
    ~HandOffQueue() override;

    Producer producer() const;
    // Runs in the consumer thread after each batch, once its items' bytes
    // are given back (so stats() no longer counts them).
    void setBatchDoneHandler(std::function<void()> done) { m_batchDone = std::move(done); }
    bool isOpen() const;
    qint64 maxBytes() const { return m_maxBytes; }
    Stats stats() const;

    // Refuses every later push and frees what is queued without handling
    // it. The destructor closes too.
    void close();

private:
    void drain();

    const qint64 m_maxBytes;
    Handler m_handler;
    std::function<void()> m_batchDone;
    std::shared_ptr<State> m_state;
    QSocketNotifier *m_notifier = nullptr;
    bool m_closed = false; // the consumer thread's copy of the state's flag
    bool m_draining = false;
    bool m_drainAgain = false;
};
