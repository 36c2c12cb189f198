#include "WsConnection.h"

#include "Config.h"
#include "MonotonicClock.h"
#include "ServerTransport.h"
#include "SocketThreads.h"
#include "StreamSocket.h"
#include "TlsStream.h"
#include "Utf8.h"
#include "WsHandshake.h"

#include <cstring>

WsConnection::WsConnection(int fd, const PeerAddress &peer, quint64 id, Owner *owner,
    QObject *parent, const TlsContext *tls, SocketThreads *threads)
    : QObject(parent)
    , m_owner(owner)
    , m_peer(peer)
    , m_id(id)
{
    // Handler is a private base: converted here, where it is accessible.
    Transport::Handler *handler = this;
    if (threads)
        m_io = &m_socket.emplace<RemoteSocket>(threads->adopt(fd, tls), handler);
    else
        m_io = openServerTransport(fd, tls, this, handler, m_socket, m_tls);
    m_connectedAt = m_lastActivity = m_lastPing = MonotonicClock::nowMs();
    m_io->setMaxPending(owner->config().maxOutput);
}

WsConnection::~WsConnection() = default;

bool WsConnection::sendFrame(QByteArrayView header, const QByteArray &payload)
{
    if (m_state != State::Open || m_draining)
        return false;
    if (!m_io->write(header, payload)) {
        writeRefused(QStringLiteral("slow consumer: output queue over %1 bytes")
                         .arg(m_owner->config().maxOutput));
        return false;
    }
    ++m_messagesOut;
    m_bytesOut += quint64(header.size() + payload.size());
    return true;
}

void WsConnection::writeRefused(const QString &slowReason)
{
    // Condemned: no later frame is queued for it, and what was queued
    // (answered ok) is counted as lost, not silently dropped.
    if (m_io->failed()) {
        abortLater(
            QStringLiteral("write failed: %1").arg(m_io->errorString()), DropReason::PeerGone);
    } else {
        m_owner->slowConsumer(this);
        abortLater(slowReason, DropReason::SlowConsumer);
    }
}

void WsConnection::sendPing()
{
    if (m_state != State::Open || m_draining)
        return;
    char header[WsFrame::MaxHeaderSize];
    const int n = WsFrame::encodeHeader(header, WsFrame::Ping, 0);
    if (!m_io->write(QByteArrayView(header, n)))
        writeRefused(QStringLiteral("slow consumer: ping could not be queued"));
}

bool WsConnection::sendPong(QByteArrayView payload)
{
    // One contiguous write from the stack: a pong allocates nothing unless
    // it has to wait in the queue.
    char frame[WsFrame::MaxHeaderSize + 125];
    const int n = WsFrame::encodeHeader(frame, WsFrame::Pong, quint64(payload.size()));
    std::memcpy(frame + n, payload.data(), size_t(payload.size()));
    if (m_io->write(QByteArrayView(frame, n + payload.size())))
        return true;
    writeRefused(QStringLiteral("slow consumer: output queue over %1 bytes")
                     .arg(m_owner->config().maxOutput));
    return false;
}

void WsConnection::close(quint16 code, QByteArrayView reason)
{
    if (m_state != State::Open) {
        if (m_state == State::Handshake)
            abort(QString::fromUtf8(reason), DropReason::PeerGone);
        return;
    }
    const QByteArray payload = WsFrame::closePayload(code, reason);
    char header[WsFrame::MaxHeaderSize];
    const int n = WsFrame::encodeHeader(header, WsFrame::Close, quint64(payload.size()));
    setCloseReason(QString::fromUtf8(reason), code);
    if (!m_io->write(QByteArrayView(header, n), payload)) {
        // Not even a close frame fits: the peer does not read. Drop it.
        writeRefused(QStringLiteral("slow consumer: close frame could not be queued"));
        return;
    }
    startClosing();
}

void WsConnection::closeWhenDrained(quint16 code, const QByteArray &reason)
{
    switch (m_state) {
    case State::Handshake:
        abort(QString::fromUtf8(reason), DropReason::Shutdown);
        return;
    case State::Open:
        m_draining = true;
        m_drainCode = code;
        m_drainReason = reason;
        socketDrained(); // closes now if nothing is queued
        return;
    case State::Closing:
    case State::Closed:
        return;
    }
}

void WsConnection::setCloseReason(const QString &reason, int code)
{
    if (m_closeReason.isEmpty()) {
        m_closeReason = reason;
        m_closeCode = code;
    }
}

void WsConnection::startClosing()
{
    m_state = State::Closing;
    m_closingSince = MonotonicClock::nowMs();
    m_io->shutdownWrite();
    m_owner->connectionClosing(this);
}

void WsConnection::noteDiscarded(DropReason why)
{
    // Only a bound connection was sent pushes; the first loss is the one
    // that counts (the socket is gone after it).
    if (m_discarded != 0 || !isBound() || !m_io->isOpen())
        return;
    m_discarded = m_io->unacknowledgedBytes();
    m_dropReason = why;
}

