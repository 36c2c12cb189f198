#pragma once

#include <QByteArray>
#include <QByteArrayView>

// The HTTP/1.1 Upgrade request that opens a WebSocket (RFC 6455 §4.2).
struct WsHandshake
{
    enum class Result {
        Ok,
        Incomplete, // no blank line yet
        TooLarge, // headers over MaxSize
        NotHttp, // not an HTTP request at all
        NotUpgrade, // plain HTTP: no "Upgrade: websocket"
        BadVersion, // Sec-WebSocket-Version is not 13
        BadRequest, // missing or malformed Sec-WebSocket-Key, not GET, ...
    };
    static constexpr int MaxSize = 8192;

    QByteArray path;
    QByteArray key;
    QByteArray origin;
    // Every X-Forwarded-For line, joined with commas in order (RFC 9110
    // §5.3); only believed from a trusted proxy (see ForwardedFor).
    QByteArray forwardedFor;
    qsizetype size = 0; // bytes the request took, its blank line included
    const char *error = "";

    static Result parse(QByteArrayView data, WsHandshake *out);
    static QByteArray acceptKey(QByteArrayView key);
    QByteArray response() const;
    // A complete HTTP response that refuses the request and closes.
    static QByteArray refusal(Result result, QByteArrayView reason);
    // 429: the client behind a trusted proxy is over --max-conns-per-ip.
    static QByteArray tooManyRequests(QByteArrayView reason);
};
