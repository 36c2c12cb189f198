// libFuzzer target: the HTTP Upgrade request that opens a WebSocket
// (WsHandshake::parse) and the answers built from it.

#include "FuzzCheck.h"

#include "WsHandshake.h"

#include <cstdint>
#include <cstring>

namespace {

// A refusal is a complete HTTP response whose Content-Length is right.
void checkRefusal(WsHandshake::Result result, const char *reason)
{
    const QByteArray response = WsHandshake::refusal(result, reason);
    FUZZ_CHECK(response.startsWith("HTTP/1.1 4"));
    const qsizetype end = response.indexOf("\r\n\r\n");
    FUZZ_CHECK(end > 0);
    const qsizetype at = response.indexOf("Content-Length: ");
    FUZZ_CHECK(at > 0 && at < end);
    const qsizetype lineEnd = response.indexOf("\r\n", at);
    bool ok = false;
    const qsizetype length = response.sliced(at + 16, lineEnd - at - 16).toLongLong(&ok);
    FUZZ_CHECK(ok && length == response.size() - end - 4);
}

bool isStrictKey(const QByteArray &key)
{
    if (key.size() != 24 || !key.endsWith("=="))
        return false;
    for (char c : key.first(22)) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
                || c == '/'))
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArrayView request(reinterpret_cast<const char *>(data), qsizetype(size));
    WsHandshake hs;
    const auto result = WsHandshake::parse(request, &hs);
    switch (result) {
    case WsHandshake::Result::Ok: {
        FUZZ_CHECK(hs.size >= 4 && hs.size <= request.size());
        FUZZ_CHECK(hs.size <= WsHandshake::MaxSize);
        FUZZ_CHECK(request.sliced(hs.size - 4, 4) == "\r\n\r\n");
        FUZZ_CHECK(request.first(hs.size - 4).indexOf("\r\n\r\n") < 0);
        // RFC 6455 §4.1: the key is base64 of 16 bytes, so exactly 22
        // base64 characters and "==", nothing skipped or ignored.
        FUZZ_CHECK(isStrictKey(hs.key));
        const QByteArray response = hs.response();
        FUZZ_CHECK(response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
        FUZZ_CHECK(response.endsWith("\r\n\r\n"));
        FUZZ_CHECK(WsHandshake::acceptKey(hs.key).size() == 28);
        // Bytes after the request (the client's first frame, pipelined)
        // change nothing.
        WsHandshake more;
        const QByteArray longer = request.toByteArray() + "\x81\x84garbage\r\n\r\n";
        FUZZ_CHECK(WsHandshake::parse(longer, &more) == WsHandshake::Result::Ok);
        FUZZ_CHECK(more.size == hs.size && more.key == hs.key && more.path == hs.path);
        break;
    }
    case WsHandshake::Result::Incomplete:
        FUZZ_CHECK(request.size() <= WsHandshake::MaxSize);
        FUZZ_CHECK(request.indexOf("\r\n\r\n") < 0);
        break;
    default:
        FUZZ_CHECK(hs.error && *hs.error);
        checkRefusal(result, hs.error);
        break;
    }
    return 0;
}
