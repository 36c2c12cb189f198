#pragma once

#include "HttpResponse.h"

#include <QPointer>

class HttpConnection;

// The one answer a request is owed. A copyable handle: keep it to answer
// later (a push waiting for Redis). Answers leave in request order whatever
// order they are given in; once the connection is gone, send() does nothing.
class HttpResponder final
{
public:
    HttpResponder() = default;

    // Only the first call for a request counts.
    void send(const HttpResponse &response) const;
    bool isConnected() const { return !m_connection.isNull(); }

private:
    friend class HttpConnection;
    HttpResponder(HttpConnection *connection, quint64 request);

    QPointer<HttpConnection> m_connection;
    quint64 m_request = 0;
};
