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

bool HttpResponder::takeOver(const std::function<void(int fd)> &adopt) const
{
    return m_alive && m_target->takeOver(m_request, adopt);
}
