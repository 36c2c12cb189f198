#include "TextConnection.h"

#include "Config.h"
#include "EventLog.h"
#include "Events.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "PushRouter.h"

#include <QPointer>
#include <QTimer>

#include <cstring>

namespace {
// Only a backstop: --max-pending-replies stops reading long before this.
constexpr qint64 MaxQueuedReplyBytes = 64 * 1024 * 1024;

bool isLetter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool isTokenChar(char c)
{
    return isLetter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
} // namespace

TextConnection::TextConnection(int fd, const PeerAddress &peer, Owner *owner, QObject *parent)
    : QObject(parent)
    , m_socket(fd, this, this)
    , m_server(owner)
    , m_peerString(peer.toString())
    , m_peer(peer)
{
    m_socket.setMaxPending(MaxQueuedReplyBytes);
    m_openedMs = m_lastActivityMs = MonotonicClock::nowMs();
}

bool TextConnection::looksLikeHttp(QByteArrayView line)
{
    // A request is a JSON object and never starts with a letter: the normal
    // path pays one comparison.
    if (line.isEmpty() || !isLetter(line.front()))
        return false;
    static const char *const Methods[] = {
        "GET ", "POST ", "PUT ", "HEAD ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT ", "TRACE "};
    for (const char *method : Methods) {
        const qsizetype length = qsizetype(std::strlen(method));
        if (line.size() >= length && qstrnicmp(line.data(), method, size_t(length)) == 0)
            return true;
    }
    // A header field ("Host: ...", "Content-Type: ..."): a token and a colon.
    qsizetype i = 0;
    while (i < line.size() && isTokenChar(line[i]))
        ++i;
    return i < line.size() && line[i] == ':';
}

void TextConnection::socketReadable()
{
    char *buffer = StreamSocket::scratch();
    // One buffer per wake-up (about a thousand pushes): a backend flooding
    // the port then holds the loop for milliseconds, not tens of them.
    qint64 budget = StreamSocket::ScratchSize;
    Batch batch;
    m_busy = true;
    while (!m_finished && !m_paused && !m_peerHungUp && budget > 0) {
        const qint64 n = m_socket.read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            break;
        if (n < 0) {
            const QString why = m_socket.errorString();
            m_busy = false;
            m_socket.abort();
            finish(QStringLiteral("read error: %1").arg(why));
            return;
        }
        if (n == 0) {
            peerHungUp();
            break;
        }
        budget -= n;
        m_lastActivityMs = MonotonicClock::nowMs();
        if (m_closing)
            continue; // closing: reading only drains what the peer still sends
        const qint64 used = consume(buffer, n, &batch);
        if (used < n && m_paused) {
            // At the reply limit mid-read: the rest waits, unhandled.
            m_held = QByteArray(buffer + used, n - used);
            m_heldPos = 0;
        }
    }
    m_busy = false;
    send(&batch);
    sendReady();
    finishWhenAnswered();
    if (!m_paused && !m_finished && !m_closing && !m_peerHungUp
        && m_server->router()->isBackedUp()) {
        pause();
        m_server->router()->whenCaughtUp(this, [this] { resume(); });
    }
}

qint64 TextConnection::consume(const char *data, qint64 size, Batch *batch)
{
    const Config &config = m_server->config();
    const qint64 maxLine = config.maxLine;
    qint64 pos = 0;
    while (pos < size) {
        if (m_closing || m_finished)
            return size; // what follows is never handled
        if (outstanding(batch) >= config.maxPendingReplies) {
            // The kernel may take the batch at once, and with it the limit.
            send(batch);
            if (m_finished)
                return size;
            if (outstanding(batch) >= config.maxPendingReplies) {
                pause();
                return pos;
            }
        }
        const char *nl =
            static_cast<const char *>(std::memchr(data + pos, '\n', size_t(size - pos)));
        if (!nl) {
            if (m_in.isEmpty())
                m_lineStartedMs = MonotonicClock::nowMs();
            m_in.append(data + pos, size - pos);
            // The cap counts the line ending too: it is part of what we buffer.
            if (m_in.size() > maxLine)
                lineTooLong(batch);
            return size;
        }
        const qint64 end = nl - data;
        QByteArray line;
        if (m_in.isEmpty()) {
            line = QByteArray(data + pos, end - pos);
        } else {
            line = std::exchange(m_in, QByteArray());
            line.append(data + pos, end - pos);
            // Appends grew it by doubling; the line becomes the frame every
            // target queues, so it keeps only the memory it uses.
            line.squeeze();
        }
        m_lineStartedMs = 0;
        pos = end + 1;
        if (line.size() > maxLine) {
            lineTooLong(batch);
            return size;
        }
        handleLine(std::move(line), batch);
    }
    return pos;
}

void TextConnection::handleLine(QByteArray line, Batch *batch)
{
    if (line.endsWith('\r'))
        line.chop(1);
    if (Q_UNLIKELY(looksLikeHttp(line))) {
        refuseHttp();
        return;
    }
    PushRouter *router = m_server->router();
    const quint64 request = m_nextRequest++;
    PushRouter::Completion done;
    if (router->mayAnswerLater()) {
        // Answers come from Redis, maybe after this connection is gone.
        done = [self = QPointer<TextConnection>(this), request](const PushResult &final) {
            if (self)
                self->answered(request, final.replyLine());
        };
    }
    const PushResult result = router->push(line, PushSource::TextPort, m_peerString, done);
    if (result.pending) {
        if (m_waiting.empty())
            m_waitingBase = request;
        m_waiting.emplace_back();
        return;
    }
    switch (result.status) {
    case PushStatus::Ok:
        reply(QByteArrayLiteral("ok\n"), batch);
        break;
    case PushStatus::Fail:
        reply(QByteArrayLiteral("fail\n"), batch);
        break;
    default:
        reply(result.replyLine(), batch);
        break;
    }
}

void TextConnection::reply(const QByteArray &text, Batch *batch)
{
    if (m_waiting.empty()) {
        batch->replies.append(text);
        ++batch->count;
    } else {
        m_waiting.push_back(text);
    }
}

void TextConnection::answered(quint64 request, const QByteArray &text)
{
    if (m_finished || request < m_waitingBase || request - m_waitingBase >= m_waiting.size())
        return;
    m_waiting[size_t(request - m_waitingBase)] = text;
    // Handling lines: the batch being built goes first, then these.
    if (m_busy)
        return;
    sendReady();
    resume();
    finishWhenAnswered();
}

void TextConnection::sendReady()
{
    Batch ready;
    while (!m_waiting.empty() && !m_waiting.front().isNull()) {
        ready.replies += m_waiting.front();
        ++ready.count;
        m_waiting.pop_front();
        ++m_waitingBase;
    }
    const bool any = ready.count > 0;
    send(&ready);
    if (any && m_waiting.empty())
        m_lastActivityMs = MonotonicClock::nowMs(); // idle from the last answer on
    if (m_waiting.empty() && m_closing && !m_finished)
        m_socket.shutdownWrite(); // the last reply is out: now the FIN
}

void TextConnection::lineTooLong(Batch *batch)
{
    reply(QByteArrayLiteral("error: line too long\n"), batch);
    m_in = QByteArray();
    m_lineStartedMs = 0;
    Event e = Events::pushed(PushSource::TextPort, Event::Level::Warning, m_peerString);
    e.status = PushStatus::Error;
    e.reason = Event::Reason::LineTooLong;
    e.args = QStringList {QString::number(m_server->config().maxLine)};
    m_server->eventLog()->append(std::move(e));
    // The replies so far, this one last, must leave before the FIN.
    send(batch);
    closeGracefully();
}

void TextConnection::refuseHttp()
{
    // Like Redis: no answer a browser could read, nothing after it handled,
    // and the slot free at once.
    m_server->refusedHttp(this);
    m_socket.abort();
    finish(QStringLiteral("HTTP request"));
}

void TextConnection::send(Batch *batch)
{
    if (batch->replies.isEmpty() || m_finished) {
        *batch = {};
        return;
    }
    const int count = batch->count;
    const bool written = m_socket.write(batch->replies);
    *batch = {};
    if (!written) {
        m_socket.abort();
        finish(QStringLiteral("write failed"));
        return;
    }
    if (m_socket.pendingBytes() > 0)
        m_queuedReplies += count;
}

qsizetype TextConnection::outstanding(const Batch *batch) const
{
    return m_queuedReplies + qsizetype(m_waiting.size()) + (batch ? batch->count : 0);
}

void TextConnection::pause()
{
    // A backend that pipelines without reading its replies, or faster than
    // Redis answers, is not read from until it catches up, so replies
    // cannot pile up without bound.
    m_paused = true;
    m_socket.setReadEnabled(false);
}

void TextConnection::resume()
{
    if (!m_paused || m_busy || m_finished || m_closing
        || outstanding(nullptr) >= m_server->config().maxPendingReplies)
        return;
    m_paused = false;
    Batch batch;
    m_busy = true;
    if (m_heldPos < m_held.size()) {
        // Kept alive here: handling a line may close the connection.
        const QByteArray held = m_held;
        const qint64 used = consume(held.constData() + m_heldPos, held.size() - m_heldPos, &batch);
        m_heldPos += used;
        if (m_heldPos >= m_held.size()) {
            m_held = QByteArray();
            m_heldPos = 0;
        }
    }
    m_busy = false;
    send(&batch);
    sendReady();
    if (m_paused || m_finished || m_closing || m_peerHungUp)
        return;
    if (!m_in.isEmpty())
        m_lineStartedMs = MonotonicClock::nowMs(); // its time runs from now
    m_socket.setReadEnabled(true);
}

void TextConnection::peerHungUp()
{
    m_peerHungUp = true;
    m_socket.setReadEnabled(false);
    // An unfinished last line is not a request.
    m_in = QByteArray();
    m_lineStartedMs = 0;
}

void TextConnection::finishWhenAnswered()
{
    if (m_finished || !m_peerHungUp)
        return;
    // A peer that only shut down its sending side still reads: what it
    // sent is answered first (and Redis answers within --redis-timeout).
    if (!m_waiting.empty() || (!m_closing && m_heldPos < m_held.size()))
        return;
    if (m_socket.pendingBytes() == 0) {
        finish(m_closing ? QStringLiteral("closed") : QStringLiteral("closed by peer"));
        return;
    }
    if (m_lingering)
        return;
    // Replies still queued: the FIN follows them, within the close timeout.
    m_lingering = true;
    m_socket.shutdownWrite();
    if (m_closing)
        return; // its timer runs already
    QTimer::singleShot(m_server->config().closeTimeoutMs, this, [this] {
        m_socket.abort();
        finish(QStringLiteral("close timeout"));
    });
}

void TextConnection::closeGracefully()
{
    if (m_closing || m_finished)
        return;
    m_closing = true;
    m_paused = false;
    m_in = QByteArray();
    m_held = QByteArray();
    m_heldPos = 0;
    m_lineStartedMs = 0;
    // Replies still queued leave first; then a FIN, then we wait for the
    // peer's (bounded), reading and dropping whatever it still sends so the
    // kernel does not answer it with a reset that eats our last reply.
    // Replies still pending go out when answered, the FIN after them.
    if (m_waiting.empty())
        m_socket.shutdownWrite();
    if (!m_peerHungUp)
        m_socket.setReadEnabled(true);
    QTimer::singleShot(m_server->config().closeTimeoutMs, this, [this] {
        m_socket.abort();
        finish(QStringLiteral("close timeout"));
    });
    finishWhenAnswered();
}

void TextConnection::checkTimeouts(qint64 nowMs)
{
    if (m_finished || m_closing || m_peerHungUp)
        return; // a close timer runs, or the last replies are on their way
    const Config &config = m_server->config();
    if (config.textLineTimeoutMs > 0 && m_lineStartedMs > 0 && !m_paused
        && nowMs - m_lineStartedMs >= config.textLineTimeoutMs) {
        ++m_server->metrics()->textLineTimeouts;
        logClose(true, Events::why(Event::Reason::LineTimeout, config.textLineTimeoutMs));
        Batch batch;
        reply(QByteArrayLiteral("error: line timeout\n"), &batch);
        send(&batch);
        closeGracefully();
        return;
    }
    // Waiting for Redis is not idleness; a peer that leaves its replies
    // unread is (no progress either way).
    if (config.textIdleTimeoutMs > 0 && m_waiting.empty()
        && nowMs - m_lastActivityMs >= config.textIdleTimeoutMs) {
        ++m_server->metrics()->textIdleTimeouts;
        const bool unread = m_socket.pendingBytes() > 0;
        logClose(false,
            Events::why(unread ? Event::Reason::IdleTimeoutUnread : Event::Reason::IdleTimeout,
                nowMs - m_lastActivityMs));
        if (unread) {
            // A graceful close would wait on a peer that does not read.
            m_socket.abort();
            finish(QStringLiteral("idle"));
            return;
        }
        closeGracefully();
    }
}

void TextConnection::logClose(bool warning, const Events::Why &reason)
{
    Event e =
        Events::closed(0, {}, m_peerString, Events::wrap(Event::Reason::PushConnection, {}, reason),
            (MonotonicClock::nowMs() - m_openedMs) / 1000);
    e.level = warning ? Event::Level::Warning : Event::Level::Info;
    m_server->eventLog()->append(std::move(e));
}

void TextConnection::socketDrained()
{
    m_queuedReplies = 0;
    m_lastActivityMs = MonotonicClock::nowMs();
    if (m_lingering && m_waiting.empty()) {
        finish(QStringLiteral("closed by peer")); // the FIN followed the last reply
        return;
    }
    resume();
    finishWhenAnswered();
}

void TextConnection::finish(const QString &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_socket.close();
    m_server->finished(this, reason);
}
