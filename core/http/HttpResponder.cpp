#include "HttpResponder.h"

HttpResponder::HttpResponder(QObject *alive, Target *target, quint64 request)
    : m_alive(alive)
    , m_target(target)
    , m_request(request)
{ }

void HttpResponder::send(const HttpResponse &response) const
{
    if (m_alive)
        m_target->respond(m_request, response);
}
