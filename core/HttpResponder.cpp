#include "HttpResponder.h"

#include "HttpConnection.h"

HttpResponder::HttpResponder(HttpConnection *connection, quint64 request)
    : m_connection(connection)
    , m_request(request)
{ }

void HttpResponder::send(const HttpResponse &response) const
{
    if (m_connection)
        m_connection->respond(m_request, response);
}
