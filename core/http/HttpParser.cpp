#include "HttpParser.h"

#include <cstring>

namespace {

constexpr qint64 MaxChunkLine = 1024; // chunk size and its extensions
constexpr int MaxChunkDigits = 16;

bool isFieldValueChar(char c)
{
    // VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5); CR, LF and NUL are refused
    // before this is asked.
    const uchar u = uchar(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

bool isTargetChar(char c)
{
    // Visible ASCII only: no spaces, controls or raw UTF-8 (those are sent
    // percent-encoded), no fragment.
    return c > 0x20 && c < 0x7f && c != '#';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

QByteArrayView trimmedOws(QByteArrayView v)
{
    while (!v.isEmpty() && (v.front() == ' ' || v.front() == '\t'))
        v = v.sliced(1);
    while (!v.isEmpty() && (v.back() == ' ' || v.back() == '\t'))
        v.chop(1);
    return v;
}

bool equalsNoCase(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

// Calls f for each element of a comma-separated list, trimmed, empty
// elements skipped (RFC 9110 §5.6.1).
template<typename F>
void forEachListElement(QByteArrayView value, F f)
{
    qsizetype start = 0;
    while (start <= value.size()) {
        qsizetype end = value.indexOf(',', start);
        if (end < 0)
            end = value.size();
        const QByteArrayView element = trimmedOws(value.sliced(start, end - start));
        if (!element.isEmpty())
            f(element);
        start = end + 1;
    }
}

} // namespace

bool HttpParser::isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

HttpParser::HttpParser(const Limits &limits)
    : m_limits(limits)
{ }

qint64 HttpParser::bufferedBytes() const
{
    return m_request.m_head.capacity() + m_request.body.capacity() + m_line.capacity();
}

HttpRequest HttpParser::takeRequest()
{
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest();
    m_state = State::Idle;
    m_previous = 0;
    m_lineLength = 0;
    return request;
}

void HttpParser::reset()
{
    m_request = HttpRequest();
    m_line = QByteArray();
    m_errorMessage.clear();
    m_errorStatus = 0;
    m_state = State::Idle;
    m_previous = 0;
    m_lineLength = 0;
    m_pendingCr = false;
}

HttpParser::Result HttpParser::fail(int status, const QByteArray &message)
{
    m_state = State::Error;
    m_errorStatus = status;
    m_errorMessage = message;
    // What was read is of no use any more.
    m_request = HttpRequest();
    m_line = QByteArray();
    return Result::Error;
}

QByteArray HttpParser::tooLarge() const
{
    return "body too large (limit " + QByteArray::number(m_limits.maxBody) + " bytes)";
}

HttpParser::Result HttpParser::parse(const char *data, qint64 size, qint64 *used)
{
    qint64 pos = 0;
    Result result = Result::NeedMore;
    while (result == Result::NeedMore && (pos < size || m_state == State::Done)) {
        switch (m_state) {
        case State::Idle: {
            // Empty lines before a request are skipped (RFC 9112 §2.2): some
            // clients send a CRLF after a POST body.
            const char c = data[pos];
            if (m_pendingCr) {
                if (c != '\n') {
                    result = fail(400, "bare CR in the request");
                    break;
                }
                m_pendingCr = false;
                ++pos;
            } else if (c == '\r') {
                m_pendingCr = true;
                ++pos;
            } else if (c == '\n') {
                result = fail(400, "bare LF in the request");
            } else {
                m_state = State::Head;
                m_previous = 0;
                m_lineLength = 0;
                m_inMethod = true;
            }
            break;
        }
        case State::Head: {
            qint64 n = 0;
            result = scanHead(data + pos, size - pos, &n);
            pos += n;
            break;
        }
        case State::Body: {
            const qint64 n = qMin(m_remaining, size - pos);
            appendBody(data + pos, n, m_request.m_contentLength);
            pos += n;
            m_remaining -= n;
            if (m_remaining == 0)
                m_state = State::Done;
            break;
        }
        case State::ChunkSize: {
            qint64 n = 0;
            const Line line = readLine(data + pos, size - pos, &n, MaxChunkLine);
            pos += n;
            if (line == Line::Failed)
                result = Result::Error;
            else if (line == Line::Complete)
                result = chunkSizeLine();
            break;
        }
        case State::ChunkData: {
            const qint64 n = qMin(m_remaining, size - pos);
            appendBody(data + pos, n, m_limits.maxBody);
            pos += n;
            m_remaining -= n;
            if (m_remaining == 0) {
                m_state = State::ChunkDataEnd;
                m_previous = 0;
            }
            break;
        }
        case State::ChunkDataEnd: {
            // Exactly CRLF after the data: anything else means the length
            // and the data disagree.
            const char c = data[pos++];
            if (m_previous == 0 && c == '\r') {
                m_previous = '\r';
            } else if (m_previous == '\r' && c == '\n') {
                m_state = State::ChunkSize;
                m_previous = 0;
            } else {
                result = fail(400, "malformed chunked body");
            }
            break;
        }
        case State::Trailer: {
            qint64 n = 0;
            const Line line = readLine(data + pos, size - pos, &n, m_limits.maxHead);
            pos += n;
            m_trailerBytes += n;
            if (line == Line::Failed)
                result = Result::Error;
            else if (m_trailerBytes > m_limits.maxHead)
                result = fail(431, "trailer fields too large");
            else if (line == Line::Complete)
                result = trailerLine();
            break;
        }
        case State::Done:
            if (m_request.m_chunked && m_request.body.capacity() > m_request.body.size() + 4096)
                m_request.body.squeeze();
            result = Result::Done;
            break;
        case State::Error:
            result = Result::Error;
            break;
        }
    }
    *used = pos;
    return result;
}

HttpParser::Result HttpParser::scanHead(const char *data, qint64 size, qint64 *used)
{
    QByteArray &head = m_request.m_head;
    // Never look further than the limit allows: one byte more tells.
    const qint64 room = m_limits.maxHead + 1 - head.size();
    const qint64 n = qMin(size, room);
    qint64 i = 0;
    bool complete = false;
    for (; i < n; ++i) {
        const char c = data[i];
        if (c == '\n') {
            if (m_previous != '\r')
                return fail(400, "bare LF in the request");
            if (m_lineLength == 0) {
                complete = true;
                ++i;
                break;
            }
            m_lineLength = 0;
        } else if (m_previous == '\r') {
            return fail(400, "bare CR in the request");
        } else if (c == '\0') {
            return fail(400, "NUL byte in the request head");
        } else if (c != '\r') {
            ++m_lineLength;
        }
        // What cannot become a method is refused at once rather than when
        // the head ends, which it may never do (TLS sent to a plain port).
        if (m_inMethod) {
            if (c == ' ')
                m_inMethod = false;
            else if (!isTokenChar(c))
                return fail(400, "malformed request line");
        }
        m_previous = c;
    }
    if (head.isEmpty() && complete)
        head = QByteArray(data, i);
    else
        head.append(data, i);
    *used = i;
    if (head.size() > m_limits.maxHead) {
        return fail(431,
            "request head too large (limit " + QByteArray::number(m_limits.maxHead) + " bytes)");
    }
    if (!complete)
        return Result::NeedMore;
    return parseHead();
}

bool HttpParser::parseTarget(qsizetype at, qsizetype size)
{
    HttpRequest &r = m_request;
    const QByteArrayView target(r.m_head.constData() + at, size);
    for (char c : target) {
        if (!isTargetChar(c))
            return false;
    }
    qsizetype pathAt = at;
    qsizetype scheme = 0;
    if (target.front() != '/') {
        // The absolute form (RFC 9112 §3.2.2), which proxies send. Its
        // authority stands for the Host field.
        if (target.startsWith("http://") || target.startsWith("HTTP://"))
            scheme = 7;
        else if (target.startsWith("https://") || target.startsWith("HTTPS://"))
            scheme = 8;
        else if (target == "*" && r.method() == "OPTIONS")
            scheme = -1;
        if (scheme == 0)
            return false;
        if (scheme > 0) {
            qsizetype end = scheme;
            while (end < size && target[end] != '/' && target[end] != '?')
                ++end;
            const QByteArrayView authority = target.sliced(scheme, end - scheme);
            if (authority.isEmpty() || authority.contains('@'))
                return false;
            r.m_absoluteForm = true;
            r.m_authority = {at + scheme, end - scheme};
            pathAt = at + end;
        }
    }
    const qsizetype end = at + size;
    qsizetype question = pathAt;
    while (question < end && r.m_head[question] != '?')
        ++question;
    r.m_path = {pathAt, question - pathAt};
    if (question < end)
        r.m_query = {question + 1, end - question - 1};
    // The origin form the API sees: an absolute form's path and query.
    r.m_target = {pathAt, end - pathAt};
    if (r.m_path.size == 0 && r.m_absoluteForm) {
        // "http://host" and "http://host?q" ask for "/" (RFC 9112 §3.2.2):
        // point the path at the second '/' of "http://".
        r.m_path = {at + scheme - 1, 1};
    }
    return true;
}

HttpParser::Result HttpParser::parseHead()
{
    HttpRequest &r = m_request;
    const QByteArray &head = r.m_head;
    // Without the final empty line.
    const qsizetype headEnd = head.size() - 2;
    qsizetype lineEnd = head.indexOf("\r\n");

    // request-line = method SP request-target SP HTTP-version, single spaces.
    const QByteArrayView requestLine(head.constData(), lineEnd);
    const qsizetype sp1 = requestLine.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || requestLine.indexOf(' ', sp2 + 1) >= 0)
        return fail(400, "malformed request line");
    for (char c : requestLine.first(sp1)) {
        if (!isTokenChar(c))
            return fail(400, "malformed request line");
    }
    r.m_method = {0, sp1};
    const QByteArrayView version = requestLine.sliced(sp2 + 1);
    if (version == "HTTP/1.1") {
        r.m_minor = 1;
    } else if (version == "HTTP/1.0") {
        r.m_minor = 0;
    } else if (version.size() == 8 && version.startsWith("HTTP/") && version[6] == '.'
        && version[5] >= '0' && version[5] <= '9' && version[7] >= '0' && version[7] <= '9') {
        return fail(505, "HTTP version not supported");
    } else {
        return fail(400, "malformed request line");
    }
    if (!parseTarget(sp1 + 1, sp2 - sp1 - 1))
        return fail(400, "malformed request target");

    int hosts = 0;
    bool transferEncoding = false;
    bool chunkedOnly = true; // every coding so far is a single "chunked"
    bool chunkedLast = false;
    int codings = 0;
    bool closeToken = false;
    bool keepAliveToken = false;
    bool expectContinue = false;
    qsizetype pos = lineEnd + 2;
    while (pos < headEnd) {
        lineEnd = head.indexOf("\r\n", pos);
        const QByteArrayView line(head.constData() + pos, lineEnd - pos);
        const qsizetype lineAt = pos;
        pos = lineEnd + 2;
        if (line.front() == ' ' || line.front() == '\t')
            return fail(400, "obsolete line folding in the request head");
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return fail(400, "malformed header field");
        for (char c : line.first(colon)) {
            if (!isTokenChar(c))
                return fail(400, "malformed header field");
        }
        const QByteArrayView rawValue = line.sliced(colon + 1);
        for (char c : rawValue) {
            if (!isFieldValueChar(c))
                return fail(400, "invalid character in a header field");
        }
        const QByteArrayView value = trimmedOws(rawValue);
        if (r.m_fields.size() >= m_limits.maxFields) {
            return fail(431,
                "too many header fields (limit " + QByteArray::number(m_limits.maxFields) + ")");
        }
        const qsizetype valueAt = value.isEmpty() ? lineAt + colon + 1 : value.data() - head.data();
        r.m_fields.append({{lineAt, colon}, {valueAt, value.size()}});

        const QByteArrayView name = line.first(colon);
        if (equalsNoCase(name, "content-length")) {
            if (r.m_contentLength >= 0)
                return fail(400, "more than one Content-Length");
            if (value.isEmpty() || value.size() > 18)
                return fail(400, "invalid Content-Length");
            qint64 length = 0;
            for (char c : value) {
                if (c < '0' || c > '9')
                    return fail(400, "invalid Content-Length");
                length = length * 10 + (c - '0');
            }
            r.m_contentLength = length;
        } else if (equalsNoCase(name, "transfer-encoding")) {
            transferEncoding = true;
            forEachListElement(value, [&](QByteArrayView coding) {
                ++codings;
                chunkedLast = equalsNoCase(coding, "chunked");
                chunkedOnly = chunkedOnly && chunkedLast;
            });
        } else if (equalsNoCase(name, "host")) {
            ++hosts;
        } else if (equalsNoCase(name, "connection")) {
            forEachListElement(value, [&](QByteArrayView token) {
                closeToken = closeToken || equalsNoCase(token, "close");
                keepAliveToken = keepAliveToken || equalsNoCase(token, "keep-alive");
            });
        } else if (equalsNoCase(name, "expect")) {
            expectContinue = equalsNoCase(value, "100-continue");
        }
    }

    if (transferEncoding) {
        // Both lengths would let a proxy and this parser disagree on where
        // the body ends (RFC 9112 §6.1): refused, never guessed.
        if (r.m_contentLength >= 0)
            return fail(400, "both Content-Length and Transfer-Encoding");
        if (r.m_minor == 0)
            return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (!chunkedLast)
            return fail(400, "invalid Transfer-Encoding");
        if (!chunkedOnly || codings != 1)
            return fail(501, "transfer coding not supported");
        r.m_chunked = true;
    }
    if (hosts > 1)
        return fail(400, "more than one Host header");
    if (hosts == 0 && r.m_minor == 1)
        return fail(400, "missing Host header");
    r.m_keepAlive = r.m_minor == 1 ? !closeToken : keepAliveToken && !closeToken;
    if (r.m_contentLength > m_limits.maxBody)
        return fail(413, tooLarge());
    r.m_expectContinue = expectContinue && r.m_minor == 1 && r.hasBody();
    if (r.m_chunked) {
        m_state = State::ChunkSize;
        m_line.clear();
        m_previous = 0;
        return Result::HeadDone;
    }
    if (r.m_contentLength > 0) {
        m_state = State::Body;
        m_remaining = r.m_contentLength;
        return Result::HeadDone;
    }
    m_state = State::Done;
    return Result::Done;
}

HttpParser::Line HttpParser::readLine(const char *data, qint64 size, qint64 *used, qint64 limit)
{
    qint64 i = 0;
    for (; i < size; ++i) {
        const char c = data[i];
        if (c == '\n') {
            if (m_previous != '\r') {
                fail(400, "bare LF in the request");
                return Line::Failed;
            }
            m_line.append(data, i); // the CR, not the LF
            m_line.chop(1);
            *used = i + 1;
            m_previous = 0;
            if (m_line.size() > limit) {
                fail(400, "malformed chunked body");
                return Line::Failed;
            }
            return Line::Complete;
        }
        if (m_previous == '\r') {
            fail(400, "bare CR in the request");
            return Line::Failed;
        }
        if (c == '\0') {
            fail(400, "NUL byte in the request");
            return Line::Failed;
        }
        m_previous = c;
    }
    m_line.append(data, i);
    *used = i;
    if (m_line.size() > limit) {
        fail(400, "malformed chunked body");
        return Line::Failed;
    }
    return Line::NeedMore;
}

HttpParser::Result HttpParser::chunkSizeLine()
{
    // chunk-size [ chunk-ext ] CRLF; extensions are allowed and ignored.
    const QByteArrayView line = m_line;
    qsizetype i = 0;
    qint64 size = 0;
    for (; i < line.size(); ++i) {
        const int digit = hexValue(line[i]);
        if (digit < 0)
            break;
        if (i >= MaxChunkDigits)
            return fail(400, "malformed chunked body");
        size = size * 16 + digit;
        if (size > m_limits.maxBody)
            return fail(413, tooLarge());
    }
    if (i == 0)
        return fail(400, "malformed chunked body");
    if (i < line.size()) {
        const QByteArrayView extension = trimmedOws(line.sliced(i));
        if (extension.isEmpty() || extension.front() != ';')
            return fail(400, "malformed chunked body");
        for (char c : extension) {
            if (!isFieldValueChar(c))
                return fail(400, "malformed chunked body");
        }
    }
    m_line.clear();
    if (m_request.body.size() + size > m_limits.maxBody)
        return fail(413, tooLarge());
    if (size == 0) {
        m_state = State::Trailer;
        m_trailerBytes = 0;
        return Result::NeedMore;
    }
    m_remaining = size;
    m_state = State::ChunkData;
    return Result::NeedMore;
}

HttpParser::Result HttpParser::trailerLine()
{
    // Trailer fields are checked like header fields and then dropped: none
    // of them means anything here.
    const QByteArrayView line = m_line;
    if (line.isEmpty()) {
        m_line = QByteArray();
        m_state = State::Done;
        return Result::NeedMore;
    }
    if (line.front() == ' ' || line.front() == '\t')
        return fail(400, "obsolete line folding in the request head");
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return fail(400, "malformed header field");
    for (char c : line.first(colon)) {
        if (!isTokenChar(c))
            return fail(400, "malformed header field");
    }
    for (char c : line.sliced(colon + 1)) {
        if (!isFieldValueChar(c))
            return fail(400, "invalid character in a header field");
    }
    m_line.clear();
    return Result::NeedMore;
}

void HttpParser::appendBody(const char *data, qint64 size, qint64 cap)
{
    QByteArray &body = m_request.body;
    // Grown at most to the announced length (or the limit): a body never
    // holds more memory than it may be long.
    const qint64 need = body.size() + size;
    if (need > body.capacity())
        body.reserve(qsizetype(qMin(cap, qMax(need, 2 * qint64(body.capacity())))));
    body.append(data, qsizetype(size));
}
