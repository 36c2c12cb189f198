#include "AdminStream.h"

#include "MonotonicClock.h"
#include "TlsStream.h"
#include "WsFrame.h"

#include <utility>

namespace {

// Control frames and the close frame must get out even with the output at
// its cap: the socket's own backstop sits this far above it.
constexpr qint64 ControlSlack = 64 * 1024;
// A client frame is at most a control frame here: a header of up to 14
// bytes and 125 bytes of payload.
constexpr quint64 MaxClientPayload = 125;

} // namespace

AdminStream::AdminStream(
    TakenSocket &taken, const QString &peer, qint64 maxOutput, Owner *owner, QObject *parent)
    : QObject(parent)
    , m_owner(owner)
    , m_peer(peer)
    , m_maxOutput(maxOutput)
{
    Transport::Handler *handler = this;
    if (taken.tls) {
        m_tls = std::move(taken.tls);
        m_tls->reattach(this, handler);
        m_io = m_tls.get();
    } else {
        m_plain.emplace(std::exchange(taken.fd, -1), this, handler);
        m_io = &*m_plain;
    }
    m_io->setMaxPending(maxOutput + ControlSlack);
    m_lastActivity = m_lastPing = MonotonicClock::nowMs();
}

AdminStream::~AdminStream() = default;

void AdminStream::setMaxOutput(qint64 bytes)
{
    m_maxOutput = bytes;
    m_io->setMaxPending(bytes + ControlSlack);
}

void AdminStream::writeRaw(const QByteArray &bytes)
{
    if (!m_io->write(bytes))
        abort(QStringLiteral("write failed"));
}

bool AdminStream::writeFrame(quint8 opcode, QByteArrayView payload)
{
    if (m_state == State::Closed)
        return false;
    char header[WsFrame::MaxHeaderSize];
    const int size =
        WsFrame::encodeHeader(header, WsFrame::Opcode(opcode), quint64(payload.size()));
    // The payload is copied into the socket's queue only when the kernel
    // does not take it at once; a small one is copied into its tail chunk.
    if (!m_io->write(QByteArrayView(header, size), payload.toByteArray())) {
        abort(m_io->failed() ? QStringLiteral("write failed: %1").arg(m_io->errorString())
                             : QStringLiteral("over its output cap"));
        return false;
    }
    return true;
}

bool AdminStream::sendText(const QByteArray &json)
{
    if (m_state != State::Open)
        return false;
    char header[WsFrame::MaxHeaderSize];
    const int size = WsFrame::encodeHeader(header, WsFrame::Text, quint64(json.size()));
    if (!m_io->write(QByteArrayView(header, size), json)) {
        abort(m_io->failed() ? QStringLiteral("write failed: %1").arg(m_io->errorString())
                             : QStringLiteral("over its output cap"));
        return false;
    }
    return true;
}

void AdminStream::sendPing()
{
    if (m_state == State::Open)
        writeFrame(WsFrame::Ping, QByteArrayView());
}

void AdminStream::close(quint16 code, const QByteArray &reason)
{
    if (m_state != State::Open)
        return;
    writeFrame(WsFrame::Close, WsFrame::closePayload(code, reason));
    beginClosing();
}

void AdminStream::beginClosing()
{
    if (m_state == State::Closed)
        return; // the close frame could not be written
    m_state = State::Closing;
    m_closingSince = MonotonicClock::nowMs();
    // Nothing more goes out; what waits here never will.
    clearDirty();
    m_events.clear();
    m_waitingBytes = 0;
    m_io->shutdownWrite();
}

void AdminStream::abort(const QString &reason)
{
    if (m_state == State::Closed)
        return;
    m_io->abort();
    finish(reason);
}

void AdminStream::finish(const QString &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_state = State::Closed;
    m_io->close();
    clearDirty();
    m_events.clear();
    m_waitingBytes = 0;
    m_in.clear();
    m_owner->streamFinished(this, reason);
}

void AdminStream::socketReadable()
{
    char *buffer = StreamSocket::scratch();
    while (m_state != State::Closed) {
        const qint64 n = m_io->read(buffer, StreamSocket::ScratchSize);
        if (n == Transport::WouldBlock)
            return;
        if (n == 0) {
            finish(m_state == State::Closing ? QStringLiteral("closed")
                                             : QStringLiteral("console hung up"));
            return;
        }
        if (n < 0) {
            abort(QStringLiteral("read error: %1").arg(m_io->errorString()));
            return;
        }
        m_lastActivity = MonotonicClock::nowMs();
        if (m_state == State::Closing)
            continue; // waiting for the end: what still arrives is dropped
        m_in.append(buffer, n);
        handleFrames();
    }
}

