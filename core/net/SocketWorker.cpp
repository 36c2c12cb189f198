#include "SocketWorker.h"

#include "ServerTransport.h"

#include <QLoggingCategory>
#include <QThread>

#include <limits>

Q_LOGGING_CATEGORY(lcSocketThread, "pushconsole.threads", QtWarningMsg)

struct SocketWorker::Socket final : Transport::Handler
{
    SocketWorker *worker = nullptr;
    quint64 id = 0;
    std::shared_ptr<SocketShared> shared;
    std::optional<StreamSocket> plain;
    std::unique_ptr<TlsStream> tls;
    Transport *io = nullptr;
    QByteArray held; // read, not yet taken by the main thread's inbox
    quint8 owed = 0; // End or Failed, once held is through
    bool failedTold = false;

    void socketReadable() override { worker->readFrom(this); }
    void socketDrained() override { worker->drainedOn(this); }
};

SocketWorker::SocketWorker(HandOffQueue::Producer events, qint64 inboxBytes)
    : m_events(std::move(events))
    , m_inboxBytes(inboxBytes)
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
    m_retry = new QTimer(this);
    m_retry->setSingleShot(true);
    m_retry->setInterval(2);
    connect(m_retry, &QTimer::timeout, this, &SocketWorker::retryHeld);
}

void SocketWorker::stop()
{
    if (m_inbox)
        m_inbox->close();
    const QList<quint64> ids = m_sockets.keys();
    for (quint64 id : ids)
        remove(id, true);
    const std::lock_guard<std::mutex> lock(m_adoptMutex);
    for (const Adoption &a : std::as_const(m_adoptions))
        StreamSocket::resetAndClose(a.fd);
    m_adoptions.clear();
}

void SocketWorker::adopt(
    quint64 id, int fd, const TlsContext *tls, std::shared_ptr<SocketShared> shared)
{
    Adoption a;
    a.fd = fd;
    if (tls)
        a.tls = *tls; // a copy (shared data): a reload may delete the original meanwhile
    a.shared = std::move(shared);
    {
        const std::lock_guard<std::mutex> lock(m_adoptMutex);
        m_adoptions.insert(id, std::move(a));
    }
    HandOffItem item;
    item.target = id;
    item.tag = SocketOp::tag(SocketOp::Open);
    if (!m_inboxProducer.forcePush(std::move(item))) {
        // Stopping: the descriptor goes back closed, and the main thread
        // sees a socket that failed.
        const std::lock_guard<std::mutex> lock(m_adoptMutex);
        if (m_adoptions.remove(id))
            StreamSocket::resetAndClose(fd);
    }
}

void SocketWorker::handle(HandOffItem &item)
{
    const quint8 op = SocketOp::op(item.tag);
    if (op == SocketOp::Open) {
        open(item.target);
        return;
    }
    if (op == SocketOp::Stop) {
        QThread::currentThread()->quit();
        return;
    }
    Socket *s = m_sockets.value(item.target);
    if (!s)
        return; // closed already
    switch (op) {
    case SocketOp::Write:
        write(s, item);
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
        remove(item.target, true);
        return;
    case SocketOp::Close:
        remove(item.target, false);
        return;
    default:
        return;
    }
}

void SocketWorker::open(quint64 id)
{
    Adoption a;
    {
        const std::lock_guard<std::mutex> lock(m_adoptMutex);
        const auto it = m_adoptions.find(id);
        if (it == m_adoptions.end())
            return;
        a = std::move(it.value());
        m_adoptions.erase(it);
    }
    auto *s = new Socket;
    s->worker = this;
    s->id = id;
    s->shared = std::move(a.shared);
    s->io = openServerTransport(a.fd, a.tls ? &*a.tls : nullptr, this, s, s->plain, s->tls);
    // The main thread enforces the cap (RemoteSocket::write); here it must
    // never refuse what was accepted there.
    s->io->setMaxPending(std::numeric_limits<qint64>::max() / 4);
    m_sockets.insert(id, s);
}

void SocketWorker::write(Socket *s, HandOffItem &item)
{
    const qint64 bytes = item.headSize + item.payload.size();
    if (s->failedTold || !s->io->write(QByteArrayView(item.head, item.headSize), item.payload)) {
        // Lost before it is taken off the count: the main thread may see it
        // twice for a moment, never not at all.
        s->shared->lostBytes.fetch_add(bytes);
        if (!s->failedTold && s->io->failed()) {
            s->failedTold = true;
            if (s->owed == 0)
                s->owed = SocketOp::Failed;
            tell(s);
        }
    }
    publish(s);
    s->shared->takenBytes.fetch_add(bytes);
    s->shared->takenCost.fetch_add(SocketOp::cost(item.tag));
    if (s->io->pendingBytes() == 0)
        drainedOn(s);
}

void SocketWorker::publish(Socket *s)
{
    s->shared->queuedBytes.store(s->io->pendingBytes());
    s->shared->queuedMemory.store(s->io->queuedMemory());
}

void SocketWorker::drainedOn(Socket *s)
{
    publish(s);
    if (s->io->pendingBytes() != 0 || !s->shared->drainWanted.load())
        return;
    if (!s->shared->drainWanted.exchange(false))
        return;
    HandOffItem item;
    item.target = s->id;
    item.tag = SocketOp::tag(SocketOp::Drained);
    // One outstanding per socket at most (the flag): bounded by the sockets.
    m_events.forcePush(std::move(item));
}

void SocketWorker::readFrom(Socket *s)
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

bool SocketWorker::tell(Socket *s)
{
    if (!s->held.isEmpty()) {
        HandOffItem item;
        item.target = s->id;
        item.tag = SocketOp::tag(SocketOp::Data);
        item.payload = s->held;
        if (!m_events.tryPush(std::move(item))) {
            // The main thread is that far behind: stop reading this client
            // (its kernel buffer and then TCP hold it back) and try again soon.
            s->io->setReadEnabled(false);
            m_held.push_back(s->id);
            if (!m_retry->isActive())
                m_retry->start();
            return false;
        }
        s->held = QByteArray();
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
    std::vector<quint64> held;
    held.swap(m_held);
    for (quint64 id : held) {
        Socket *s = m_sockets.value(id);
        if (!s)
            continue;
        const bool wasEnding = s->owed != 0;
        if (tell(s) && !wasEnding)
            s->io->setReadEnabled(true);
    }
}

void SocketWorker::remove(quint64 id, bool reset)
{
    Socket *s = m_sockets.take(id);
    if (!s)
        return;
    if (reset)
        s->io->abort();
    else
        s->io->close();
    delete s;
}
