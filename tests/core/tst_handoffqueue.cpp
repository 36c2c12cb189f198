#include "TestMain.h"
#include "Waiting.h"

#include "EpollEventDispatcher.h"
#include "HandOffQueue.h"

#include <QDir>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

// Cross-thread state in this test goes through std::atomic, std::mutex and
// HandOffQueue only, never through Qt's posted events, QThread::wait() or
// QThread::quit() from another thread: Qt is not built with ThreadSanitizer,
// so TSan cannot see the ordering those give (quit() wakes the thread's
// dispatcher from here while the thread may be deleting it, ordered only by
// a QMutex), and the test must stay clean under it (scripts/test.sh runs
// it so). Threads therefore end their own loops.

namespace {

constexpr int LongWaitMs = 120000; // ThreadSanitizer runs this 5-15 times slower

// Worker threads run on the dispatcher under test, like the main thread.
void useTestDispatcher(QThread &thread)
{
    if (qgetenv("PUSHCONSOLE_TEST_EVENT_LOOP") == "epoll")
        thread.setEventDispatcher(new EpollEventDispatcher);
}

quint64 targetOf(int producer, int seq)
{
    return (quint64(producer) << 32) | quint32(seq);
}

// 16 bytes for every target, so that all items cost the same.
QByteArray payloadOf(quint64 target)
{
    return QByteArray::number(target, 16).rightJustified(16, '0');
}

int openDescriptors()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System).size());
}

// The consumer: a thread with its own event loop, the queue created and
// destroyed in it. Started stalled, it blocks before its loop runs (so
// nothing is drained) until release(); then it drains, or deletes the queue
// with whatever is queued. stop() asks through a second queue, whose
// handler ends the loop.
class ConsumerThread final
{
public:
    enum class Then { Drain, DeleteQueue };

    explicit ConsumerThread(qint64 maxBytes, bool stalled = false)
        : m_maxBytes(maxBytes)
        , m_stalled(stalled)
    {
        useTestDispatcher(m_thread);
        QObject::connect(
            &m_thread, &QThread::started, &m_thread, [this] { started(); }, Qt::DirectConnection);
        QObject::connect(
            &m_thread, &QThread::finished, &m_thread, [this] { finished(); }, Qt::DirectConnection);
    }
    ~ConsumerThread() { stop(); }

    bool start()
    {
        m_thread.start();
        return TestSupport::waitFor([this] { return m_ready.load(); }, LongWaitMs);
    }
    HandOffQueue::Producer producer() const { return m_producer; } // after start()

    void release(Then then)
    {
        const std::lock_guard<std::mutex> lock(m_gateMutex);
        m_then = then;
        m_gateOpen = true;
        m_gate.notify_all();
    }

    // Stops the loop; afterwards everything below may be read.
    bool stop()
    {
        if (!m_thread.isRunning())
            return m_done.load();
        if (m_stalled)
            release(m_then);
        if (!m_stop.tryPush(HandOffItem {}))
            return false;
        const bool done = TestSupport::waitFor([this] { return m_done.load(); }, LongWaitMs);
        return m_thread.wait(LongWaitMs) && done;
    }

    // How many items arrived, from any thread.
    qint64 count() const { return m_count.load(); }
    HandOffQueue::Stats stats() const { return m_producer.stats(); }

    // Read after stop().
    std::vector<quint64> targets;
    std::vector<quintptr> payloadData;
    int badPayloads = 0;
    qint64 maxBytesSeen = 0; // the queue's bytes, as the handler saw them
    HandOffQueue::Stats finalStats;

private:
    void started()
    {
        m_queue = new HandOffQueue(m_maxBytes, [this](HandOffItem &item) { handle(item); });
        m_producer = m_queue->producer();
        m_control = new HandOffQueue(64 * 1024, [this](HandOffItem &) { m_thread.quit(); });
        m_stop = m_control->producer();
        m_ready.store(true);
        if (!m_stalled)
            return;
        std::unique_lock<std::mutex> lock(m_gateMutex);
        m_gate.wait(lock, [this] { return m_gateOpen; });
        if (m_then == Then::DeleteQueue) {
            delete m_queue;
            m_queue = nullptr;
        }
    }

