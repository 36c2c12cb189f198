#include "HttpConnection.h"

#include "HttpResponder.h"
#include "HttpResponse.h"
#include "MonotonicClock.h"
#include "ServerTransport.h"
#include "TlsStream.h"

#include <utility>

namespace {

// The object, its socket notifier, the slot queue's first block, the peer
// string: what a connection costs before it holds any request or answer
// (measured: about 2 KiB of RSS per idle connection).
constexpr qint64 ConnectionOverhead = 2048;
constexpr int MaxFields = 100;
constexpr char Continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace

HttpConnection::HttpConnection(
    int fd, const PeerAddress &peer, Owner *owner, QObject *parent, const TlsContext *tls)
    : QObject(parent)
    , m_server(owner)
    , m_peerString(peer.toString())
    , m_peer(peer)
{
    m_io = openServerTransport(fd, tls, this, this, m_plain, m_tls);
    const Limits &limits = owner->limits();
    m_parser.setLimits({limits.maxHead, limits.maxBody, MaxFields});
    // Only a backstop: reading stops at maxOutput, so only answers to
    // requests already in flight can go past it.
    m_io->setMaxPending(limits.maxOutput + 16 * 1024 * 1024);
    m_acceptedAt = m_idleSince = MonotonicClock::nowMs();
}

HttpConnection::~HttpConnection() = default;

qint64 HttpConnection::outputBytes() const
{
    const qint64 queued = m_io ? m_io->pendingBytes() : 0;
    return queued + m_heldBytes + qint64(m_slots.size()) * SlotOverhead;
}

qint64 HttpConnection::bufferedBytes() const
{
    // TLS adds the decrypted input Qt holds for us and the slack of its
    // buffers around queued output.
    const qint64 tls =
        m_tls ? m_tls->bufferedInput() + m_tls->queuedMemory() - m_tls->pendingBytes() : 0;
    return ConnectionOverhead + outputBytes() + tls + m_in.capacity() + m_parser.bufferedBytes();
}

bool HttpConnection::handshaking() const
{
    return m_tls && m_io && !m_tls->isEncrypted();
}

bool HttpConnection::isPaused() const
{
    return m_state == State::Open && !m_reading;
}

bool HttpConnection::canTakeRequest() const
{
    const Limits &limits = m_server->limits();
    return m_unanswered < limits.maxInFlight && outputBytes() < limits.maxOutput;
}

void HttpConnection::socketReadable()
{
    char *buffer = StreamSocket::scratch();
    // Bounded per wake-up so that one client cannot starve the others.
    qint64 budget = 4 * StreamSocket::ScratchSize;
    while (m_state != State::Closed && budget > 0) {
        // Paused: what the client sends waits in the kernel, not here.
        if (m_state == State::Open && (!m_in.isEmpty() || !canTakeRequest()))
            break;
        const qint64 n = m_io->read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            break;
        if (n == 0 && !handshaking()) {
            peerClosed();
            return;
        }
        if (n <= 0) {
            if (handshaking()) {
                const QString why = n == 0 ? QStringLiteral("closed during the TLS handshake")
                                           : m_io->errorString();
                m_server->tlsFailed(m_peerString, why);
                m_io->abort();
                finish(QStringLiteral("TLS handshake failed: %1").arg(why));
                return;
            }
            finish(QStringLiteral("read error: %1").arg(m_io->errorString()));
            return;
        }
        budget -= n;
        if (m_state != State::Open)
            continue; // closing: what still arrives is dropped
        const qint64 used = process(buffer, n);
        if (m_state == State::Open && used < n)
            m_in = QByteArray(buffer + used, n - used);
        flush();
        // The answers just written may have made room for what is left.
        processBuffered();
    }
    updateReading();
}

qint64 HttpConnection::process(const char *data, qint64 size)
{
    m_processing = true;
    m_continueOwed = false; // the body is coming anyway
    qint64 pos = 0;
    while (pos < size && m_state == State::Open && canTakeRequest()) {
        const bool wasIdle = m_parser.isIdle();
        qint64 used = 0;
        const HttpParser::Result result = m_parser.parse(data + pos, size - pos, &used);
        pos += used;
        // The deadline runs from a request's first byte, not its latest.
        if (wasIdle && !m_parser.isIdle())
            m_requestStarted = MonotonicClock::nowMs();
        if (result == HttpParser::Result::HeadDone) {
            // Only when the client waits for it: no body bytes yet. An
            // interim answer must not overtake final answers still owed.
            if (m_parser.request().expectsContinue() && pos == size) {
                if (m_slots.empty())
                    m_io->write(QByteArrayView(Continue));
                else
                    m_continueOwed = true;
            }
        } else if (result == HttpParser::Result::Done) {
            dispatch(m_parser.takeRequest());
        } else if (result == HttpParser::Result::Error) {
            refuse(m_parser.errorStatus(), m_parser.errorMessage());
            pos = size;
        } else if (used == 0) {
            break;
        }
    }
    m_processing = false;
    return pos;
}

void HttpConnection::dispatch(HttpRequest &&request)
{
    const quint64 id = m_nextRequest++;
    Slot slot;
    slot.head = request.isHead();
    slot.close = !request.keepAlive();
    m_slots.push_back(std::move(slot));
    ++m_unanswered;
    if (!request.keepAlive()) {
        // The last request: whatever follows it is not read.
        m_state = State::Closing;
        m_in = QByteArray();
        m_parser.reset();
    }
    m_server->handleRequest(request, HttpResponder(this, this, id), m_peerString);
}

void HttpConnection::respond(quint64 request, const HttpResponse &response)
{
    if (m_state == State::Closed || request < m_firstSlot
        || request - m_firstSlot >= quint64(m_slots.size()))
        return;
    Slot &slot = m_slots[size_t(request - m_firstSlot)];
    if (slot.ready)
        return;
    slot.bytes = response.serialize(!slot.head, slot.close);
    slot.ready = true;
    --m_unanswered;
    m_heldBytes += slot.bytes.size();
    m_server->answered(response.status);
    if (m_processing)
        return; // flushed, with the others of the batch, once it is parsed
    flush();
    resume();
}

bool HttpConnection::takeOver(quint64 request, const std::function<void(TakenSocket &)> &adopt)
{
    // The upgraded protocol starts right after this request: no earlier
    // answer may still be on its way, and no later request may exist.
    if (m_state == State::Closed || request != m_firstSlot || m_slots.size() != 1
        || m_slots.front().ready)
        return false;
    TakenSocket taken;
    if (m_tls) {
        // The session goes as it is, queued output and all: it cannot be
        // rebuilt on the descriptor.
        taken.tls = std::move(m_tls);
    } else {
        taken.fd = m_plain->release();
        if (taken.fd < 0)
            return false;
    }
    m_io = nullptr;
    // What the client sent after the request belongs to the new protocol
    // and may not come before its answer: dropped (plain), or left for the
    // new owner to read (TLS, already decrypted).
    m_server->answered(101);
    finish(QStringLiteral("upgraded"));
    adopt(taken);
    return true;
}

void HttpConnection::refuse(int status, const QByteArray &message, const QString &detail)
{
    // The old guard's answer, byte for byte: no Cache-Control.
    const HttpResponse response = HttpResponse::make(
        status, QByteArrayLiteral("application/json"), "{\"error\":\"" + message + "\"}", false);
    const quint64 id = m_nextRequest++;
    Slot slot;
    slot.close = true;
    m_slots.push_back(std::move(slot));
    ++m_unanswered;
    m_state = State::Closing;
    m_in = QByteArray();
    m_parser.reset();
    m_server->requestRefused(status, m_peerString,
        detail.isEmpty() ? QString::fromUtf8(message)
                         : QString::fromUtf8(message) + QStringLiteral(", ") + detail);
    respond(id, response);
}

void HttpConnection::flush()
{
    if (m_state == State::Closed)
        return;
    QByteArray out;
    while (!m_slots.empty() && m_slots.front().ready) {
        QByteArray bytes = std::move(m_slots.front().bytes);
        m_slots.pop_front();
        ++m_firstSlot;
        m_heldBytes -= bytes.size();
        if (out.isEmpty())
            out = std::move(bytes);
        else
            out += bytes;
    }
    const qint64 now = MonotonicClock::nowMs();
    if (!out.isEmpty()) {
        if (!m_io->write(out)) {
            m_io->abort();
            finish(QStringLiteral("write failed"));
            return;
        }
        if (m_io->pendingBytes() > 0 && m_outputSince == 0)
            m_outputSince = now;
    }
    if (!m_slots.empty())
        return;
    m_idleSince = now;
    if (m_continueOwed && m_state == State::Open) {
        m_continueOwed = false;
        m_io->write(QByteArrayView(Continue));
    }
    if (m_state == State::Closing)
        startLinger();
}

void HttpConnection::processBuffered()
{
    while (m_state == State::Open && !m_in.isEmpty() && canTakeRequest()) {
        const QByteArray in = std::exchange(m_in, QByteArray());
        const qint64 used = process(in.constData(), in.size());
        if (m_state == State::Open && used < in.size())
            m_in = in.sliced(used);
        flush();
        if (used == 0)
            break;
    }
}

void HttpConnection::resume()
{
    processBuffered();
    updateReading();
}

void HttpConnection::updateReading()
{
    if (m_state == State::Closed)
        return;
    // Closing: read on, only to drop what arrives and to see the end.
    const bool want =
        m_state == State::Open ? !m_peerEof && m_in.isEmpty() && canTakeRequest() : !m_peerEof;
    if (want == m_reading)
        return;
    // Paused by us in the middle of a request: the time was ours, not the
    // client's.
    if (want && m_state == State::Open && !m_parser.isIdle())
        m_requestStarted = MonotonicClock::nowMs();
    m_reading = want;
    m_io->setReadEnabled(want);
}

void HttpConnection::peerClosed()
{
    m_peerEof = true;
    updateReading();
    if (m_state == State::Lingering) {
        if (m_io->pendingBytes() == 0)
            finish(QStringLiteral("closed"));
        return; // once the last answer is out (socketDrained) or the linger ends
    }
    // A request cut short is dropped; those read are still answered, for a
    // client that only shut down its sending side.
    m_state = State::Closing;
    m_in = QByteArray();
    m_parser.reset();
    if (m_slots.empty())
        startLinger();
}

void HttpConnection::startLinger()
{
    m_state = State::Lingering;
    m_lingerSince = MonotonicClock::nowMs();
    m_in = QByteArray();
    m_parser.reset();
    // Closing a socket with unread input makes the kernel send a reset,
    // which can destroy the last answer before the client reads it: a FIN
    // after the answer instead, and what the client still sends is dropped
    // until it closes too (bounded by the linger time).
    m_io->shutdownWrite();
    if (m_peerEof && m_io->pendingBytes() == 0) {
        finish(QStringLiteral("closed"));
        return;
    }
    updateReading();
}

void HttpConnection::closeGracefully()
{
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    m_in = QByteArray();
    m_parser.reset();
    if (m_slots.empty())
        startLinger();
    else
        updateReading();
}

void HttpConnection::socketDrained()
{
    m_outputSince = 0;
    if (m_state == State::Lingering && m_peerEof) {
        finish(QStringLiteral("closed"));
        return;
    }
    resume();
}

void HttpConnection::checkDeadlines(qint64 now)
{
    const Limits &limits = m_server->limits();
    if (m_state == State::Closed)
        return;
    if (handshaking() && now - m_acceptedAt >= limits.requestTimeoutMs) {
        // A hello that never comes, or a handshake that stalls: it holds a
        // session's memory, so it gets no longer than a request would.
        const QString why = QStringLiteral("not done in %1 ms").arg(limits.requestTimeoutMs);
        m_server->tlsFailed(m_peerString, why);
        m_io->abort();
        finish(QStringLiteral("TLS handshake %1").arg(why));
        return;
    }
    if (m_state == State::Lingering) {
        if (now - m_lingerSince >= limits.lingerMs) {
            m_io->abort();
            finish(QStringLiteral("closed"));
        }
        return;
    }
    if (m_outputSince != 0 && now - m_outputSince >= limits.idleTimeoutMs) {
        // Answers the client does not read: it is gone, or it is trying to
        // hold our memory.
        m_server->timedOut(Deadline::UnreadAnswers);
        m_io->abort();
        finish(QStringLiteral("answers not read for %1 ms").arg(limits.idleTimeoutMs));
        return;
    }
    if (m_state != State::Open)
        return;
    if (!m_parser.isIdle() && m_reading && now - m_requestStarted >= limits.requestTimeoutMs) {
        // A request trickling in (slowloris): the deadline does not move
        // with each byte.
        m_server->timedOut(Deadline::Request);
        refuse(408,
            "request not received in time (limit " + QByteArray::number(limits.requestTimeoutMs)
                + " ms)");
        return;
    }
    if (m_parser.isIdle() && m_slots.empty() && m_in.isEmpty() && m_io->pendingBytes() == 0
        && now - m_idleSince >= limits.idleTimeoutMs) {
        m_server->timedOut(Deadline::Idle);
        finish(QStringLiteral("idle for %1 ms").arg(limits.idleTimeoutMs));
    }
}

void HttpConnection::finish(const QString &reason)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    if (m_io)
        m_io->close();
    m_in = QByteArray();
    m_slots.clear();
    m_heldBytes = 0;
    m_unanswered = 0;
    m_parser.reset();
    m_server->finished(this, reason);
}
