#include "WsClientPool.h"

#include "Options.h"
#include "WsProtocol.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace bench {

namespace {

// Only pongs and a close frame are ever queued after the handshake.
constexpr size_t MaxOutput = 64 * 1024;
constexpr int64_t PortRetryNs = 10 * 1000 * 1000;

char scratch[256 * 1024];

} // namespace

WsClientPool::WsClientPool(Epoll &epoll, const Options &options, Tracker &tracker)
    : m_epoll(epoll)
    , m_options(options)
    , m_tracker(tracker)
    , m_clients(options.clients)
    , m_random(systemRandom())
{ }

void WsClientPool::fill(int64_t now)
{
    if (m_retryAt != 0) {
        if (now < m_retryAt)
            return;
        m_retryAt = 0;
    }
    while (m_next < size() && m_inWindow < m_options.connectWindow && !m_outOfFds) {
        if (!startConnect(m_next, now))
            return;
        ++m_next;
    }
}

bool WsClientPool::startConnect(uint32_t index, int64_t now)
{
    Client &c = m_clients[index];
    int err = 0;
    const int fd = connectLoopback(m_options.wsPort, true, &err);
    if (fd < 0) {
        if (err == EADDRNOTAVAIL || err == EAGAIN) {
            // Out of ephemeral ports (TIME_WAIT from an earlier run): wait a little.
            ++m_portRetries;
            m_retryAt = now + PortRetryNs;
            return false;
        }
        if (err == EMFILE || err == ENFILE) {
            m_outOfFds = true;
            for (uint32_t i = index; i < size(); ++i)
                fail(i, "out of file descriptors");
            m_next = size();
            return false;
        }
        fail(index, "connect: " + errorText(err));
        return true;
    }
    c.fd.reset(fd);
    if (!m_firstConnect)
        m_firstConnect = now;
    ++m_inWindow;
    c.state = State::Connecting;
    c.watchingWrite = true; // until connected: only the end of connect() matters
    if (!m_epoll.add(fd, EPOLLOUT, makeToken(Kind::WsClient, 0, index))) {
        fail(index, "epoll_ctl: " + errorText(errno));
        return true;
    }
    return true;
}

