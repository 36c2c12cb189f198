#include "WsHandshake.h"

#include <QCryptographicHash>
#include <QList>

namespace {

bool containsToken(QByteArrayView value, QByteArrayView token)
{
    // Header values such as "keep-alive, Upgrade" hold comma-separated tokens.
    qsizetype start = 0;
    while (start <= value.size()) {
        qsizetype end = value.indexOf(',', start);
        if (end < 0)
            end = value.size();
        if (value.sliced(start, end - start).trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
        start = end + 1;
    }
    return false;
}

} // namespace

WsHandshake::Result WsHandshake::parse(QByteArrayView data, WsHandshake *out)
{
    // A PROXY protocol header (v1 text or v2 binary) where a request should
    // start: the connection did not come from a trusted proxy, or the proxy
    // sends a header the gateway was not told to expect.
    static constexpr char v2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
    if (data.startsWith("PROXY ")
        || (data.size() >= 12 && data.first(12) == QByteArrayView(v2Signature, 12))) {
        out->error = "unexpected PROXY protocol header";
        return Result::BadRequest;
    }
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        // Reject early what cannot become HTTP, so random bytes get an answer
        // without waiting for a blank line that never comes: a request starts
        // with a method of capital letters and a space.
        for (qsizetype i = 0; i < qMin<qsizetype>(data.size(), 9); ++i) {
            const char c = data[i];
            if (c == ' ' && i > 0)
                break;
            if (c < 'A' || c > 'Z' || i == 8) {
                out->error = "not an HTTP request";
                return Result::NotHttp;
            }
        }
        if (data.size() > MaxSize) {
            out->error = "request headers too large";
            return Result::TooLarge;
        }
        return Result::Incomplete;
    }
    if (end + 4 > MaxSize) {
        out->error = "request headers too large";
        return Result::TooLarge;
    }
    out->size = end + 4;
    const QByteArrayView head = data.first(end);
    qsizetype lineEnd = head.indexOf("\r\n");
    const QByteArrayView requestLine = lineEnd < 0 ? head : head.first(lineEnd);
    const QList<QByteArrayView> parts = [&] {
        QList<QByteArrayView> p;
        qsizetype s = 0;
        for (qsizetype i = 0; i <= requestLine.size(); ++i) {
            if (i == requestLine.size() || requestLine[i] == ' ') {
                if (i > s)
                    p.append(requestLine.sliced(s, i - s));
                s = i + 1;
            }
        }
        return p;
    }();
    if (parts.size() != 3 || !parts[2].startsWith("HTTP/")) {
        out->error = "not an HTTP request";
        return Result::NotHttp;
    }
    bool upgrade = false, connectionUpgrade = false;
    QByteArrayView version;
    qsizetype pos = lineEnd < 0 ? head.size() : lineEnd + 2;
    while (pos < head.size()) {
        qsizetype next = head.indexOf("\r\n", pos);
        if (next < 0)
            next = head.size();
        const QByteArrayView line = head.sliced(pos, next - pos);
        pos = next + 2;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArrayView name = line.first(colon).trimmed();
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (name.compare("Upgrade", Qt::CaseInsensitive) == 0)
            upgrade = containsToken(value, "websocket");
        else if (name.compare("Connection", Qt::CaseInsensitive) == 0)
            connectionUpgrade = containsToken(value, "upgrade");
        else if (name.compare("Sec-WebSocket-Key", Qt::CaseInsensitive) == 0)
            out->key = value.toByteArray();
        else if (name.compare("Sec-WebSocket-Version", Qt::CaseInsensitive) == 0)
            version = value;
        else if (name.compare("Origin", Qt::CaseInsensitive) == 0)
            out->origin = value.toByteArray();
        else if (name.compare("X-Forwarded-For", Qt::CaseInsensitive) == 0) {
            if (!out->forwardedFor.isEmpty())
                out->forwardedFor += ',';
            out->forwardedFor += value;
        }
    }
    out->path = parts[1].toByteArray();
    if (!upgrade || !connectionUpgrade) {
        out->error = "not a WebSocket upgrade";
        return Result::NotUpgrade;
    }
    if (parts[0] != "GET") {
        out->error = "method must be GET";
        return Result::BadRequest;
    }
    if (version != "13") {
        out->error = "unsupported WebSocket version";
        return Result::BadVersion;
    }
    // Base64 of 16 bytes: 24 characters. Decoded strictly, because the
    // default decoder skips anything that is not base64 (NULs, spaces, ...).
    const auto key = QByteArray::fromBase64Encoding(
        out->key, QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    if (out->key.size() != 24 || !key || key.decoded.size() != 16) {
        out->error = "invalid Sec-WebSocket-Key";
        return Result::BadRequest;
    }
    return Result::Ok;
}

QByteArray WsHandshake::acceptKey(QByteArrayView key)
{
    QCryptographicHash sha1(QCryptographicHash::Sha1);
    sha1.addData(key);
    sha1.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return sha1.result().toBase64();
}

QByteArray WsHandshake::response() const
{
    return "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: "
        + acceptKey(key) + "\r\n\r\n";
}

QByteArray WsHandshake::tooManyRequests(QByteArrayView reason)
{
    const QByteArray body = "This is a WebSocket endpoint of pushconsole: " + reason.toByteArray()
        + ".\nTry again later.\n";
    return "HTTP/1.1 429 Too Many Requests\r\n"
           "Retry-After: 10\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Connection: close\r\n"
           "Content-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray WsHandshake::refusal(Result result, QByteArrayView reason)
{
    QByteArray status = "400 Bad Request";
    QByteArray extra;
    if (result == Result::NotUpgrade)
        status = "426 Upgrade Required";
    if (result == Result::BadVersion || result == Result::NotUpgrade)
        extra = "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n";
    if (result == Result::TooLarge)
        status = "431 Request Header Fields Too Large";
    const QByteArray body = "This is a WebSocket endpoint of pushconsole: " + reason.toByteArray()
        + ".\nConnect with a WebSocket client and send your uid as the first message.\n";
    return "HTTP/1.1 " + status + "\r\n" + extra
        + "Content-Type: text/plain; charset=utf-8\r\n"
          "Connection: close\r\n"
          "Content-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}