void WsConnection::abort(const QString &reason, DropReason why)
{
    noteDiscarded(why);
    m_io->abort();
    finish(reason);
}

void WsConnection::abortLater(const QString &reason, DropReason why)
{
    // Called while a push walks the registry's list of connections, which
    // finish() would change under it: close the socket now, tidy up later.
    if (m_state == State::Closed)
        return;
    noteDiscarded(why);
    m_io->abort();
    m_state = State::Closed;
    setCloseReason(reason, 0);
    // Off the heartbeat's lists now, or a sweep before finish() would keep
    // finding it due and doing nothing with it.
    m_owner->connectionAborting(this);
    QMetaObject::invokeMethod(
        this, [this] { finish(QString()); }, Qt::QueuedConnection);
}

void WsConnection::finish(const QString &reason, int code)
{
    if (m_finished)
        return;
    m_finished = true;
    m_state = State::Closed;
    m_io->close();
    m_in.clear();
    m_message.clear();
    // The reason a close handshake started says more than how it ended.
    if (m_closeReason.isEmpty())
        m_owner->connectionFinished(this, reason, code);
    else
        m_owner->connectionFinished(this, m_closeReason, m_closeCode);
}

void WsConnection::socketDrained()
{
    if (m_state != State::Open)
        return;
    if (m_pongDue && m_io->pendingBytes() == 0) {
        m_pongDue = false;
        if (!sendPong(m_pong))
            return;
    }
    if (m_draining && m_io->pendingBytes() == 0) {
        close(m_drainCode, m_drainReason);
        return;
    }
    // The offline backlog sends its next messages at the reader's pace.
    Q_EMIT outputDrained();
}

void WsConnection::socketReadable()
{
    char *buffer = StreamSocket::scratch();
    // Bounded per wake-up so one fast sender cannot starve the others; the
    // notifier is level-triggered and brings us back for the rest.
    qint64 budget = 4 * StreamSocket::ScratchSize;
    bool received = false;
    while (m_state != State::Closed && budget > 0) {
        const qint64 n = m_io->read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            break;
        if (n == 0) {
            noteDiscarded(DropReason::PeerGone);
            finish(m_state == State::Closing ? QStringLiteral("closed")
                                             : QStringLiteral("connection closed by peer"));
            return;
        }
        if (n < 0) {
            noteDiscarded(DropReason::PeerGone);
            finish(QStringLiteral("read error: %1").arg(m_io->errorString()));
            return;
        }
        received = true;
        m_bytesIn += quint64(n);
        budget -= n;
        consume(buffer, n);
    }
    if (received && m_state == State::Open)
        m_owner->connectionActive(this);
}

void WsConnection::consume(char *data, qint64 size)
{
    if (m_in.isEmpty()) {
        qint64 used = m_state == State::Handshake ? processHandshake(data, size) : 0;
        if (m_state == State::Open || m_state == State::Closing)
            used += processFrames(data + used, size - used);
        if (m_state != State::Closed && used < size)
            m_in = QByteArray(data + used, size - used);
        return;
    }
    m_in.append(data, size);
    qint64 used = m_state == State::Handshake ? processHandshake(m_in.data(), m_in.size()) : 0;
    if (m_state == State::Open || m_state == State::Closing)
        used += processFrames(m_in.data() + used, m_in.size() - used);
    if (m_state == State::Closed)
        return;
    if (used >= m_in.size())
        m_in = QByteArray(); // give the memory back, not just the size
    else if (used > 0)
        m_in.remove(0, used);
}

qint64 WsConnection::processHandshake(char *data, qint64 size)
{
    WsHandshake handshake;
    const auto result = WsHandshake::parse(QByteArrayView(data, size), &handshake);
    if (result == WsHandshake::Result::Incomplete)
        return 0;
    if (result != WsHandshake::Result::Ok) {
        // The first write on a fresh socket: only a failed peer refuses it.
        if (!m_io->write(WsHandshake::refusal(result, handshake.error))) {
            finish(QStringLiteral("write failed: %1").arg(m_io->errorString()));
            return size;
        }
        m_owner->handshakeRefused(this, QString::fromLatin1(handshake.error));
        startClosing();
        return size; // nothing after a refused request is read
    }
    // Behind a trusted proxy the client is known only now; its address
    // may be over its limit.
    if (!m_owner->admitHandshake(this, handshake)) {
        if (!m_io->write(WsHandshake::tooManyRequests("too many connections from this address")))
            finish(QStringLiteral("write failed: %1").arg(m_io->errorString()));
        else
            startClosing();
        return size;
    }
    if (!m_io->write(handshake.response())) {
        finish(QStringLiteral("write failed: %1").arg(m_io->errorString()));
        return size;
    }
    m_state = State::Open;
    m_lastActivity = MonotonicClock::nowMs();
    m_owner->connectionOpened(this, handshake);
    return handshake.size;
}

