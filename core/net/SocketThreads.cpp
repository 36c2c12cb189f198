#include "SocketThreads.h"

#include "EpollEventDispatcher.h"
#include "RemoteSocket.h"
#include "SocketWorker.h"
#include "StreamSocket.h"

#include <QThread>

#include <future>

namespace {

// A socket thread: its worker is made, runs and is destroyed inside run(),
// so nothing of it is ever touched by two threads but through its inbox
// (a std::mutex) and the start-up handshake (a std::promise). Qt's queued
// calls would do too, but their ordering is a QMutex in Qt's own code,
// which ThreadSanitizer cannot see.
class SocketThread final : public QThread
{
public:
    SocketThread(HandOffQueue::Producer events, qint64 inboxBytes, CatchUpWatch *watch)
        : m_events(std::move(events))
        , m_inboxBytes(inboxBytes)
        , m_watch(watch)
    { }

    // Starts the thread and returns its worker once it is ready.
    SocketWorker *launch()
    {
        std::future<SocketWorker *> ready = m_ready.get_future();
        start();
        return ready.get();
    }

protected:
    void run() override
    {
        SocketWorker worker(m_events, m_inboxBytes, m_watch);
        worker.start();
        m_ready.set_value(&worker);
        exec();
        worker.stop();
    }

private:
    HandOffQueue::Producer m_events;
    const qint64 m_inboxBytes;
    CatchUpWatch *m_watch;
    std::promise<SocketWorker *> m_ready;
};

} // namespace

SocketThreads::SocketThreads(int workers, qint64 inboxBytes, QObject *parent)
    : QObject(parent)
    , m_events(new HandOffQueue(
          inboxBytes, [this](HandOffItem &item) { handleEvent(item); }, this))
    , m_watch(std::make_unique<CatchUpWatch>())
{
    m_watch->lowWater = BehindBytes / 2;
    for (int i = 0; i < workers; ++i) {
        auto *thread = new SocketThread(m_events->producer(), inboxBytes, m_watch.get());
        thread->setObjectName(QStringLiteral("socket-%1").arg(i + 1));
        thread->setEventDispatcher(new EpollEventDispatcher);
        SocketWorker *worker = thread->launch();
        m_threads.push_back(thread);
        m_workers.push_back(worker);
        m_inboxes.push_back(worker->inbox());
    }
}

SocketThreads::~SocketThreads()
{
    // No main-thread side may reach a descriptor a worker is closing.
    for (RemoteSocket *s : std::as_const(m_sockets))
        s->orphan();
    m_sockets.clear();
    for (size_t i = 0; i < m_threads.size(); ++i) {
        // Its loop ends on this item; the worker then resets what it holds.
        HandOffItem stop;
        stop.tag = SocketOp::tag(SocketOp::Stop);
        m_inboxes[i].forcePush(std::move(stop));
        m_threads[i]->wait();
        delete m_threads[i];
    }
}

RemoteSocket::Link SocketThreads::adopt(int fd, const TlsContext *tls)
{
    const size_t index = m_next++ % m_workers.size();
    auto *socket = new ThreadSocket;
    socket->worker = m_workers[index];
    socket->id = m_nextId++;
    socket->fd = fd;
    if (tls)
        socket->tls = std::make_unique<TlsContext>(*tls);
    HandOffItem open;
    open.target = ThreadSocket::target(socket);
    open.tag = SocketOp::tag(SocketOp::Open);
    RemoteSocket::Link link;
    link.owner = this;
    link.inbox = &m_inboxes[index];
    link.shared = socket;
    link.id = socket->id;
    link.fd = fd;
    // Only a stopped thread refuses it; then the socket fails at once
    // (its writes are refused) and is closed here.
    if (!m_inboxes[index].forcePush(std::move(open))) {
        StreamSocket::resetAndClose(fd);
        delete socket;
        link.shared = nullptr;
    }
    return link;
}

void SocketThreads::attach(quint64 id, RemoteSocket *s)
{
    m_sockets.insert(id, s);
}

void SocketThreads::forget(quint64 id)
{
    m_sockets.remove(id);
}

void SocketThreads::readAgainLater(quint64 id)
{
    QMetaObject::invokeMethod(
        this,
        [this, id] {
            if (RemoteSocket *s = m_sockets.value(id))
                s->readPending();
        },
        Qt::QueuedConnection);
}

void SocketThreads::handleEvent(HandOffItem &item)
{
    if (SocketOp::op(item.tag) == SocketOp::CaughtUp) {
        if (m_onCaughtUp)
            m_onCaughtUp();
        return;
    }
    if (RemoteSocket *s = m_sockets.value(item.target))
        s->deliver(item);
}

SocketThreads::Stats SocketThreads::stats() const
{
    Stats stats;
    stats.events = m_events->stats();
    for (const HandOffQueue::Producer &inbox : m_inboxes)
        stats.inboxes.push_back(inbox.stats());
    return stats;
}

HandOffQueue::Stats SocketThreads::inboxTotals() const
{
    HandOffQueue::Stats total;
    for (const HandOffQueue::Producer &inbox : m_inboxes) {
        const HandOffQueue::Stats one = inbox.stats();
        total.bytes += one.bytes;
        total.peakBytes += one.peakBytes;
        total.items += one.items;
        total.pushed += one.pushed;
        total.refused += one.refused;
        total.wakeUps += one.wakeUps;
        total.batches += one.batches;
    }
    return total;
}

bool SocketThreads::isBehind() const
{
    // Set before the figures are read (see SocketWorker::checkCaughtUp):
    // whichever thread is behind now will see it when its batch is done.
    m_watch->wanted.store(true);
    for (const HandOffQueue::Producer &inbox : m_inboxes) {
        if (inbox.stats().bytes > BehindBytes)
            return true;
    }
    m_watch->wanted.store(false);
    return false;
}