    void handle(HandOffItem &item)
    {
        targets.push_back(item.target);
        payloadData.push_back(quintptr(item.payload.constData()));
        if (item.tag == 0 && item.payload != payloadOf(item.target))
            ++badPayloads;
        maxBytesSeen = std::max(maxBytesSeen, m_queue->stats().bytes);
        m_count.fetch_add(1);
    }

    void finished()
    {
        if (m_queue)
            finalStats = m_queue->stats();
        else
            finalStats = m_producer.stats();
        delete m_queue;
        m_queue = nullptr;
        delete m_control;
        m_control = nullptr;
        m_done.store(true);
    }

    const qint64 m_maxBytes;
    const bool m_stalled;
    QThread m_thread;
    HandOffQueue *m_queue = nullptr; // the consumer thread's
    HandOffQueue::Producer m_producer;
    HandOffQueue *m_control = nullptr; // the consumer thread's
    HandOffQueue::Producer m_stop;
    std::atomic<bool> m_ready {false};
    std::atomic<bool> m_done {false};
    std::atomic<qint64> m_count {0};
    std::mutex m_gateMutex;
    std::condition_variable m_gate;
    bool m_gateOpen = false;
    Then m_then = Then::Drain;
};

// A producer: a thread with its own event loop pushing `count` items, a
// chunk per turn of the loop (a zero timer). A refused item is tried again
// on the next turn, or given up when giveUp is set. The thread ends its loop
// once it is done, or when stop() asks.
class ProducerThread final
{
public:
    ProducerThread(HandOffQueue::Producer producer, int id, int count, bool giveUp = false)
        : m_producer(std::move(producer))
        , m_id(id)
        , m_count(count)
        , m_giveUp(giveUp)
    {
        useTestDispatcher(m_thread);
        QObject::connect(
            &m_thread, &QThread::started, &m_thread, [this] { started(); }, Qt::DirectConnection);
        QObject::connect(
            &m_thread, &QThread::finished, &m_thread,
            [this] {
                delete m_timer;
                m_timer = nullptr;
                m_stopped.store(true);
            },
            Qt::DirectConnection);
    }
    ~ProducerThread() { stop(); }

    void start() { m_thread.start(); }
    bool isDone() const { return m_done.load(); }
    bool stop()
    {
        if (!m_thread.isRunning() && !m_thread.isFinished())
            return true; // never started
        m_stopRequested.store(true);
        const bool stopped = TestSupport::waitFor([this] { return m_stopped.load(); }, LongWaitMs);
        return m_thread.wait(LongWaitMs) && stopped;
    }

    // Read once isDone().
    std::vector<int> accepted; // sequence numbers, in push order
    qint64 refused = 0;

private:
    void started()
    {
        m_timer = new QTimer;
        m_timer->setInterval(0);
        QObject::connect(m_timer, &QTimer::timeout, m_timer, [this] { pushSome(); });
        m_timer->start();
    }

    void pushSome()
    {
        if (m_stopRequested.load()) {
            m_thread.quit();
            return;
        }
        for (int pushed = 0; pushed < 256 && m_next < m_count; ++pushed) {
            const quint64 target = targetOf(m_id, m_next);
            if (m_producer.tryPush(HandOffItem {target, 0, payloadOf(target)})) {
                accepted.push_back(m_next++);
                continue;
            }
            ++refused;
            if (!m_giveUp)
                return; // the same item on the next turn: order kept
            ++m_next;
        }
        if (m_next == m_count) {
            m_timer->stop();
            m_done.store(true);
            m_thread.quit();
        }
    }

    HandOffQueue::Producer m_producer;
    const int m_id;
    const int m_count;
    const bool m_giveUp;
    QThread m_thread;
    QTimer *m_timer = nullptr; // the producer thread's
    int m_next = 0;
    std::atomic<bool> m_done {false};
    std::atomic<bool> m_stopped {false};
    std::atomic<bool> m_stopRequested {false};
};

