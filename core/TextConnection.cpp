#include "TextConnection.h"

#include "Config.h"
#include "EventLog.h"
#include "PushRouter.h"
#include "TextPushServer.h"

#include <QPointer>
#include <QTimer>

#include <cstring>

namespace {
// Only a backstop: --max-pending-replies stops reading long before this.
constexpr qint64 MaxQueuedReplyBytes = 64 * 1024 * 1024;
} // namespace

TextConnection::TextConnection(int fd, const PeerAddress &peer, TextPushServer *server)
    : QObject(server)
    , m_socket(fd, this, this)
    , m_server(server)
    , m_peerString(peer.toString())
    , m_peer(peer)
{
    m_socket.setMaxPending(MaxQueuedReplyBytes);
}

void TextConnection::socketReadable()
{
    char *buffer = StreamSocket::scratch();
    // One buffer per wake-up (about a thousand pushes): a backend flooding
    // the port then holds the loop for milliseconds, not tens of them.
    qint64 budget = StreamSocket::ScratchSize;
    QByteArray replies;
    int count = 0;
    while (!m_finished && budget > 0) {
        const qint64 n = m_socket.read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            break;
        if (n <= 0) {
            send(replies, count);
            finish(n == 0 ? QStringLiteral("closed by peer")
                          : QStringLiteral("read error: %1").arg(m_socket.errorString()));
            return;
        }
        budget -= n;
        if (!m_closing)
            consume(buffer, n, &replies, &count);
    }
    send(replies, count);
}

void TextConnection::consume(const char *data, qint64 size, QByteArray *replies, int *count)
{
    const qint64 maxLine = m_server->config().maxLine;
    qint64 pos = 0;
    while (pos < size && !m_closing) {
        const char *nl =
            static_cast<const char *>(std::memchr(data + pos, '\n', size_t(size - pos)));
        if (!nl) {
            m_in.append(data + pos, size - pos);
            // The cap counts the line ending too: it is part of what we buffer.
            if (m_in.size() > maxLine)
                lineTooLong(replies, count);
            return;
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
        pos = end + 1;
        if (line.size() > maxLine) {
            lineTooLong(replies, count);
            return;
        }
        handleLine(std::move(line), replies);
        ++*count;
    }
}

void TextConnection::handleLine(QByteArray line, QByteArray *replies)
{
    if (line.endsWith('\r'))
        line.chop(1);
    const quint64 request = m_nextRequest++;
    QPointer<TextConnection> self(this);
    const PushResult result = m_server->router()->push(
        line, PushSource::TextPort, m_peerString, [self, request](const PushResult &final) {
            if (self)
                self->answered(request, final.replyLine());
        });
    if (result.pending) {
        if (m_waiting.empty())
            m_waitingBase = request;
        m_waiting.emplace_back();
        return;
    }
    switch (result.status) {
    case PushStatus::Ok:
        reply(QByteArrayLiteral("ok\n"), replies);
        break;
    case PushStatus::Fail:
        reply(QByteArrayLiteral("fail\n"), replies);
        break;
    default:
        reply(result.replyLine(), replies);
        break;
    }
}

void TextConnection::reply(const QByteArray &text, QByteArray *replies)
{
    if (m_waiting.empty())
        replies->append(text);
    else
        m_waiting.push_back(text);
}

void TextConnection::answered(quint64 request, const QByteArray &text)
{
    if (m_finished || request < m_waitingBase || request - m_waitingBase >= m_waiting.size())
        return;
    m_waiting[size_t(request - m_waitingBase)] = text;
    QByteArray ready;
    int count = 0;
    while (!m_waiting.empty() && !m_waiting.front().isNull()) {
        ready += m_waiting.front();
        m_waiting.pop_front();
        ++m_waitingBase;
        ++count;
    }
    send(ready, count);
    if (m_waiting.empty() && m_closing && !m_finished)
        m_socket.shutdownWrite(); // the last reply is out: now the FIN
    updateReading();
}

void TextConnection::lineTooLong(QByteArray *replies, int *count)
{
    reply(QByteArrayLiteral("error: line too long\n"), replies);
    m_in = QByteArray();
    Event e;
    e.type = Event::Type::Push;
    e.level = Event::Level::Warning;
    e.status = PushStatus::Error;
    e.source = PushSource::TextPort;
    e.peer = m_peerString;
    e.detail = QStringLiteral("line too long (limit %1 bytes); connection closed")
                   .arg(m_server->config().maxLine);
    m_server->eventLog()->append(std::move(e));
    // The replies so far, this one last, must leave before the FIN.
    send(*replies, *count + 1);
    replies->clear();
    *count = 0;
    closeGracefully();
}

void TextConnection::send(const QByteArray &replies, int count)
{
    if (replies.isEmpty() || m_finished)
        return;
    if (!m_socket.write(replies)) {
        m_socket.abort();
        finish(QStringLiteral("write failed"));
        return;
    }
    if (m_socket.pendingBytes() > 0)
        m_queuedReplies += count;
    updateReading();
}

void TextConnection::updateReading()
{
    // A backend that pipelines without reading its replies, or faster than
    // Redis answers, is not read from until it catches up, so replies
    // cannot pile up without bound.
    if (m_finished || m_closing)
        return; // closing: reading only drains what the peer still sends
    const qsizetype unsent = m_queuedReplies + qsizetype(m_waiting.size());
    m_socket.setReadEnabled(unsent < m_server->config().maxPendingReplies);
}

void TextConnection::closeGracefully()
{
    if (m_closing || m_finished)
        return;
    m_closing = true;
    // Replies still queued leave first; then a FIN, then we wait for the
    // peer's (bounded), reading and dropping whatever it still sends so the
    // kernel does not answer it with a reset that eats our last reply.
    // Replies still pending go out when answered, the FIN after them.
    if (m_waiting.empty())
        m_socket.shutdownWrite();
    m_socket.setReadEnabled(true);
    QTimer::singleShot(m_server->config().closeTimeoutMs, this, [this] {
        m_socket.abort();
        finish(QStringLiteral("close timeout"));
    });
}

void TextConnection::socketDrained()
{
    m_queuedReplies = 0;
    updateReading();
}

void TextConnection::finish(const QString &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_socket.close();
    m_server->finished(this, reason);
}
