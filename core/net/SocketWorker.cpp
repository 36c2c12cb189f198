#include "SocketWorker.h"

#include "ServerTransport.h"

#include <QLoggingCategory>
#include <QThread>

#include <algorithm>
#include <limits>

Q_LOGGING_CATEGORY(lcSocketThread, "pushconsole.threads", QtWarningMsg)

void ThreadSocket::socketReadable()
{
    worker->readFrom(this);
}

void ThreadSocket::socketDrained()
{
    worker->drainedOn(this);
}

SocketWorker::SocketWorker(HandOffQueue::Producer events, qint64 inboxBytes, CatchUpWatch *watch)
    : m_events(std::move(events))
    , m_inboxBytes(inboxBytes)
    , m_watch(watch)
{ }

SocketWorker::~SocketWorker()
{
    stop();
}

void SocketWorker::start()
{
    m_inbox = new HandOffQueue(
        m_inboxBytes, [this](HandOffItem &item) { handle(item); }, this);
    m_inboxProducer = m_inbox->producer();
    m_inbox->setBatchDoneHandler([this] { checkCaughtUp(); });
    m_retry = new QTimer(this);
    m_retry->setSingleShot(true);
    m_retry->setInterval(2);
    connect(m_retry, &QTimer::timeout, this, &SocketWorker::retryHeld);
}

void SocketWorker::stop()
{
    if (m_inbox)
        m_inbox->close();
    while (ThreadSocket *s = m_sockets.front())
        remove(s, true);
}

void SocketWorker::handle(HandOffItem &item)
{
    const quint8 op = SocketOp::op(item.tag);
    if (op == SocketOp::Stop) {
        QThread::currentThread()->quit();
        return;
    }
    ThreadSocket *s = ThreadSocket::from(item.target);
    switch (op) {
    case SocketOp::Write:
        write(s, item);
        return;
    case SocketOp::Open:
        open(s);
        return;
    case SocketOp::ShutdownWrite:
        s->io->shutdownWrite();
        return;
    case SocketOp::ReadOn:
        s->io->setReadEnabled(s->held.isEmpty() && s->owed == 0);
        return;
    case SocketOp::ReadOff:
        s->io->setReadEnabled(false);
        return;
    case SocketOp::Abort:
        remove(s, true);
        return;
    case SocketOp::Close:
        remove(s, false);
        return;
    default:
        return;
    }
}

void SocketWorker::checkCaughtUp()
{
    // After the batch gave its bytes back under the queue's lock; the main
    // thread sets the flag before it takes that lock to read the figures,
    // so if it saw them high, this sees the flag.
    if (!m_watch->wanted.load() || m_inbox->stats().bytes > m_watch->lowWater
        || !m_watch->wanted.exchange(false))
        return;
    HandOffItem item;
    item.tag = SocketOp::tag(SocketOp::CaughtUp);
    // One per wait of the main thread (the flag): bounded.
    m_events.forcePush(std::move(item));
}

void SocketWorker::open(ThreadSocket *s)
{
    s->io = openServerTransport(s->fd, s->tls.get(), this, s, s->plain, s->secure);
    s->tls.reset(); // the session copied what it needs
    // The main thread enforces the cap (RemoteSocket::write); here it must
    // never refuse what was accepted there.
    s->io->setMaxPending(std::numeric_limits<qint64>::max() / 4);
    m_sockets.pushBack(s->hook, s);
}

void SocketWorker::write(ThreadSocket *s, HandOffItem &item)
{
    const qint64 bytes = item.headSize + item.payload.size();
    if (s->failedTold || !s->io->write(QByteArrayView(item.head, item.headSize), item.payload)) {
        // Lost before it is taken off the count: the main thread may see it
        // twice for a moment, never not at all.
        s->lostBytes.fetch_add(bytes);
        if (!s->failedTold && s->io->failed()) {
            qCDebug(lcSocketThread) << "write failed on socket" << s->id << s->io->errorString();
            s->failedTold = true;
            if (s->owed == 0)
                s->owed = SocketOp::Failed;
            tell(s);
        }
    }
    publish(s);
    s->takenBytes.fetch_add(bytes);
    s->takenCost.fetch_add(SocketOp::cost(item.tag));
    if (s->io->pendingBytes() == 0)
        drainedOn(s);
}