// True when every producer's accepted items arrived exactly once and in
// its order (items of different producers may interleave).
bool arrivedInOrder(const std::vector<quint64> &targets,
    const std::vector<std::unique_ptr<ProducerThread>> &producers, QByteArray *why)
{
    std::vector<size_t> next(producers.size(), 0);
    for (const quint64 target : targets) {
        const size_t id = size_t(target >> 32);
        const int seq = int(quint32(target));
        if (id >= producers.size()) {
            *why = "unknown producer " + QByteArray::number(quint64(id));
            return false;
        }
        const std::vector<int> &expected = producers[id]->accepted;
        if (next[id] >= expected.size() || expected[next[id]] != seq) {
            *why = "producer " + QByteArray::number(quint64(id)) + ": got "
                + QByteArray::number(seq) + ", expected "
                + (next[id] < expected.size() ? QByteArray::number(expected[next[id]])
                                              : QByteArray("nothing more"));
            return false;
        }
        ++next[id];
    }
    for (size_t id = 0; id < producers.size(); ++id) {
        if (next[id] != producers[id]->accepted.size()) {
            *why = "producer " + QByteArray::number(quint64(id)) + ": "
                + QByteArray::number(quint64(next[id])) + " of "
                + QByteArray::number(quint64(producers[id]->accepted.size())) + " arrived";
            return false;
        }
    }
    return true;
}

} // namespace

class tst_HandOffQueue final : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void manyProducersOneConsumer();
    void burstCostsOneWakeUp();
    void boundHoldsWhileConsumerStalled();
    void oneFrameSharedByThreads();
    void deletingTheQueueFreesWhatIsQueued();
    void handlerMayPushAndClose();
    void costsAndBounds();
    void eventFdLivesWithTheLastHandle();
};

// 4 threads x 50 000 items into a bound of about 1 800 items: the consumer
// falls behind, producers are refused and try again, and still every item
// arrives once, in each producer's order, within the bound.
void tst_HandOffQueue::manyProducersOneConsumer()
{
    constexpr int producerCount = 4;
    constexpr int perProducer = 50000;
    constexpr qint64 bound = 256 * 1024;
    ConsumerThread consumer(bound);
    QVERIFY(consumer.start());

    std::vector<std::unique_ptr<ProducerThread>> producers;
    for (int id = 0; id < producerCount; ++id)
        producers.push_back(std::make_unique<ProducerThread>(consumer.producer(), id, perProducer));
    for (auto &producer : producers)
        producer->start();
    WAIT_COMPARE(consumer.count(), qint64(producerCount) * perProducer, LongWaitMs);
    qint64 refused = 0;
    for (auto &producer : producers) {
        WAIT_VERIFY(producer->isDone(), LongWaitMs);
        QVERIFY(producer->stop());
        refused += producer->refused;
    }
    QVERIFY(consumer.stop());

    QByteArray why;
    QVERIFY2(arrivedInOrder(consumer.targets, producers, &why), why.constData());
    QCOMPARE(consumer.badPayloads, 0);
    const HandOffQueue::Stats stats = consumer.finalStats;
    QCOMPARE(stats.pushed, qint64(producerCount) * perProducer);
    QCOMPARE(stats.refused, refused);
    QCOMPARE(stats.bytes, 0);
    QCOMPARE(stats.items, 0);
    QCOMPARE_LE(consumer.maxBytesSeen, bound);
    QCOMPARE_LE(stats.peakBytes, bound);
    // Structural, whatever the timing: a wake-up is written only by the push
    // that finds none outstanding, and only a batch that takes that push's
    // item clears it, so there are never more wake-ups than batches.
    QCOMPARE_GE(stats.wakeUps, 1);
    QCOMPARE_LE(stats.wakeUps, stats.batches);
    QCOMPARE_LE(stats.batches, stats.pushed);
    qInfo("%lld items, %lld batches, %lld wake-ups, %lld refused (tried again)", stats.pushed,
        stats.batches, stats.wakeUps, stats.refused);
}

