#include "WsFrame.h"

#include <cstring>

namespace WsFrame {

int encodeHeader(char *out, Opcode opcode, quint64 payloadLength)
{
    out[0] = char(0x80 | opcode);
    if (payloadLength < 126) {
        out[1] = char(payloadLength);
        return 2;
    }
    if (payloadLength <= 0xFFFF) {
        out[1] = char(126);
        out[2] = char(payloadLength >> 8);
        out[3] = char(payloadLength);
        return 4;
    }
    out[1] = char(127);
    for (int i = 0; i < 8; ++i)
        out[2 + i] = char(payloadLength >> (56 - 8 * i));
    return 10;
}

QByteArray header(Opcode opcode, quint64 payloadLength)
{
    char buf[MaxHeaderSize];
    return QByteArray(buf, encodeHeader(buf, opcode, payloadLength));
}

bool isControl(quint8 opcode)
{
    return opcode & 0x8;
}

ParseResult parseHeader(QByteArrayView data, quint64 maxFrame, Header *h, const char **error)
{
    if (data.size() < 2)
        return ParseResult::NeedMore;
    const auto *p = reinterpret_cast<const quint8 *>(data.data());
    h->fin = p[0] & 0x80;
    h->opcode = p[0] & 0x0F;
    if (p[0] & 0x70) {
        *error = "reserved bits set"; // no extension was negotiated
        return ParseResult::ProtocolError;
    }
    if (!(p[1] & 0x80)) {
        *error = "unmasked client frame";
        return ParseResult::ProtocolError;
    }
    switch (h->opcode) {
    case Continuation:
    case Text:
    case Binary:
    case Close:
    case Ping:
    case Pong:
        break;
    default:
        *error = "unknown opcode";
        return ParseResult::ProtocolError;
    }
    quint64 length = p[1] & 0x7F;
    int size = 2;
    if (length == 126) {
        if (data.size() < 4)
            return ParseResult::NeedMore;
        length = (quint64(p[2]) << 8) | p[3];
        size = 4;
    } else if (length == 127) {
        if (data.size() < 10)
            return ParseResult::NeedMore;
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = (length << 8) | p[2 + i];
        if (length >> 63) {
            *error = "invalid length";
            return ParseResult::ProtocolError;
        }
        size = 10;
    }
    if (isControl(h->opcode) && (!h->fin || length > 125)) {
        *error = "fragmented or oversized control frame";
        return ParseResult::ProtocolError;
    }
    if (length > maxFrame) {
        *error = "frame too large";
        return ParseResult::TooBig;
    }
    if (data.size() < size + 4)
        return ParseResult::NeedMore;
    std::memcpy(h->mask, p + size, 4);
    h->size = size + 4;
    h->length = length;
    return ParseResult::Ok;
}

void unmask(char *data, qint64 size, const quint8 mask[4], qint64 offset)
{
    qint64 i = 0;
    // Rotate the key so whole words can be XORed regardless of offset.
    quint8 key[8];
    for (int k = 0; k < 8; ++k)
        key[k] = mask[(offset + k) & 3];
    quint64 word;
    std::memcpy(&word, key, 8);
    for (; i + 8 <= size; i += 8) {
        quint64 chunk;
        std::memcpy(&chunk, data + i, 8);
        chunk ^= word;
        std::memcpy(data + i, &chunk, 8);
    }
    for (; i < size; ++i)
        data[i] = char(data[i] ^ key[i & 7]);
}

QByteArray closePayload(quint16 code, QByteArrayView reason)
{
    QByteArray out;
    out.reserve(2 + reason.size());
    out.append(char(code >> 8));
    out.append(char(code & 0xFF));
    out.append(
        reason.first(qMin<qsizetype>(reason.size(), 123))); // control frames: 125 bytes at most
    return out;
}

bool isValidCloseCode(quint16 code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
        return true;
    default:
        return false;
    }
}

} // namespace WsFrame
