// libFuzzer target: the HTTP/1.1 request parser of the HTTP API
// (HttpParser), fed the same bytes whole and in pieces.

#include "FuzzCheck.h"

#include "HttpParser.h"

#include <cstdint>
#include <cstring>

namespace {

// Small limits, so that the fuzzer reaches them.
HttpParser::Limits limits()
{
    HttpParser::Limits l;
    l.maxHead = 1024;
    l.maxBody = 4096;
    l.maxFields = 16;
    return l;
}

bool isToken(QByteArrayView v)
{
    if (v.isEmpty())
        return false;
    for (char c : v) {
        if (!HttpParser::isTokenChar(c))
            return false;
    }
    return true;
}

// What a run of the parser produced, to compare runs.
QByteArray outcome(const HttpParser::Result result, HttpParser &parser)
{
    if (result == HttpParser::Result::Error) {
        FUZZ_CHECK(!parser.errorMessage().isEmpty());
        const int s = parser.errorStatus();
        FUZZ_CHECK(s == 400 || s == 413 || s == 431 || s == 501 || s == 505);
        return "error " + QByteArray::number(s) + ' ' + parser.errorMessage() + '\n';
    }
    const HttpRequest r = parser.takeRequest();
    FUZZ_CHECK(parser.isIdle());
    // Only what the parser promises ever reaches a route.
    FUZZ_CHECK(isToken(r.method()));
    FUZZ_CHECK(!r.path().isEmpty());
    for (char c : r.target())
        FUZZ_CHECK(c > 0x20 && c < 0x7f);
    FUZZ_CHECK(r.minorVersion() == 0 || r.minorVersion() == 1);
    FUZZ_CHECK(r.fieldCount() <= limits().maxFields);
    FUZZ_CHECK(r.body.size() <= limits().maxBody);
    FUZZ_CHECK(!(r.isChunked() && r.contentLength() >= 0));
    if (!r.isChunked())
        FUZZ_CHECK(r.body.size() == qMax<qint64>(r.contentLength(), 0));
    if (r.minorVersion() == 1)
        FUZZ_CHECK(r.headerCount("host") == 1);
    FUZZ_CHECK(r.headerCount("content-length") <= 1);
    QByteArray out = r.method().toByteArray() + ' ' + r.target().toByteArray() + ' '
        + QByteArray::number(r.minorVersion()) + (r.keepAlive() ? " keep" : " close")
        + (r.expectsContinue() ? " continue" : "") + '\n';
    for (qsizetype i = 0; i < r.fieldCount(); ++i) {
        const QByteArrayView name = r.fieldName(i);
        const QByteArrayView value = r.fieldValue(i);
        FUZZ_CHECK(isToken(name));
        for (char c : value)
            FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
        if (!value.isEmpty()) {
            FUZZ_CHECK(value.front() != ' ' && value.front() != '\t');
            FUZZ_CHECK(value.back() != ' ' && value.back() != '\t');
        }
        out += name.toByteArray() + ':' + value.toByteArray() + '\n';
    }
    return out + "body " + r.body + '\n';
}

// Parses data handing it over `piece` bytes at a time (0: all at once).
QByteArray run(QByteArrayView data, qsizetype piece)
{
    HttpParser parser(limits());
    QByteArray all;
    qsizetype pos = 0;
    while (pos < data.size()) {
        const qsizetype n = piece > 0 ? qMin(piece, data.size() - pos) : data.size() - pos;
        qsizetype offset = 0;
        while (offset < n) {
            qint64 used = 0;
            const auto result = parser.parse(data.data() + pos + offset, n - offset, &used);
            FUZZ_CHECK(used >= 0 && used <= n - offset);
            offset += used;
            // Never more than one request's worth, whatever was fed.
            FUZZ_CHECK(parser.bufferedBytes() <= 2 * (limits().maxHead + limits().maxBody));
            if (result == HttpParser::Result::NeedMore) {
                FUZZ_CHECK(offset == n);
                continue;
            }
            if (result == HttpParser::Result::HeadDone) {
                FUZZ_CHECK(parser.request().hasBody());
                continue;
            }
            all += outcome(result, parser);
            if (result == HttpParser::Result::Error)
                return all; // nothing after an error is read
        }
        pos += n;
    }
    return all + (parser.isIdle() ? "idle\n" : "partial\n");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 1)
        return 0;
    // The first byte picks the size of the pieces; the rest is the stream.
    const qsizetype piece = 1 + data[0] % 16;
    const QByteArrayView stream(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    const QByteArray whole = run(stream, 0);
    // Where the socket happens to split the bytes changes nothing.
    FUZZ_CHECK(run(stream, piece) == whole);
    FUZZ_CHECK(run(stream, 1) == whole);
    return 0;
}