// The consumer is blocked (before its loop runs) while 4 threads push
// 200 000 items: exactly one wake-up is written and one batch handles them
// all. No timing is involved: nothing can take the batch, and so clear the
// outstanding wake-up, before release().
void tst_HandOffQueue::burstCostsOneWakeUp()
{
    constexpr int producerCount = 4;
    constexpr int perProducer = 50000;
    constexpr qint64 total = qint64(producerCount) * perProducer;
    const qint64 bound = total * HandOffQueue::costOf(payloadOf(0));
    ConsumerThread consumer(bound, true);
    QVERIFY(consumer.start());

    std::vector<std::unique_ptr<ProducerThread>> producers;
    for (int id = 0; id < producerCount; ++id)
        producers.push_back(std::make_unique<ProducerThread>(consumer.producer(), id, perProducer));
    for (auto &producer : producers)
        producer->start();
    for (auto &producer : producers)
        WAIT_VERIFY(producer->isDone(), LongWaitMs);
    HandOffQueue::Stats stats = consumer.stats();
    QCOMPARE(stats.items, total);
    QCOMPARE(stats.bytes, bound); // exactly full: the bound is not one byte short
    QCOMPARE(stats.refused, 0);
    QCOMPARE(stats.wakeUps, 1);
    QCOMPARE(consumer.count(), 0);

    consumer.release(ConsumerThread::Then::Drain);
    WAIT_COMPARE(consumer.count(), total, LongWaitMs);
    for (auto &producer : producers)
        QVERIFY(producer->stop());
    QVERIFY(consumer.stop());
    QByteArray why;
    QVERIFY2(arrivedInOrder(consumer.targets, producers, &why), why.constData());
    stats = consumer.finalStats;
    QCOMPARE(stats.wakeUps, 1);
    QCOMPARE(stats.batches, 1);
    QCOMPARE_LE(stats.wakeUps, total / 10);
    QCOMPARE(stats.bytes, 0);
}

// A stalled consumer and 4 threads trying 2 000 items each, once: the
// queue fills to within one item of its bound and refuses the rest, each
// refusal counted; what was accepted arrives after the stall.
void tst_HandOffQueue::boundHoldsWhileConsumerStalled()
{
    constexpr int producerCount = 4;
    constexpr int perProducer = 2000;
    const qint64 cost = HandOffQueue::costOf(payloadOf(0));
    // Room for 400 items and a bit over: less than one more, but enough
    // for an item of EntryOverhead alone.
    const qint64 bound = 400 * cost + HandOffQueue::EntryOverhead + 2;
    ConsumerThread consumer(bound, true);
    QVERIFY(consumer.start());

    std::vector<std::unique_ptr<ProducerThread>> producers;
    for (int id = 0; id < producerCount; ++id)
        producers.push_back(
            std::make_unique<ProducerThread>(consumer.producer(), id, perProducer, true));
    for (auto &producer : producers)
        producer->start();
    qint64 accepted = 0, refused = 0;
    for (auto &producer : producers) {
        WAIT_VERIFY(producer->isDone(), LongWaitMs);
        accepted += qint64(producer->accepted.size());
        refused += producer->refused;
    }
    HandOffQueue::Stats stats = consumer.stats();
    QCOMPARE(accepted, 400);
    QCOMPARE(accepted + refused, qint64(producerCount) * perProducer);
    QCOMPARE(stats.pushed, accepted);
    QCOMPARE(stats.refused, refused);
    QCOMPARE(stats.bytes, accepted * cost);
    QCOMPARE_LE(stats.bytes, bound);
    QCOMPARE_GT(stats.bytes + cost, bound);
    QCOMPARE(stats.peakBytes, stats.bytes);

    // Full for this cost; bytes, not items, decide: a smaller extra cost
    // that still fits goes in.
    HandOffQueue::Producer producer = consumer.producer();
    QVERIFY(!producer.tryPush(HandOffItem {targetOf(9, 0), 1, payloadOf(0)}));
    QVERIFY(producer.tryPush(HandOffItem {targetOf(9, 1), 1, {}}, bound - stats.bytes));
    QCOMPARE(producer.stats().bytes, bound);
    ++accepted;
    QVERIFY(!producer.tryPush(HandOffItem {targetOf(9, 2), 1, {}}));

    consumer.release(ConsumerThread::Then::Drain);
    WAIT_COMPARE(consumer.count(), accepted, LongWaitMs);
    // Room again once the batch is handled.
    WAIT_COMPARE(producer.stats().bytes, 0, LongWaitMs);
    QVERIFY(producer.tryPush(HandOffItem {targetOf(9, 3), 1, {}}));
    WAIT_COMPARE(consumer.count(), accepted + 1, LongWaitMs);
    for (auto &p : producers)
        QVERIFY(p->stop());
    QVERIFY(consumer.stop());
    QCOMPARE_LE(consumer.maxBytesSeen, bound);
    std::vector<quint64> fromProducers;
    for (const quint64 target : consumer.targets) {
        if ((target >> 32) != 9)
            fromProducers.push_back(target);
    }
    QByteArray why;
    QVERIFY2(arrivedInOrder(fromProducers, producers, &why), why.constData());
}