void SocketWorker::publish(ThreadSocket *s)
{
    // Stored only when changed: the line then stays in this core's cache
    // while the queue stays empty, as it does for a client that reads.
    const qint64 bytes = s->io->pendingBytes();
    if (bytes != s->queuedBytes.load(std::memory_order_relaxed))
        s->queuedBytes.store(bytes);
    const qint64 memory = s->io->queuedMemory();
    if (memory != s->queuedMemory.load(std::memory_order_relaxed))
        s->queuedMemory.store(memory);
}

void SocketWorker::drainedOn(ThreadSocket *s)
{
    publish(s);
    if (s->io->pendingBytes() != 0 || !s->drainWanted.load())
        return;
    if (!s->drainWanted.exchange(false))
        return;
    HandOffItem item;
    item.target = s->id;
    item.tag = SocketOp::tag(SocketOp::Drained);
    // One outstanding per socket at most (the flag): bounded by the sockets.
    m_events.forcePush(std::move(item));
}

void SocketWorker::readFrom(ThreadSocket *s)
{
    if (!s->held.isEmpty() || s->owed != 0) {
        s->io->setReadEnabled(false); // the main thread has not taken the last yet
        return;
    }
    char *buffer = StreamSocket::scratch();
    // As much per wake-up as a connection on the main thread would read.
    qint64 budget = 4 * StreamSocket::ScratchSize;
    QByteArray data;
    while (budget > 0) {
        const qint64 n = s->io->read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            break;
        if (n <= 0) {
            s->owed = n == 0 ? quint8(SocketOp::End) : quint8(SocketOp::Failed);
            s->io->setReadEnabled(false);
            break;
        }
        data.append(buffer, n);
        budget -= n;
    }
    s->held = std::move(data);
    tell(s);
}

bool SocketWorker::tell(ThreadSocket *s)
{
    // In pieces well under the queue's bound: a piece larger than the
    // bound would never fit.
    const qint64 piece =
        qMax<qint64>(1024, qMin<qint64>(64 * 1024, m_inboxBytes / 4 - HandOffQueue::EntryOverhead));
    while (!s->held.isEmpty()) {
        HandOffItem item;
        item.target = s->id;
        item.tag = SocketOp::tag(SocketOp::Data);
        const qint64 n = qMin<qint64>(piece, s->held.size());
        item.payload = n == s->held.size() ? s->held : s->held.first(n);
        if (!m_events.tryPush(std::move(item))) {
            // The main thread is that far behind: stop reading this client
            // (its kernel buffer and then TCP hold it back) and try again soon.
            qCDebug(lcSocketThread) << "main thread queue full; not reading socket" << s->id;
            s->io->setReadEnabled(false);
            m_held.push_back(s);
            if (!m_retry->isActive())
                m_retry->start();
            return false;
        }
        if (n == s->held.size())
            s->held = QByteArray();
        else
            s->held.remove(0, n);
    }
    if (s->owed != 0) {
        HandOffItem item;
        item.target = s->id;
        item.tag = SocketOp::tag(s->owed);
        if (s->owed == SocketOp::Failed)
            item.payload = s->io->errorString().toUtf8();
        if (s->owed == SocketOp::Failed)
            s->failedTold = true;
        s->owed = 0;
        // Once per socket: bounded by the sockets.
        m_events.forcePush(std::move(item));
        return true;
    }
    return true;
}

void SocketWorker::retryHeld()
{
    std::vector<ThreadSocket *> held;
    held.swap(m_held);
    for (ThreadSocket *s : held) {
        const bool wasEnding = s->owed != 0;
        if (tell(s) && !wasEnding)
            s->io->setReadEnabled(true);
    }
}

void SocketWorker::remove(ThreadSocket *s, bool reset)
{
    m_sockets.remove(s->hook);
    m_held.erase(std::remove(m_held.begin(), m_held.end(), s), m_held.end());
    if (s->io) {
        if (reset)
            s->io->abort();
        else
            s->io->close();
    }
    delete s;
}
