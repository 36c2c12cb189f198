#include "Util.h"

#include <cstdio>
#include <cstring>
#include <sys/random.h>

namespace bench {

uint64_t systemRandom()
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != ssize_t(sizeof v))
        v = uint64_t(nowNs()) ^ (uint64_t(getpid()) << 32); // never expected, still fine
    return v;
}

void appendNumber(std::string &out, uint64_t v)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out.push_back(buf[--n]);
}

std::string printable(const char *data, size_t size, size_t max)
{
    std::string out(data, size < max ? size : max);
    for (char &c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '.';
    }
    return out;
}

std::string errorText(int err)
{
    return std::strerror(err);
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += char(c);
        }
    }
    return out + "\"";
}

namespace {

uint32_t rotl(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

void sha1Block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
        w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8
            | uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 80; ++i)
        w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        const uint32_t t = rotl(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

} // namespace

void sha1(const void *data, size_t size, unsigned char digest[20])
{
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const auto *p = static_cast<const unsigned char *>(data);
    size_t left = size;
    for (; left >= 64; left -= 64, p += 64)
        sha1Block(h, p);
    // The tail, the 0x80 marker and the bit length fill one or two blocks.
    unsigned char tail[128] = {};
    std::memcpy(tail, p, left);
    tail[left] = 0x80;
    const size_t blocks = left + 1 + 8 <= 64 ? 1 : 2;
    const uint64_t bits = uint64_t(size) * 8;
    for (int i = 0; i < 8; ++i)
        tail[blocks * 64 - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
    for (size_t b = 0; b < blocks; ++b)
        sha1Block(h, tail + 64 * b);
    for (int i = 0; i < 5; ++i) {
        digest[4 * i] = static_cast<unsigned char>(h[i] >> 24);
        digest[4 * i + 1] = static_cast<unsigned char>(h[i] >> 16);
        digest[4 * i + 2] = static_cast<unsigned char>(h[i] >> 8);
        digest[4 * i + 3] = static_cast<unsigned char>(h[i]);
    }
}

std::string base64(const unsigned char *data, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8 | data[i + 2];
        out.push_back(alphabet[v >> 18]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    if (size - i == 1) {
        const uint32_t v = uint32_t(data[i]) << 16;
        out.push_back(alphabet[v >> 18]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.append("==");
    } else if (size - i == 2) {
        const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8;
        out.push_back(alphabet[v >> 18]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back('=');
    }
    return out;
}

std::string websocketAccept(const std::string &key)
{
    const std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[20];
    sha1(text.data(), text.size(), digest);
    return base64(digest, sizeof digest);
}

} // namespace bench

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace bench {

Epoll::Epoll()
    : m_fd(epoll_create1(EPOLL_CLOEXEC))
{ }

bool Epoll::add(int fd, uint32_t events, uint64_t token)
{
    epoll_event ev {};
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(m_fd.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool Epoll::modify(int fd, uint32_t events, uint64_t token)
{
    epoll_event ev {};
    ev.events = events;
    ev.data.u64 = token;
    return epoll_ctl(m_fd.get(), EPOLL_CTL_MOD, fd, &ev) == 0;
}

int connectLoopback(int port, bool noDelay, int *err, int rcvbuf)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (noDelay) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (rcvbuf > 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    // Spread the sockets over 127.0.0.1-254 (all of 127/8 is this host): one
    // source address has some 28 000 ephemeral ports, and the seed's
    // connection-per-push pattern leaves each in TIME_WAIT for a minute, after
    // which connect() spends its time searching for a free port. The port is
    // picked at connect() (IP_BIND_ADDRESS_NO_PORT), per 4-tuple.
    static uint32_t next = 0;
    sockaddr_in source {};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (next++ % 254));
    const int one = 1;
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&source), sizeof source) < 0) {
        *err = errno;
        ::close(fd);
        return -1;
    }
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A non-blocking connect() interrupted by a signal goes on in the
    // background, like EINPROGRESS; retrying it would only say EALREADY.
    const int r = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr);
    if (r < 0 && errno != EINPROGRESS && errno != EINTR) {
        *err = errno;
        ::close(fd);
        return -1;
    }
    *err = 0;
    return fd;
}

SendResult sendOrQueue(
    int fd, std::string &out, const char *data, size_t size, size_t maxQueued, int *err)
{
    if (!out.empty()) {
        if (out.size() + size > maxQueued)
            return SendResult::Full;
        out.append(data, size);
        return SendResult::Appended;
    }
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            size -= size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            out.assign(data, size);
            return SendResult::Queued;
        }
        *err = errno;
        return SendResult::Failed;
    }
    return SendResult::Sent;
}

int socketError(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

} // namespace bench
