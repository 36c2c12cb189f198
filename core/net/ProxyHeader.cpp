#include "ProxyHeader.h"

#include <cstring>

namespace {

constexpr char V1Prefix[] = "PROXY ";
constexpr qsizetype V1PrefixSize = sizeof V1Prefix - 1;
constexpr char V2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr qsizetype V2SignatureSize = sizeof V2Signature - 1; // 12
constexpr qsizetype V2FixedSize = 16;

ProxyHeader::Result invalid(ProxyHeader *out, const char *error)
{
    out->error = error;
    return ProxyHeader::Result::Invalid;
}

// Whether data, as far as it goes, matches the start of what.
bool matchesStart(QByteArrayView data, const char *what, qsizetype whatSize)
{
    const qsizetype n = qMin(data.size(), whatSize);
    return std::memcmp(data.data(), what, size_t(n)) == 0;
}

// A port in decimal: 0 to 65535, no sign, no leading zero.
bool parsePort(QByteArrayView text, quint16 *port)
{
    if (text.isEmpty() || text.size() > 5 || (text.size() > 1 && text[0] == '0'))
        return false;
    quint32 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + quint32(c - '0');
    }
    if (value > 65535)
        return false;
    *port = quint16(value);
    return true;
}

ProxyHeader::Result parseV1(QByteArrayView data, ProxyHeader *out)
{
    // The line ends at the first CR, which must be followed by LF. Only
    // printable ASCII before it: no tabs, no second line ending, no NUL.
    qsizetype cr = -1;
    for (qsizetype i = 0; i < data.size() && i < ProxyHeader::MaxV1Size; ++i) {
        const char c = data[i];
        if (c == '\r') {
            cr = i;
            break;
        }
        if (c < 0x20 || c > 0x7e)
            return invalid(out, "PROXY v1 header: unexpected character");
    }
    if (cr < 0) {
        if (data.size() >= ProxyHeader::MaxV1Size)
            return invalid(out, "PROXY v1 header longer than 107 bytes");
        return ProxyHeader::Result::Incomplete;
    }
    if (cr + 2 > ProxyHeader::MaxV1Size)
        return invalid(out, "PROXY v1 header longer than 107 bytes");
    if (cr + 1 >= data.size())
        return ProxyHeader::Result::Incomplete;
    if (data[cr + 1] != '\n')
        return invalid(out, "PROXY v1 header: CR without LF");

    const QByteArrayView line = data.sliced(V1PrefixSize, cr - V1PrefixSize);
    out->version = 1;
    out->size = cr + 2;
    // "the receiver must ignore anything presented before the CRLF": the
    // proxy does not know the client's protocol.
    if (line == "UNKNOWN" || line.startsWith("UNKNOWN ")) {
        out->hasAddress = false;
        return ProxyHeader::Result::Ok;
    }
    // Fields are separated by exactly one space.
    QByteArrayView fields[5];
    int count = 0;
    qsizetype start = 0;
    for (qsizetype i = 0; i <= line.size(); ++i) {
        if (i < line.size() && line[i] != ' ')
            continue;
        if (count == 5)
            return invalid(out, "PROXY v1 header: expected 5 fields");
        fields[count++] = line.sliced(start, i - start);
        start = i + 1;
    }
    const bool v4 = fields[0] == "TCP4";
    if (!v4 && fields[0] != "TCP6")
        return invalid(out, "PROXY v1 header: protocol is not TCP4, TCP6 or UNKNOWN");
    if (count != 5)
        return invalid(out, "PROXY v1 header: expected 5 fields");
    quint16 sourcePort = 0, destinationPort = 0;
    if (!parsePort(fields[3], &sourcePort) || !parsePort(fields[4], &destinationPort))
        return invalid(out, "PROXY v1 header: invalid port");
    // The family must be the one announced: an IPv4 address has no colon,
    // an IPv6 one always has.
    for (int i = 1; i <= 2; ++i) {
        if (fields[i].contains(':') == v4)
            return invalid(out, "PROXY v1 header: address does not match the protocol");
    }
    out->source = PeerAddress::fromText(fields[1], sourcePort);
    out->destination = PeerAddress::fromText(fields[2], destinationPort);
    if (!out->source.isValid() || !out->destination.isValid())
        return invalid(out, "PROXY v1 header: invalid address");
    out->hasAddress = true;
    return ProxyHeader::Result::Ok;
}

