// The client side of RFC 6455 that both client pools need: the upgrade
// request, the check of the server's response, server frame headers and
// masked client frames. Pure functions on buffers, no sockets, so the
// one-shot pool and the churning soak pool cannot drift apart.
#pragma once

#include "Util.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace bench::ws {

// A push is one short line; anything near this is a server bug, not a push.
constexpr size_t MaxFrame = 32 * 1024 * 1024;
constexpr size_t MaxHandshake = 16 * 1024;
// Client frames are pongs, close frames and uids: short by construction.
constexpr size_t MaxClientPayload = 256;
constexpr size_t MaxClientFrame = 4 + 4 + MaxClientPayload;
constexpr size_t KeySize = 24;

enum Opcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA
};

// A fresh Sec-WebSocket-Key (base64 of 16 random bytes, KeySize characters).
std::string newKey(Random &random);
std::string upgradeRequest(int port, const std::string &key);

enum class Handshake { Incomplete, Ok, Bad };
// Checks the response to upgradeRequest(key): status 101, Upgrade,
// Connection and Sec-WebSocket-Accept. On Ok, *used is the size of the
// header (frames may follow in the same read); on Bad, *error says why.
Handshake checkResponse(
    const char *data, size_t size, const char *key, size_t *used, std::string *error);

struct Frame
{
    uint8_t opcode = 0;
    bool fin = false;
    const char *payload = nullptr;
    size_t size = 0;
};
enum class FrameResult { Frame, NeedMore, Bad };
// Parses the server frame at the start of data. On Frame, *used is its whole
// size; on Bad, *error says what the server did wrong.
FrameResult parseFrame(
    const char *data, size_t size, Frame *frame, size_t *used, const char **error);

// Writes a masked client frame to out (MaxClientFrame bytes); returns its
// size, or 0 when the payload is longer than MaxClientPayload.
size_t encodeClientFrame(
    char *out, uint8_t opcode, const char *payload, size_t size, uint32_t mask);

// "closed by the server (code 1008: bind timeout)" from a close payload.
std::string describeClose(const char *payload, size_t size);
// The status code of a close payload, 1005 (none given) when it has none.
int closeCode(const char *payload, size_t size);

} // namespace bench::ws
