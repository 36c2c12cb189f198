#include "WsProtocol.h"

#include <algorithm>
#include <cstring>
#include <strings.h>

namespace bench::ws {

namespace {

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

std::string newKey(Random &random)
{
    unsigned char nonce[16];
    for (int i = 0; i < 16; i += 8) {
        const uint64_t r = random.next();
        std::memcpy(nonce + i, &r, 8);
    }
    return base64(nonce, sizeof nonce);
}

std::string upgradeRequest(int port, const std::string &key)
{
    std::string request = "GET /pushbench HTTP/1.1\r\nHost: 127.0.0.1:";
    appendNumber(request, uint64_t(port));
    request += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    request += key;
    request += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return request;
}

Handshake checkResponse(
    const char *data, size_t size, const char *key, size_t *used, std::string *error)
{
    if (std::memcmp(data, "HTTP/", std::min<size_t>(size, 5)) != 0) {
        *error = "handshake: not an HTTP response: " + printable(data, std::min<size_t>(size, 60));
        return Handshake::Bad;
    }
    const char *end = static_cast<const char *>(memmem(data, size, "\r\n\r\n", 4));
    if (!end) {
        if (size > MaxHandshake) {
            *error = "handshake: response header too long";
            return Handshake::Bad;
        }
        return Handshake::Incomplete;
    }
    const char *line = data;
    const char *eol = static_cast<const char *>(memmem(line, size_t(end - line) + 2, "\r\n", 2));
    const std::string status(line, size_t(eol - line));
    if (status.compare(0, 13, "HTTP/1.1 101 ") != 0 && status != "HTTP/1.1 101") {
        *error = "handshake: " + printable(status.data(), status.size());
        return Handshake::Bad;
    }
    bool upgrade = false, connection = false, accept = false;
    const std::string expected = websocketAccept(std::string(key, KeySize));
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
        *error = !accept ? "handshake: wrong or missing Sec-WebSocket-Accept"
                         : "handshake: missing Upgrade/Connection header";
        return Handshake::Bad;
    }
    *used = size_t(end - data) + 4;
    return Handshake::Ok;
}

FrameResult parseFrame(
    const char *data, size_t size, Frame *frame, size_t *used, const char **error)
{
    if (size < 2)
        return FrameResult::NeedMore;
    const auto *p = reinterpret_cast<const unsigned char *>(data);
    uint64_t length = p[1] & 0x7F;
    size_t header = 2;
    if (length == 126) {
        if (size < 4)
            return FrameResult::NeedMore;
        length = uint64_t(p[2]) << 8 | p[3];
        header = 4;
    } else if (length == 127) {
        if (size < 10)
            return FrameResult::NeedMore;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = length << 8 | p[2 + i];
        header = 10;
    }
    if ((p[0] & 0x70) || (p[1] & 0x80) || length > MaxFrame) {
        *error = (p[0] & 0x70) ? "protocol: reserved bits set"
            : (p[1] & 0x80)    ? "protocol: masked server frame"
                               : "protocol: frame larger than 32 MiB";
        return FrameResult::Bad;
    }
    if (size - header < length)
        return FrameResult::NeedMore;
    frame->fin = p[0] & 0x80;
    frame->opcode = p[0] & 0x0F;
    frame->payload = data + header;
    frame->size = size_t(length);
    *used = header + size_t(length);
    return FrameResult::Frame;
}

size_t encodeClientFrame(char *out, uint8_t opcode, const char *payload, size_t size, uint32_t mask)
{
    // Client frames are masked (RFC 6455 5.3); ours are short: 16-bit length at most.
    if (size > MaxClientPayload)
        return 0;
    size_t n = 0;
    out[n++] = char(0x80 | opcode);
    if (size < 126) {
        out[n++] = char(0x80 | size);
    } else {
        out[n++] = char(0x80 | 126);
        out[n++] = char(size >> 8);
        out[n++] = char(size & 0xFF);
    }
    std::memcpy(out + n, &mask, 4);
    const char *key = out + n;
    n += 4;
    for (size_t i = 0; i < size; ++i)
        out[n + i] = char(payload[i] ^ key[i & 3]);
    return n + size;
}

int closeCode(const char *payload, size_t size)
{
    if (size < 2)
        return 1005;
    return int(uint8_t(payload[0])) << 8 | uint8_t(payload[1]);
}

std::string describeClose(const char *payload, size_t size)
{
    std::string why = "closed by the server";
    if (size >= 2) {
        why += " (code ";
        appendNumber(why, uint64_t(closeCode(payload, size)));
        if (size > 2)
            why += ": " + printable(payload + 2, size - 2);
        why += ")";
    }
    return why;
}

} // namespace bench::ws
