#include "HttpResponder.h"

#include "TlsStream.h"

#include <unistd.h>

#include <utility>

TakenSocket::TakenSocket() = default;

TakenSocket::TakenSocket(TakenSocket &&other) noexcept
    : fd(std::exchange(other.fd, -1))
    , tls(std::move(other.tls))
{ }

TakenSocket &TakenSocket::operator=(TakenSocket &&other) noexcept
{
    if (this != &other) {
        if (fd >= 0)
            ::close(fd);
        fd = std::exchange(other.fd, -1);
        tls = std::move(other.tls);
    }
    return *this;
}

TakenSocket::~TakenSocket()
{
    // Not adopted: closed, not leaked.
    if (fd >= 0)
        ::close(fd);
}

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

bool HttpResponder::takeOver(const std::function<void(TakenSocket &)> &adopt) const
{
    return m_alive && m_target->takeOver(m_request, adopt);
}