// One frame built once, handed to three consumer threads: each handler sees
// the same bytes in memory, and once all are done the frame is ours alone.
void tst_HandOffQueue::oneFrameSharedByThreads()
{
    const QByteArray frame(4096, 'f');
    std::vector<std::unique_ptr<ConsumerThread>> consumers;
    for (int i = 0; i < 3; ++i) {
        consumers.push_back(std::make_unique<ConsumerThread>(1024 * 1024, true));
        QVERIFY(consumers.back()->start());
    }
    for (auto &consumer : consumers)
        QVERIFY(consumer->producer().tryPush(HandOffItem {1, 1, frame}));
    QVERIFY(!frame.isDetached()); // held by the queues: not copied
    for (auto &consumer : consumers)
        consumer->release(ConsumerThread::Then::Drain);
    for (auto &consumer : consumers) {
        WAIT_COMPARE(consumer->count(), 1);
        WAIT_COMPARE(consumer->stats().bytes, 0);
    }
    for (auto &consumer : consumers) {
        QVERIFY(consumer->stop());
        QCOMPARE(consumer->payloadData.size(), size_t(1));
        QCOMPARE(consumer->payloadData.front(), quintptr(frame.constData()));
        QCOMPARE(consumer->finalStats.bytes, 0);
    }
    QVERIFY(frame.isDetached());
}

// Deleting the queue with items queued frees them unhandled (the ASan stage
// checks for leaks); producers are refused from then on, and their handles
// outlive the queue.
void tst_HandOffQueue::deletingTheQueueFreesWhatIsQueued()
{
    const QByteArray shared(1000, 's');
    ConsumerThread consumer(1024 * 1024, true);
    QVERIFY(consumer.start());
    HandOffQueue::Producer producer = consumer.producer();
    for (int i = 0; i < 100; ++i) {
        QVERIFY(producer.tryPush(HandOffItem {targetOf(0, i), 0, payloadOf(targetOf(0, i))}));
        QVERIFY(producer.tryPush(HandOffItem {targetOf(1, i), 1, shared}));
    }
    QCOMPARE(producer.stats().items, 200);
    QVERIFY(!shared.isDetached());

    consumer.release(ConsumerThread::Then::DeleteQueue);
    WAIT_COMPARE(producer.stats().items, 0);
    QVERIFY(consumer.stop());
    QCOMPARE(consumer.count(), 0); // never handled
    QVERIFY(shared.isDetached()); // every reference to it dropped
    const HandOffQueue::Stats stats = producer.stats();
    QCOMPARE(stats.bytes, 0);
    QCOMPARE(stats.refused, 0);
    QVERIFY(!producer.tryPush(HandOffItem {1, 0, shared}));
    QCOMPARE(producer.stats().refused, 1);
    QVERIFY(shared.isDetached());
}