qint64 WsConnection::processFrames(char *data, qint64 size)
{
    const auto &config = m_owner->config();
    qint64 used = 0;
    while (m_state == State::Open || m_state == State::Closing) {
        WsFrame::Header header;
        const char *error = "";
        const auto result = WsFrame::parseHeader(
            QByteArrayView(data + used, size - used), quint64(config.maxFrame), &header, &error);
        if (result == WsFrame::ParseResult::NeedMore)
            break;
        if (result != WsFrame::ParseResult::Ok) {
            failProtocol(
                result == WsFrame::ParseResult::TooBig ? WsFrame::TooBig : WsFrame::ProtocolError,
                error);
            return size;
        }
        if (quint64(size - used - header.size) < header.length)
            break;
        char *payload = data + used + header.size;
        WsFrame::unmask(payload, qint64(header.length), header.mask);
        used += header.size + qint64(header.length);
        if (!handleFrame(header, payload))
            return size;
    }
    return used;
}

bool WsConnection::handleFrame(const WsFrame::Header &header, char *payload)
{
    const QByteArrayView data(payload, qint64(header.length));
    if (m_state == State::Closing) {
        // Waiting for the peer's close frame; anything else is dropped.
        if (header.opcode == WsFrame::Close)
            finish(QStringLiteral("closed"));
        return m_state != State::Closed;
    }
    switch (header.opcode) {
    case WsFrame::Ping:
        if (m_io->pendingBytes() > 0 || m_pongDue) {
            // Output is waiting already, so this pong would too. RFC 6455
            // §5.5.3 lets us answer only the latest of several pings: keep
            // its payload (at most 125 bytes) and send one pong once the
            // queue drains, however many pings a client that does not
            // read sends meanwhile.
            m_pong.resize(data.size());
            std::memcpy(m_pong.data(), data.data(), size_t(data.size()));
            m_pongDue = true;
            return true;
        }
        return sendPong(data);
    case WsFrame::Pong:
        return true; // activity only
    case WsFrame::Close:
        handleClose(data);
        return false;
    default:
        break;
    }

    const qint64 maxMessage = m_owner->config().maxMessage;
    if (header.opcode == WsFrame::Continuation) {
        if (m_messageOpcode == 0) {
            failProtocol(WsFrame::ProtocolError, "continuation without a message");
            return false;
        }
        if (m_message.size() + data.size() > maxMessage) {
            failProtocol(WsFrame::TooBig, "message too large");
            return false;
        }
        m_message.append(data);
        if (!header.fin)
            return true;
        const quint8 opcode = m_messageOpcode;
        const QByteArray message = std::exchange(m_message, QByteArray());
        m_messageOpcode = 0;
        if (opcode == WsFrame::Text
            && !Utf8::isValid(message.constData(), size_t(message.size()))) {
            failProtocol(WsFrame::InvalidPayload, "invalid UTF-8");
            return false;
        }
        ++m_messagesIn;
        m_owner->messageReceived(this, opcode, message);
        return m_state == State::Open;
    }
    if (m_messageOpcode != 0) {
        failProtocol(WsFrame::ProtocolError, "new message before the last one ended");
        return false;
    }
    if (data.size() > maxMessage) {
        failProtocol(WsFrame::TooBig, "message too large");
        return false;
    }
    if (!header.fin) {
        m_messageOpcode = header.opcode;
        m_message = data.toByteArray();
        return true;
    }
    if (header.opcode == WsFrame::Text && !Utf8::isValid(data.data(), size_t(data.size()))) {
        failProtocol(WsFrame::InvalidPayload, "invalid UTF-8");
        return false;
    }
    ++m_messagesIn;
    m_owner->messageReceived(this, header.opcode, data);
    return m_state == State::Open;
}

void WsConnection::handleClose(QByteArrayView payload)
{
    quint16 code = WsFrame::Normal;
    if (payload.size() == 1) {
        failProtocol(WsFrame::ProtocolError, "invalid close frame");
        return;
    }
    QString reason;
    if (payload.size() >= 2) {
        code = quint16((quint8(payload[0]) << 8) | quint8(payload[1]));
        const QByteArrayView text = payload.sliced(2);
        if (!WsFrame::isValidCloseCode(code) || !Utf8::isValid(text.data(), size_t(text.size()))) {
            failProtocol(WsFrame::ProtocolError, "invalid close frame");
            return;
        }
        reason = QString::fromUtf8(text);
    }
    // Echo the code as RFC 6455 §5.5.1 asks, then close the TCP side first.
    const QByteArray reply = WsFrame::closePayload(code, {});
    char h[WsFrame::MaxHeaderSize];
    const int n = WsFrame::encodeHeader(h, WsFrame::Close, quint64(reply.size()));
    setCloseReason(reason.isEmpty() ? QStringLiteral("client closed")
                                    : QStringLiteral("client closed: ") + reason,
        code);
    if (!m_io->write(QByteArrayView(h, n), reply)) {
        writeRefused(QStringLiteral("slow consumer: close frame could not be queued"));
        return;
    }
    startClosing();
}

void WsConnection::failProtocol(quint16 code, const char *reason)
{
    m_owner->protocolError(this, QString::fromLatin1(reason));
    close(code, reason);
}
