#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVarLengthArray>

#include <utility>

// One answer of the HTTP API, before it is put on the wire.
struct HttpResponse
{
    int status = 200;
    // Written in this order; Content-Length is one of them (see make()).
    QVarLengthArray<std::pair<QByteArray, QByteArray>, 6> headers;
    QByteArray body;

    // Content-Type, Content-Length and (noStore) Cache-Control: no-store.
    static HttpResponse make(
        int status, const QByteArray &contentType, const QByteArray &body, bool noStore = true);
    void addHeader(const QByteArray &name, const QByteArray &value)
    {
        headers.append({name, value});
    }

    // The bytes on the wire: HTTP/1.1 status line, the headers, then
    // "Connection: close" when close is set, and the body unless withBody is
    // false (an answer to HEAD has none, whatever its Content-Length says).
    QByteArray serialize(bool withBody, bool close) const;

    static QByteArrayView reasonPhrase(int status);
};
