// libFuzzer target: the WebSocket frame header parser and the unmasking of
// client payloads (WsFrame::parseHeader, WsFrame::unmask), plus the server
// side encoder against the parser.

#include "FuzzCheck.h"

#include "WsFrame.h"

#include <cstdint>
#include <cstring>
#include <limits>

namespace {

void checkParse(QByteArrayView data, quint64 maxFrame)
{
    WsFrame::Header h;
    const char *error = nullptr;
    const auto result = WsFrame::parseHeader(data, maxFrame, &h, &error);
    switch (result) {
    case WsFrame::ParseResult::Ok:
        FUZZ_CHECK(h.size == 6 || h.size == 8 || h.size == 14);
        FUZZ_CHECK(h.size <= data.size());
        FUZZ_CHECK(h.length <= maxFrame);
        FUZZ_CHECK(h.length < (quint64(1) << 63));
        FUZZ_CHECK(h.opcode <= 0x2 || (h.opcode >= 0x8 && h.opcode <= 0xA));
        if (WsFrame::isControl(h.opcode))
            FUZZ_CHECK(h.fin && h.length <= 125);
        FUZZ_CHECK(std::memcmp(h.mask, data.data() + h.size - 4, 4) == 0);
        break;
    case WsFrame::ParseResult::NeedMore:
        // A header is 14 bytes at most.
        FUZZ_CHECK(data.size() < 14);
        break;
    case WsFrame::ParseResult::ProtocolError:
    case WsFrame::ParseResult::TooBig:
        FUZZ_CHECK(error && *error);
        break;
    }
    // A header depends on its first 14 bytes only, and a prefix of an
    // acceptable header is never an error nor a different header.
    if (data.size() > 14) {
        WsFrame::Header h14;
        const char *e14 = nullptr;
        FUZZ_CHECK(WsFrame::parseHeader(data.first(14), maxFrame, &h14, &e14) == result);
    }
    if (result == WsFrame::ParseResult::Ok) {
        for (int n = 0; n < h.size; ++n) {
            WsFrame::Header hp;
            const char *ep = nullptr;
            FUZZ_CHECK(WsFrame::parseHeader(data.first(n), maxFrame, &hp, &ep)
                == WsFrame::ParseResult::NeedMore);
        }
    }
}

void checkUnmask(QByteArrayView payload, const quint8 mask[4], qint64 offset, qint64 split)
{
    // Reference: byte by byte, as RFC 6455 §5.3 writes it.
    QByteArray expected = payload.toByteArray();
    for (qsizetype i = 0; i < expected.size(); ++i)
        expected[i] = char(expected[i] ^ mask[(offset + i) & 3]);

    QByteArray whole = payload.toByteArray();
    WsFrame::unmask(whole.data(), whole.size(), mask, offset);
    FUZZ_CHECK(whole == expected);

    // In two pieces, as payloads arrive across reads.
    QByteArray pieces = payload.toByteArray();
    const qint64 k = pieces.isEmpty() ? 0 : split % (pieces.size() + 1);
    WsFrame::unmask(pieces.data(), k, mask, offset);
    WsFrame::unmask(pieces.data() + k, pieces.size() - k, mask, offset + k);
    FUZZ_CHECK(pieces == expected);

    // XOR twice is the identity.
    WsFrame::unmask(whole.data(), whole.size(), mask, offset);
    FUZZ_CHECK(whole == payload);
}

void checkEncoder(quint64 length, quint8 opcode)
{
    char buf[WsFrame::MaxHeaderSize + 4];
    const int n = WsFrame::encodeHeader(buf, WsFrame::Opcode(opcode), length);
    FUZZ_CHECK(n == 2 || n == 4 || n == 10);
    FUZZ_CHECK(WsFrame::header(WsFrame::Opcode(opcode), length) == QByteArrayView(buf, n));
    // Masked as a client would send it, the parser reads back what we wrote.
    buf[1] = char(buf[1] | 0x80);
    std::memcpy(buf + n, "\x01\x02\x03\x04", 4);
    WsFrame::Header h;
    const char *error = nullptr;
    const auto result = WsFrame::parseHeader(
        QByteArrayView(buf, n + 4), std::numeric_limits<quint64>::max(), &h, &error);
    if (length >> 63 || (WsFrame::isControl(opcode) && length > 125)) {
        FUZZ_CHECK(result == WsFrame::ParseResult::ProtocolError);
        return;
    }
    FUZZ_CHECK(result == WsFrame::ParseResult::Ok);
    FUZZ_CHECK(h.length == length && h.opcode == opcode && h.fin && h.size == n + 4);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    // The first 8 bytes pick the limit and unmasking parameters; the rest is
    // what a client sent.
    if (size < 8)
        return 0;
    static const quint64 limits[] = {
        0, 1, 125, 126, 65535, 65536, 1 << 20, std::numeric_limits<quint64>::max()};
    const quint64 maxFrame = limits[data[0] & 7];
    const quint8 mask[4] = {data[1], data[2], data[3], data[4]};
    const qint64 offset = data[5];
    const qint64 split = data[6];
    const quint8 opcode = data[7] & 0x0F;
    const QByteArrayView frame(reinterpret_cast<const char *>(data + 8), qsizetype(size - 8));

    checkParse(frame, maxFrame);
    checkUnmask(frame, mask, offset, split);
    quint64 seed = 0;
    std::memcpy(&seed, data, 8);
    const bool known = opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
    checkEncoder(seed >> (data[7] % 64), known ? opcode : quint8(WsFrame::Text));
    const QByteArray close = WsFrame::closePayload(quint16(offset << 8 | split), frame);
    FUZZ_CHECK(close.size() <= 125);
    return 0;
}
