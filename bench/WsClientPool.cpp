#include "WsClientPool.h"

#include "Options.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace bench {

namespace {

// A push is one short line; anything near this is a server bug, not a push.
constexpr size_t MaxFrame = 32 * 1024 * 1024;
constexpr size_t MaxHandshake = 16 * 1024;
// Only pongs and a close frame are ever queued after the handshake.
constexpr size_t MaxOutput = 64 * 1024;
constexpr int64_t PortRetryNs = 10 * 1000 * 1000;

char scratch[256 * 1024];

bool equalsNoCase(const char *a, size_t n, const char *b)
{
    return std::strlen(b) == n && strncasecmp(a, b, n) == 0;
}

// True when the comma separated header value holds the token.
bool hasToken(const char *v, size_t n, const char *token)
{
    const size_t len = std::strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            ++i;
        size_t j = i;
        while (j < n && v[j] != ',')
            ++j;
        size_t k = j;
        while (k > i && (v[k - 1] == ' ' || v[k - 1] == '\t'))
            --k;
        if (k - i == len && strncasecmp(v + i, token, len) == 0)
            return true;
        i = j;
    }
    return false;
}

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
    unsigned char nonce[16];
    for (int i = 0; i < 16; i += 8) {
        const uint64_t r = m_random.next();
        std::memcpy(nonce + i, &r, 8);
    }
    const std::string key = base64(nonce, sizeof nonce);
    std::memcpy(c.key, key.data(), sizeof c.key);
    std::string request = "GET /pushbench HTTP/1.1\r\nHost: 127.0.0.1:";
    appendNumber(request, uint64_t(m_options.wsPort));
    request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    request += key;
    request += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
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
    if (c.in.size() + size > MaxFrame + sizeof scratch) {
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
    if (std::memcmp(data, "HTTP/", std::min<size_t>(size, 5)) != 0) {
        ++m_protocolErrors;
        fail(index,
            "handshake: not an HTTP response: " + std::string(data, std::min<size_t>(size, 60)));
        return 0;
    }
    const char *end = static_cast<const char *>(memmem(data, size, "\r\n\r\n", 4));
    if (!end) {
        if (size > MaxHandshake) {
            ++m_protocolErrors;
            fail(index, "handshake: response header too long");
        }
        return 0;
    }
    const size_t headerSize = size_t(end - data) + 4;
    const char *line = data;
    const char *eol = static_cast<const char *>(memmem(line, size_t(end - line) + 2, "\r\n", 2));
    const std::string status(line, size_t(eol - line));
    if (status.compare(0, 13, "HTTP/1.1 101 ") != 0 && status != "HTTP/1.1 101") {
        ++m_protocolErrors;
        fail(index, "handshake: " + printable(status.data(), status.size()));
        return 0;
    }
    bool upgrade = false, connection = false, accept = false;
    const std::string expected = websocketAccept(std::string(c.key, sizeof c.key));
    for (line = eol + 2; line < end; line = eol + 2) {
        eol = static_cast<const char *>(memmem(line, size_t(end + 2 - line), "\r\n", 2));
        const char *colon = static_cast<const char *>(std::memchr(line, ':', size_t(eol - line)));
        if (!colon)
            continue;
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            ++v;
        const char *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            --ve;
        const size_t nameLen = size_t(colon - line);
        const size_t valueLen = size_t(ve - v);
        if (equalsNoCase(line, nameLen, "upgrade"))
            upgrade = equalsNoCase(v, valueLen, "websocket");
        else if (equalsNoCase(line, nameLen, "connection"))
            connection = hasToken(v, valueLen, "upgrade");
        else if (equalsNoCase(line, nameLen, "sec-websocket-accept"))
            accept = valueLen == expected.size() && std::memcmp(v, expected.data(), valueLen) == 0;
    }
    if (!upgrade || !connection || !accept) {
        ++m_protocolErrors;
        fail(index,
            !accept ? "handshake: wrong or missing Sec-WebSocket-Accept"
                    : "handshake: missing Upgrade/Connection header");
        return 0;
    }
    ++m_connected;
    m_lastConnected = now;
    c.state = State::Binding;
    const uint64_t n = m_clients.size();
    const uint32_t bindAs = uint32_t((index + uint64_t(m_options.bindOffset)) % n);
    std::string uid = m_options.uidPrefix;
    appendNumber(uid, bindAs);
    sendFrame(index, 0x1, uid.data(), uid.size());
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
    while (c.state != State::Closed && size - pos >= 2) {
        const auto *p = reinterpret_cast<const unsigned char *>(data + pos);
        const bool fin = p[0] & 0x80;
        const uint8_t opcode = p[0] & 0x0F;
        uint64_t length = p[1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
            if (size - pos < 4)
                break;
            length = uint64_t(p[2]) << 8 | p[3];
            header = 4;
        } else if (length == 127) {
            if (size - pos < 10)
                break;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = length << 8 | p[2 + i];
            header = 10;
        }
        if ((p[0] & 0x70) || (p[1] & 0x80) || length > MaxFrame) {
            ++m_protocolErrors;
            fail(index,
                (p[0] & 0x70)       ? "protocol: reserved bits set"
                    : (p[1] & 0x80) ? "protocol: masked server frame"
                                    : "protocol: frame larger than 32 MiB");
            return size;
        }
        if (size - pos - header < length)
            break;
        frame(index, opcode, fin, data + pos + header, size_t(length), now);
        pos += header + size_t(length);
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
        std::string why = "closed by the server";
        if (size >= 2) {
            why += " (code ";
            appendNumber(why, uint64_t(uint8_t(payload[0])) << 8 | uint8_t(payload[1]));
            if (size > 2)
                why += ": " + printable(payload + 2, size - 2);
            why += ")";
        }
        sendFrame(index, 0x8, payload, std::min<size_t>(size, 2));
        ++m_closedByServer;
        fail(index, why);
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
    // Client frames are masked (RFC 6455 5.3); ours are short: 16-bit length at most.
    char frame[4 + 4 + 256];
    if (size > 256) {
        fail(index, "internal: frame too long");
        return;
    }
    size_t n = 0;
    frame[n++] = char(0x80 | opcode);
    if (size < 126) {
        frame[n++] = char(0x80 | size);
    } else {
        frame[n++] = char(0x80 | 126);
        frame[n++] = char(size >> 8);
        frame[n++] = char(size & 0xFF);
    }
    const uint32_t mask = uint32_t(m_random.next());
    std::memcpy(frame + n, &mask, 4);
    const char *key = frame + n;
    n += 4;
    for (size_t i = 0; i < size; ++i)
        frame[n + i] = char(payload[i] ^ key[i & 3]);
    send(index, frame, n + size);
}

void WsClientPool::send(uint32_t index, const char *data, size_t size)
{
    Client &c = m_clients[index];
    if (c.state == State::Closed)
        return;
    if (!c.out.empty()) {
        if (c.out.size() + size > MaxOutput) {
            fail(index, "the server does not read: output queue full");
            return;
        }
        c.out.append(data, size);
        return;
    }
    while (size > 0) {
        const ssize_t n = ::send(c.fd.get(), data, size, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            size -= size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c.out.assign(data, size);
            watchWrite(index, true);
            return;
        }
        fail(index, "write: " + errorText(errno));
        return;
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
