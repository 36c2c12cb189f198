#include "HttpResponse.h"

HttpResponse HttpResponse::make(
    int status, const QByteArray &contentType, const QByteArray &body, bool noStore)
{
    HttpResponse r;
    r.status = status;
    r.body = body;
    r.headers.append({QByteArrayLiteral("Content-Type"), contentType});
    r.headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(body.size())});
    if (noStore)
        r.headers.append({QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")});
    return r;
}

QByteArray HttpResponse::serialize(bool withBody, bool close) const
{
    const QByteArrayView reason = reasonPhrase(status);
    qsizetype size = 16 + reason.size() + 2 + (close ? 19 : 0) + 2 + (withBody ? body.size() : 0);
    for (const auto &h : headers)
        size += h.first.size() + 2 + h.second.size() + 2;
    QByteArray out;
    out.reserve(size);
    out.append("HTTP/1.1 ");
    out.append(QByteArray::number(status));
    out.append(' ');
    out.append(reason);
    out.append("\r\n");
    for (const auto &h : headers) {
        out.append(h.first);
        out.append(": ");
        out.append(h.second);
        out.append("\r\n");
    }
    if (close)
        out.append("Connection: close\r\n");
    out.append("\r\n");
    if (withBody)
        out.append(body);
    return out;
}

QByteArrayView HttpResponse::reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        break;
    }
    return "Unknown";
}