ProxyHeader::Result parseV2(QByteArrayView data, ProxyHeader *out)
{
    if (data.size() < V2FixedSize)
        return ProxyHeader::Result::Incomplete;
    const auto *bytes = reinterpret_cast<const quint8 *>(data.data());
    const quint8 version = bytes[12] >> 4;
    const quint8 command = bytes[12] & 0x0f;
    const quint8 family = bytes[13] >> 4;
    const quint8 transport = bytes[13] & 0x0f;
    const qsizetype length = qsizetype(bytes[14]) << 8 | bytes[15];
    if (version != 2)
        return invalid(out, "PROXY header: unsupported version");
    if (command > 1)
        return invalid(out, "PROXY v2 header: unknown command");
    if (family > 3 || transport > 2)
        return invalid(out, "PROXY v2 header: unknown address family or transport");
    if (V2FixedSize + length > ProxyHeader::MaxSize)
        return invalid(out, "PROXY v2 header larger than 4096 bytes");
    if (data.size() < V2FixedSize + length)
        return ProxyHeader::Result::Incomplete;
    out->version = 2;
    out->size = V2FixedSize + length;
    out->hasAddress = false;
    // LOCAL: the proxy's own connection (a health check). Its address block,
    // whatever it holds, is skipped, as the specification asks.
    if (command == 0)
        return ProxyHeader::Result::Ok;

    const quint8 *block = bytes + V2FixedSize;
    qsizetype addressSize = 0;
    switch (family) {
    case 0: // UNSPEC: nothing known about the client
        break;
    case 1: // INET
        addressSize = 12;
        break;
    case 2: // INET6
        addressSize = 36;
        break;
    case 3: // UNIX: a client of the proxy's own machine, no IP address
        addressSize = 216;
        break;
    }
    if (family != 0 && transport != 1)
        return invalid(out, "PROXY v2 header: transport is not TCP");
    if (length < addressSize)
        return invalid(out, "PROXY v2 header: address block too short");
    // What follows the addresses must be whole TLVs (type, 16-bit length,
    // value), nothing more, nothing less.
    for (qsizetype at = addressSize; at < length;) {
        if (length - at < 3)
            return invalid(out, "PROXY v2 header: truncated TLV");
        const qsizetype valueSize = qsizetype(block[at + 1]) << 8 | block[at + 2];
        if (length - at - 3 < valueSize)
            return invalid(out, "PROXY v2 header: truncated TLV");
        at += 3 + valueSize;
    }
    if (family == 1) {
        out->source = PeerAddress::fromIPv4(block, quint16(block[8] << 8 | block[9]));
        out->destination = PeerAddress::fromIPv4(block + 4, quint16(block[10] << 8 | block[11]));
        out->hasAddress = true;
    } else if (family == 2) {
        out->source = PeerAddress::fromIPv6(block, quint16(block[32] << 8 | block[33]));
        out->destination = PeerAddress::fromIPv6(block + 16, quint16(block[34] << 8 | block[35]));
        out->hasAddress = true;
    }
    return ProxyHeader::Result::Ok;
}

} // namespace

ProxyHeader::Result ProxyHeader::parse(QByteArrayView data, ProxyHeader *out)
{
    *out = ProxyHeader();
    if (data.isEmpty())
        return Result::Incomplete;
    if (matchesStart(data, V2Signature, V2SignatureSize)) {
        if (data.size() < V2SignatureSize)
            return Result::Incomplete;
        return parseV2(data, out);
    }
    if (matchesStart(data, V1Prefix, V1PrefixSize)) {
        if (data.size() < V1PrefixSize)
            return Result::Incomplete;
        return parseV1(data, out);
    }
    return invalid(out, "no PROXY protocol header");
}