void WsClientPool::handle(uint32_t index, uint32_t events, int64_t now)
{
    if (index >= size())
        return;
    Client &c = m_clients[index];
    if (c.state == State::Connecting) {
        const int err = socketError(c.fd.get());
        if (err)
            fail(index, "connect: " + errorText(err));
        else
            connected(index);
        return;
    }
    if (c.state == State::Closed || c.state == State::Idle)
        return;
    if (events & EPOLLOUT)
        flush(index);
    if (c.state != State::Closed && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        readable(index, now);
}

void WsClientPool::connected(uint32_t index)
{
    Client &c = m_clients[index];
    const std::string key = ws::newKey(m_random);
    std::memcpy(c.key, key.data(), sizeof c.key);
    const std::string request = ws::upgradeRequest(m_options.wsPort, key);
    c.state = State::Handshake;
    watchWrite(index, false);
    send(index, request.data(), request.size());
}

void WsClientPool::readable(uint32_t index, int64_t now)
{
    Client &c = m_clients[index];
    // Level-triggered: a few reads per wake-up keep one busy client from
    // starving the others; the rest comes on the next round.
    for (int round = 0; round < 4 && c.state != State::Closed; ++round) {
        const ssize_t n = ::recv(c.fd.get(), scratch, sizeof scratch, 0);
        if (n > 0) {
            consume(index, scratch, size_t(n), now);
            if (size_t(n) < sizeof scratch)
                return;
            continue;
        }
        if (n == 0) {
            fail(index, "connection closed by the server");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            fail(index, "read: " + errorText(errno));
        return;
    }
}

void WsClientPool::consume(uint32_t index, const char *data, size_t size, int64_t now)
{
    Client &c = m_clients[index];
    // Usual case: whole frames, parsed straight from the read buffer.
    if (c.in.empty() && c.state != State::Handshake) {
        const size_t used = frames(index, data, size, now);
        if (c.state != State::Closed && used < size)
            c.in.assign(data + used, size - used);
        return;
    }
    if (c.in.size() + size > ws::MaxFrame + sizeof scratch) {
        fail(index, "protocol: frame larger than 32 MiB");
        ++m_protocolErrors;
        return;
    }
    c.in.append(data, size);
    size_t used = 0;
    if (c.state == State::Handshake)
        used = handshake(index, c.in.data(), c.in.size(), now);
    if (c.state != State::Handshake && c.state != State::Closed)
        used += frames(index, c.in.data() + used, c.in.size() - used, now);
    if (c.state == State::Closed)
        return;
    if (used == c.in.size())
        std::string().swap(c.in); // give the memory back: 19 000 idle clients
    else
        c.in.erase(0, used);
}

size_t WsClientPool::handshake(uint32_t index, const char *data, size_t size, int64_t now)
{
    Client &c = m_clients[index];
    size_t headerSize = 0;
    std::string error;
    switch (ws::checkResponse(data, size, c.key, &headerSize, &error)) {
    case ws::Handshake::Incomplete:
        return 0;
    case ws::Handshake::Bad:
        ++m_protocolErrors;
        fail(index, error);
        return 0;
    case ws::Handshake::Ok:
        break;
    }
    ++m_connected;
    m_lastConnected = now;
    c.state = State::Binding;
    const uint64_t n = m_clients.size();
    const uint32_t bindAs = uint32_t((index + uint64_t(m_options.bindOffset)) % n);
    std::string uid = m_options.uidPrefix;
    appendNumber(uid, bindAs);
    sendFrame(index, ws::Text, uid.data(), uid.size());
    if (c.state == State::Binding && c.out.empty()) {
        c.state = State::Verifying;
        bindWritten(index);
    }
    return headerSize;
}

size_t WsClientPool::frames(uint32_t index, const char *data, size_t size, int64_t now)
{
    const Client &c = m_clients[index];
    size_t pos = 0;
    while (c.state != State::Closed) {
        ws::Frame f;
        size_t used = 0;
        const char *error = "";
        const ws::FrameResult r = ws::parseFrame(data + pos, size - pos, &f, &used, &error);
        if (r == ws::FrameResult::NeedMore)
            break;
        if (r == ws::FrameResult::Bad) {
            ++m_protocolErrors;
            fail(index, error);
            return size;
        }
        frame(index, f.opcode, f.fin, f.payload, f.size, now);
        pos += used;
    }
    return pos;
}

void WsClientPool::frame(
    uint32_t index, uint8_t opcode, bool fin, const char *payload, size_t size, int64_t now)
{
    switch (opcode) {
    case 0x1:
        if (!fin) {
            // The contract: every push is one unfragmented text frame.
            ++m_protocolErrors;
            fail(index, "protocol: fragmented text message");
            return;
        }
        m_tracker.message(index, payload, size, now);
        return;
    case 0x9:
        if (!fin || size > 125) {
            ++m_protocolErrors;
            fail(index, "protocol: invalid ping frame");
            return;
        }
        ++m_pings;
        sendFrame(index, 0xA, payload, size);
        return;
    case 0xA:
        return; // unsolicited pong: allowed, nothing to do
    case 0x8: {
        // Echo the code (RFC 6455 5.5.1), then we are done with this client.
        sendFrame(index, ws::Close, payload, std::min<size_t>(size, 2));
        ++m_closedByServer;
        fail(index, ws::describeClose(payload, size));
        return;
    }
    default:
        ++m_protocolErrors;
        fail(index,
            opcode == 0x2       ? "protocol: unexpected binary frame"
                : opcode == 0x0 ? "protocol: unexpected continuation frame"
                                : "protocol: unknown opcode");
        return;
    }
}

void WsClientPool::sendFrame(uint32_t index, uint8_t opcode, const char *payload, size_t size)
{
    char frame[ws::MaxClientFrame];
    const size_t n = ws::encodeClientFrame(frame, opcode, payload, size, uint32_t(m_random.next()));
    if (n == 0) {
        fail(index, "internal: frame too long");
        return;
    }
    send(index, frame, n);
}

void WsClientPool::send(uint32_t index, const char *data, size_t size)
{
    Client &c = m_clients[index];
    if (c.state == State::Closed)
        return;
    int err = 0;
    switch (sendOrQueue(c.fd.get(), c.out, data, size, MaxOutput, &err)) {
    case SendResult::Full:
        fail(index, "the server does not read: output queue full");
        break;
    case SendResult::Queued:
        watchWrite(index, true);
        break;
    case SendResult::Failed:
        fail(index, "write: " + errorText(err));
        break;
    case SendResult::Sent:
    case SendResult::Appended:
        break;
    }
}

void WsClientPool::flush(uint32_t index)
{
    Client &c = m_clients[index];
    if (c.out.empty()) {
        watchWrite(index, false);
        return;
    }
    std::string pending;
    pending.swap(c.out);
    send(index, pending.data(), pending.size());
    if (c.state == State::Closed || !c.out.empty())
        return;
    watchWrite(index, false);
    if (c.state == State::Binding) {
        c.state = State::Verifying;
        bindWritten(index);
    }
}

void WsClientPool::watchWrite(uint32_t index, bool on)
{
    Client &c = m_clients[index];
    if (c.watchingWrite == on)
        return;
    c.watchingWrite = on;
    m_epoll.modify(
        c.fd.get(), on ? EPOLLIN | EPOLLOUT : EPOLLIN, makeToken(Kind::WsClient, 0, index));
}

void WsClientPool::markBound(uint32_t index, int64_t now)
{
    Client &c = m_clients[index];
    if (c.state != State::Verifying)
        return;
    c.state = State::Bound;
    ++m_bound;
    --m_inWindow;
    m_lastBound = now;
}

void WsClientPool::fail(uint32_t index, const std::string &why)
{
    Client &c = m_clients[index];
    if (c.state == State::Closed)
        return;
    if (m_firstFailure.empty()) {
        m_firstFailure = m_options.uidPrefix;
        appendNumber(m_firstFailure, index);
        m_firstFailure += ": " + why;
    }
    if (c.state == State::Bound) {
        ++m_dropped;
    } else {
        ++m_failed;
        if (c.state != State::Idle)
            --m_inWindow;
    }
    c.state = State::Closed;
    c.fd.reset();
    std::string().swap(c.in);
    std::string().swap(c.out);
}

void WsClientPool::closeAll()
{
    for (Client &c : m_clients) {
        c.fd.reset();
        std::string().swap(c.in);
        std::string().swap(c.out);
    }
}

} // namespace bench
