// N WebSocket clients on one epoll loop: connect in a bounded window, RFC
// 6455 client handshake, bind a uid with a masked text frame, then read push
// frames, answer pings, and note anything the server does wrong.
#pragma once

#include "Tracker.h"
#include "Util.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct Options;

class WsClientPool
{
public:
    enum class State : uint8_t { Idle, Connecting, Handshake, Binding, Verifying, Bound, Closed };

    WsClientPool(Epoll &epoll, const Options &options, Tracker &tracker);

    // Called once a client's uid frame is written (probe it, or count it).
    std::function<void(uint32_t client)> bindWritten;

    // Starts connects while fewer than the window are between connect() and bound.
    void fill(int64_t now);
    void handle(uint32_t index, uint32_t events, int64_t now);
    void markBound(uint32_t index, int64_t now);
    void closeAll();

    uint32_t size() const { return uint32_t(m_clients.size()); }
    // Its uid frame is written and it waits for a probe to say "ok".
    bool verifying(uint32_t index) const { return m_clients[index].state == State::Verifying; }
    // Every client is bound or has failed for good.
    bool settled() const { return m_bound + m_failed == size(); }
    // Waiting for a free ephemeral port: poll again soon.
    bool backingOff() const { return m_retryAt != 0; }

    uint32_t m_connected = 0; // handshake completed
    uint32_t m_bound = 0;
    uint32_t m_failed = 0; // never got to bound
    uint32_t m_dropped = 0; // lost after it was bound
    uint32_t m_closedByServer = 0; // of failed + dropped: a close frame
    uint64_t m_protocolErrors = 0;
    uint64_t m_pings = 0;
    uint64_t m_portRetries = 0;
    int64_t m_firstConnect = 0, m_lastConnected = 0, m_lastBound = 0;
    std::string m_firstFailure;
    bool m_outOfFds = false;

private:
    struct Client
    {
        Fd fd;
        std::string in; // unparsed bytes: the handshake response or a partial frame
        std::string out; // bytes the socket did not take yet
        char key[24]; // Sec-WebSocket-Key, until the response is checked
        State state = State::Idle;
        bool watchingWrite = false;
    };

    bool startConnect(uint32_t index, int64_t now);
    void connected(uint32_t index);
    void readable(uint32_t index, int64_t now);
    void consume(uint32_t index, const char *data, size_t size, int64_t now);
    size_t handshake(uint32_t index, const char *data, size_t size, int64_t now);
    size_t frames(uint32_t index, const char *data, size_t size, int64_t now);
    void frame(
        uint32_t index, uint8_t opcode, bool fin, const char *payload, size_t size, int64_t now);
    void sendFrame(uint32_t index, uint8_t opcode, const char *payload, size_t size);
    void send(uint32_t index, const char *data, size_t size);
    void flush(uint32_t index);
    void watchWrite(uint32_t index, bool on);
    void fail(uint32_t index, const std::string &why);

    Epoll &m_epoll;
    const Options &m_options;
    Tracker &m_tracker;
    std::vector<Client> m_clients;
    Random m_random;
    uint32_t m_next = 0; // next client to connect
    uint32_t m_inWindow = 0; // between connect() and bound
    int64_t m_retryAt = 0;
};

} // namespace bench
