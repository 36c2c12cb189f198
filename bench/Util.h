// Small helpers shared by the bench: an owning file descriptor, the clock,
// and a fast PRNG. Plain C++17 and POSIX, no Qt.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <unistd.h>
#include <utility>

namespace bench {

// Owns one file descriptor; closing it also removes it from any epoll set.
class Fd
{
public:
    Fd() = default;
    explicit Fd(int fd)
        : m_fd(fd)
    { }
    ~Fd() { reset(); }
    Fd(Fd &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    { }
    Fd &operator=(Fd &&other) noexcept
    {
        if (this != &other)
            reset(std::exchange(other.m_fd, -1));
        return *this;
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset(int fd = -1)
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

// CLOCK_MONOTONIC in nanoseconds: the push lines carry it, and the clients
// compare it with their own reading of the same clock.
inline int64_t nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// splitmix64: masking keys and random targets need speed, not secrecy.
class Random
{
public:
    explicit Random(uint64_t seed)
        : m_state(seed)
    { }
    uint64_t next()
    {
        uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

private:
    uint64_t m_state;
};

// Eight bytes from the kernel's random source (for seeds).
uint64_t systemRandom();

// Appends the decimal form of v.
void appendNumber(std::string &out, uint64_t v);

// Up to max bytes of data for a message: control characters become '.'.
std::string printable(const char *data, size_t size, size_t max = 80);

// Error text for errno values.
std::string errorText(int err);

// s as a JSON string literal, quotes included.
std::string jsonString(const std::string &s);

// The SHA-1 digest and base64, just enough for Sec-WebSocket-Accept.
void sha1(const void *data, size_t size, unsigned char digest[20]);
std::string base64(const unsigned char *data, size_t size);
// The Sec-WebSocket-Accept value the server must return for this key.
std::string websocketAccept(const std::string &key);

} // namespace bench

namespace bench {

// What an epoll event belongs to: kind in the top byte, a generation in the
// next three (connect-mode slots and soak clients reuse their index, and an
// event for the old descriptor may still be in the batch), an index in the
// low half.
enum class Kind : uint8_t {
    WsClient = 1,
    TextConn = 2,
    ProbeConn = 3,
    Slot = 4,
    SoakClient = 5,
    Unbound = 6
};

inline uint64_t makeToken(Kind kind, uint32_t generation, uint32_t index)
{
    return uint64_t(kind) << 56 | uint64_t(generation & 0xFFFFFF) << 32 | index;
}
inline Kind tokenKind(uint64_t token)
{
    return Kind(token >> 56);
}
inline uint32_t tokenGeneration(uint64_t token)
{
    return uint32_t(token >> 32) & 0xFFFFFF;
}
inline uint32_t tokenIndex(uint64_t token)
{
    return uint32_t(token);
}

class Epoll
{
public:
    Epoll();
    bool valid() const { return m_fd.valid(); }
    int fd() const { return m_fd.get(); }
    bool add(int fd, uint32_t events, uint64_t token);
    bool modify(int fd, uint32_t events, uint64_t token);

private:
    Fd m_fd;
};

// A non-blocking TCP socket connecting to 127.0.0.1:port. Returns the
// descriptor (connecting or connected), or -1 with *err set. A receive
// buffer size (rcvbuf > 0) must be set before connect() to take effect.
int connectLoopback(int port, bool noDelay, int *err, int rcvbuf = 0);
// 0 when a non-blocking connect() succeeded, else the error.
int socketError(int fd);

enum class SendResult {
    Sent, // all of it went to the kernel
    Appended, // behind bytes already queued in out
    Queued, // the kernel took part; the rest is now in out: watch for EPOLLOUT
    Full, // out would pass maxQueued; nothing was sent or queued
    Failed, // the kernel refused: *err says why
};
// Sends data on a non-blocking socket, or queues it in out behind what is
// already waiting there, so bytes always leave in order.
SendResult sendOrQueue(
    int fd, std::string &out, const char *data, size_t size, size_t maxQueued, int *err);

} // namespace bench