// On this thread's loop: an item the handler pushes comes in a later batch,
// after those already queued; closing from the handler drops the rest of
// the batch.
void tst_HandOffQueue::handlerMayPushAndClose()
{
    std::vector<quint64> seen;
    std::unique_ptr<HandOffQueue> queue;
    HandOffQueue::Producer self;
    queue = std::make_unique<HandOffQueue>(1024 * 1024, [&](HandOffItem &item) {
        seen.push_back(item.target);
        if (item.target == 1)
            QVERIFY(self.tryPush(HandOffItem {100, 0, {}}));
        if (item.target == 100)
            queue->close();
    });
    self = queue->producer();
    for (quint64 t = 1; t <= 3; ++t)
        QVERIFY(self.tryPush(HandOffItem {t, 0, {}}));
    WAIT_COMPARE(seen.size(), size_t(4));
    QCOMPARE(seen, (std::vector<quint64> {1, 2, 3, 100}));
    QCOMPARE(queue->stats().batches, 2);
    QCOMPARE(queue->stats().wakeUps, 2);
    QVERIFY(!queue->isOpen());
    QVERIFY(!self.tryPush(HandOffItem {5, 0, {}}));

    // Closed in the middle of a batch: the items behind are freed unhandled.
    seen.clear();
    queue = std::make_unique<HandOffQueue>(1024 * 1024, [&](HandOffItem &item) {
        seen.push_back(item.target);
        if (item.target == 2)
            queue->close();
    });
    self = queue->producer();
    const QByteArray shared(100, 'x');
    for (quint64 t = 1; t <= 4; ++t)
        QVERIFY(self.tryPush(HandOffItem {t, 0, shared}));
    WAIT_COMPARE(seen.size(), size_t(2));
    WAIT_COMPARE(queue->stats().bytes, 0);
    QVERIFY(shared.isDetached());
    QCOMPARE(seen, (std::vector<quint64> {1, 2}));
    QVERIFY(!self.tryPush(HandOffItem {5, 0, {}}));
}

void tst_HandOffQueue::costsAndBounds()
{
    int handled = 0;
    HandOffQueue none(0, [&](HandOffItem &) { ++handled; });
    QVERIFY(!none.producer().tryPush(HandOffItem {}));
    QCOMPARE(none.stats().refused, 1);
    QVERIFY(!HandOffQueue::Producer().tryPush(HandOffItem {}));
    QCOMPARE(HandOffQueue::Producer().stats().pushed, 0);

    const QByteArray payload(1000, 'p');
    const qint64 cost = HandOffQueue::costOf(payload);
    QCOMPARE(cost, 1000 + HandOffQueue::EntryOverhead);
    HandOffQueue queue(2 * cost + 10, [&](HandOffItem &) { ++handled; });
    HandOffQueue::Producer producer = queue.producer();
    // A cost below what the item takes is raised to it; a higher one is kept.
    QVERIFY(producer.tryPush(HandOffItem {1, 0, payload}, 1));
    QCOMPARE(producer.stats().bytes, cost);
    QVERIFY(!producer.tryPush(HandOffItem {2, 0, payload}, cost + 11));
    QVERIFY(producer.tryPush(HandOffItem {2, 0, payload}, cost + 10));
    QCOMPARE(producer.stats().bytes, 2 * cost + 10);
    QVERIFY(!producer.tryPush(HandOffItem {3, 0, {}}));
    QCOMPARE(producer.stats().refused, 2);
    QCOMPARE(producer.stats().wakeUps, 1);
    WAIT_COMPARE(handled, 2);
    QCOMPARE(producer.stats().bytes, 0);
    QCOMPARE(producer.stats().peakBytes, 2 * cost + 10);
}

// The eventfd is closed with the last of the queue and its producers, not
// with the queue: a producer writing to a closed descriptor could hit one
// reused by someone else.
void tst_HandOffQueue::eventFdLivesWithTheLastHandle()
{
    const int before = openDescriptors();
    auto queue = std::make_unique<HandOffQueue>(1024, [](HandOffItem &) {});
    QVERIFY(queue->isOpen());
    QCOMPARE(openDescriptors(), before + 1);
    HandOffQueue::Producer producer = queue->producer();
    queue.reset();
    QCOMPARE(openDescriptors(), before + 1);
    QVERIFY(!producer.tryPush(HandOffItem {}));
    producer = HandOffQueue::Producer();
    QCOMPARE(openDescriptors(), before);
}

PUSHCONSOLE_TEST_MAIN(tst_HandOffQueue)
#include "tst_handoffqueue.moc"