void AdminStream::handleFrames()
{
    while (m_state == State::Open && !m_in.isEmpty()) {
        WsFrame::Header h;
        const char *error = "";
        const WsFrame::ParseResult r = WsFrame::parseHeader(m_in, MaxClientPayload, &h, &error);
        if (r == WsFrame::ParseResult::NeedMore)
            return;
        // A data frame of any size (TooBig: over a control frame's size).
        if ((r == WsFrame::ParseResult::Ok || r == WsFrame::ParseResult::TooBig)
            && !WsFrame::isControl(h.opcode)) {
            // The stream only sends: a console that talks is not one.
            close(WsFrame::UnsupportedData, QByteArrayLiteral("the admin stream only sends"));
            return;
        }
        if (r != WsFrame::ParseResult::Ok) {
            close(WsFrame::ProtocolError, QByteArray(error));
            return;
        }
        if (qint64(m_in.size()) < h.size + qint64(h.length))
            return;
        char *payload = m_in.data() + h.size;
        WsFrame::unmask(payload, qint64(h.length), h.mask);
        const QByteArray body(payload, qint64(h.length));
        m_in.remove(0, h.size + qint64(h.length));
        if (h.opcode == WsFrame::Ping) {
            writeFrame(WsFrame::Pong, body);
        } else if (h.opcode == WsFrame::Close) {
            // Answered with the same code, then the FIN; the console closes.
            writeFrame(WsFrame::Close, body.left(2));
            beginClosing();
            if (m_state == State::Closed)
                return;
        }
        // A pong only renews the activity.
    }
}

void AdminStream::socketDrained()
{
    if (m_state == State::Open)
        m_owner->streamDrained(this);
}

void AdminStream::checkLiveness(
    qint64 now, qint64 pingIntervalMs, qint64 timeoutMs, qint64 closeTimeoutMs)
{
    if (m_state == State::Closing) {
        if (now - m_closingSince >= closeTimeoutMs)
            abort(QStringLiteral("close not answered"));
        return;
    }
    if (m_state != State::Open)
        return;
    if (now - m_lastActivity >= timeoutMs) {
        abort(QStringLiteral("no answer for %1 ms").arg(timeoutMs));
        return;
    }
    if (pingIntervalMs > 0 && now - m_lastPing >= pingIntervalMs) {
        m_lastPing = now;
        sendPing();
    }
}

bool AdminStream::markDirty(const QByteArray &uid)
{
    if (m_dirty.contains(uid))
        return true;
    const qint64 cost = uid.size() + EntryOverhead;
    if (!hasRoom(cost))
        return false;
    m_dirty.insert(uid);
    m_waitingBytes += cost;
    return true;
}

QList<QByteArray> AdminStream::takeDirty(qsizetype max)
{
    QList<QByteArray> out;
    out.reserve(qMin(max, m_dirty.size()));
    for (auto it = m_dirty.begin(); it != m_dirty.end() && out.size() < max;) {
        m_waitingBytes -= it->size() + EntryOverhead;
        out.append(*it);
        it = m_dirty.erase(it);
    }
    if (m_dirty.isEmpty())
        m_dirty.squeeze();
    return out;
}

void AdminStream::clearDirty()
{
    for (const QByteArray &uid : std::as_const(m_dirty))
        m_waitingBytes -= uid.size() + EntryOverhead;
    m_dirty = QSet<QByteArray>();
}

bool AdminStream::rateAllows(qint64 now, int perSecond)
{
    const qint64 second = now / 1000;
    if (second != m_window) {
        m_window = second;
        m_windowCount = 0;
    }
    return m_windowCount < perSecond;
}

void AdminStream::queueEvent(const QByteArray &json)
{
    ++m_windowCount;
    // Shared with every other stream: the same bytes, counted by each.
    m_events.append(json);
    m_waitingBytes += json.size() + EntryOverhead;
}

QByteArray AdminStream::takeEventsMessage()
{
    qint64 size = 32;
    for (const QByteArray &e : std::as_const(m_events))
        size += e.size() + 1;
    QByteArray out;
    out.reserve(size);
    out += "{\"t\":\"events\",\"events\":[";
    for (qsizetype i = 0; i < m_events.size(); ++i) {
        if (i)
            out += ',';
        out += m_events[i];
        m_waitingBytes -= m_events[i].size() + EntryOverhead;
    }
    out += "]}";
    m_events = QList<QByteArray>();
    return out;
}

void AdminStream::skip(int type, quint64 count)
{
    m_skipped += count;
    m_skippedTotal += count;
    if (type >= 0 && type < TypeCount)
        m_skippedByType[size_t(type)] += quint32(qMin<quint64>(count, UINT32_MAX));
}

QByteArray AdminStream::takeSkippedMessage(const char *(*typeName)(int))
{
    QByteArray out =
        "{\"t\":\"skipped\",\"count\":" + QByteArray::number(m_skipped) + ",\"byType\":{";
    bool first = true;
    for (int t = 0; t < TypeCount; ++t) {
        if (!m_skippedByType[size_t(t)])
            continue;
        if (!first)
            out += ',';
        first = false;
        out += '"';
        out += typeName(t);
        out += "\":" + QByteArray::number(m_skippedByType[size_t(t)]);
    }
    out += "}}";
    m_skipped = 0;
    m_skippedByType = {};
    return out;
}
