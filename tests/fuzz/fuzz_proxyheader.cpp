// libFuzzer target: what a trusted proxy sends before the client's bytes, to
// ProxyHeader::parse (PROXY protocol v1 and v2), and the same bytes as an
// X-Forwarded-For value to ForwardedFor::resolve.

#include "FuzzCheck.h"

#include "ForwardedFor.h"
#include "ProxyHeader.h"

#include <cstdint>
#include <cstring>

namespace {

ProxyHeader::Result parse(QByteArrayView data, ProxyHeader *out)
{
    // A copy of exactly these bytes, so that ASan sees any read past them.
    QByteArray copy = data.toByteArray();
    copy.squeeze();
    return ProxyHeader::parse(QByteArrayView(copy.constData(), copy.size()), out);
}

void checkHeader(QByteArrayView data)
{
    ProxyHeader h;
    const auto result = parse(data, &h);
    switch (result) {
    case ProxyHeader::Result::Ok: {
        FUZZ_CHECK(h.size > 0 && h.size <= data.size() && h.size <= ProxyHeader::MaxSize);
        FUZZ_CHECK(h.version == 1 || h.version == 2);
        if (h.version == 1) {
            FUZZ_CHECK(h.size <= ProxyHeader::MaxV1Size);
            FUZZ_CHECK(data.startsWith("PROXY "));
            FUZZ_CHECK(data.sliced(h.size - 2, 2) == "\r\n");
            FUZZ_CHECK(data.first(h.size - 2).indexOf('\r') < 0);
            FUZZ_CHECK(data.first(h.size - 2).indexOf('\n') < 0);
        } else {
            FUZZ_CHECK(h.size >= 16);
            const auto *b = reinterpret_cast<const quint8 *>(data.data());
            FUZZ_CHECK(h.size == 16 + (qsizetype(b[14]) << 8 | b[15]));
        }
        FUZZ_CHECK(!h.hasAddress || (h.source.isValid() && h.destination.isValid()));
        FUZZ_CHECK(*h.error == '\0');
        // The intake takes the bytes of an incomplete header: each of them
        // must belong to the header.
        for (qsizetype n : {qsizetype(0), qsizetype(1), h.size / 2, h.size - 1}) {
            ProxyHeader p;
            FUZZ_CHECK(parse(data.first(n), &p) == ProxyHeader::Result::Incomplete);
        }
        // Bytes after the header change nothing.
        ProxyHeader same;
        const QByteArray longer = data.first(h.size).toByteArray() + "GET / HTTP/1.1\r\n";
        FUZZ_CHECK(parse(longer, &same) == ProxyHeader::Result::Ok);
        FUZZ_CHECK(same.size == h.size && same.hasAddress == h.hasAddress);
        FUZZ_CHECK(!h.hasAddress || same.source.toString() == h.source.toString());
        break;
    }
    case ProxyHeader::Result::Incomplete:
        FUZZ_CHECK(data.size() < ProxyHeader::MaxSize);
        FUZZ_CHECK(*h.error == '\0');
        break;
    case ProxyHeader::Result::Invalid: {
        FUZZ_CHECK(*h.error != '\0');
        // Refused for good: more bytes cannot repair it.
        ProxyHeader more;
        const QByteArray longer = data.toByteArray() + "\r\n";
        FUZZ_CHECK(parse(longer, &more) == ProxyHeader::Result::Invalid);
        break;
    }
    }
}

void checkForwardedFor(QByteArrayView data)
{
    static const ForwardedFor::Subnets trusted = {
        QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8")),
        QHostAddress::parseSubnet(QStringLiteral("2001:db8::/32")),
    };
    PeerAddress client;
    const char *error = "";
    if (ForwardedFor::resolve(data, trusted, &client, &error)) {
        FUZZ_CHECK(client.isValid());
        // The answer is one of the listed elements, written out again.
        const QByteArray host = client.host().toLatin1();
        FUZZ_CHECK(!host.isEmpty());
    } else {
        FUZZ_CHECK(*error != '\0');
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    checkHeader(input);
    checkForwardedFor(input);
    return 0;
}
