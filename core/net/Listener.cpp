#include "Listener.h"

#include <QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

bool toSockaddr(
    const QHostAddress &address, quint16 port, sockaddr_storage *storage, socklen_t *length)
{
    std::memset(storage, 0, sizeof *storage);
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *in = reinterpret_cast<sockaddr_in *>(storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(address.toIPv4Address());
        *length = sizeof *in;
        return true;
    }
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR a = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, a.c, 16);
        *length = sizeof *in6;
        return true;
    }
    return false;
}

} // namespace

Listener::Listener(AcceptHandler handler, QObject *parent)
    : QObject(parent)
    , m_handler(std::move(handler))
{ }

Listener::~Listener()
{
    close();
}

bool Listener::listen(const QHostAddress &address, quint16 port, QString *error)
{
    close();
    sockaddr_storage storage;
    socklen_t length = 0;
    if (!toSockaddr(address, port, &storage, &length)) {
        *error = tr("invalid address %1").arg(address.toString());
        return false;
    }
    const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (storage.ss_family == AF_INET6) {
        // "::" should take IPv4 clients too, whatever the system default is.
        const int zero = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (::bind(fd, reinterpret_cast<sockaddr *>(&storage), length) < 0
        || ::listen(fd, SOMAXCONN) < 0) {
        // The kernel clamps SOMAXCONN to net.core.somaxconn (4096 here), well above
        // QTcpServer's default of 30 pending connections.
        *error = QString::fromLocal8Bit(std::strerror(errno));
        ::close(fd);
        return false;
    }
    length = sizeof storage;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&storage), &length);
    m_port = storage.ss_family == AF_INET6
        ? ntohs(reinterpret_cast<sockaddr_in6 *>(&storage)->sin6_port)
        : ntohs(reinterpret_cast<sockaddr_in *>(&storage)->sin_port);
    m_address = address;
    m_fd = fd;
    m_spareFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    m_notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Listener::acceptReady);
    return true;
}

void Listener::close()
{
    if (m_fd < 0)
        return;
    delete m_notifier;
    m_notifier = nullptr;
    ::close(m_fd);
    m_fd = -1;
    if (m_spareFd >= 0)
        ::close(m_spareFd);
    m_spareFd = -1;
}

QString Listener::addressString() const
{
    if (m_address.protocol() == QAbstractSocket::IPv6Protocol)
        return QLatin1Char('[') + m_address.toString() + QLatin1String("]:")
            + QString::number(m_port);
    return m_address.toString() + QLatin1Char(':') + QString::number(m_port);
}

void Listener::acceptReady()
{
    // Bounded so that a connection storm cannot starve established clients.
    for (int i = 0; i < 256 && m_fd >= 0; ++i) {
        sockaddr_storage peer;
        socklen_t length = sizeof peer;
        const int fd = ::accept4(
            m_fd, reinterpret_cast<sockaddr *>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && m_spareFd >= 0) {
                // Level-triggered: a connection left in the backlog would wake us
                // forever. Free a descriptor, take the connection and drop it.
                ::close(m_spareFd);
                const int victim = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (victim >= 0)
                    ::close(victim);
                m_spareFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (m_overload)
                    m_overload();
                continue;
            }
            return; // EAGAIN, or nothing we can do now
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        m_handler(fd, PeerAddress::fromSockaddr(reinterpret_cast<sockaddr *>(&peer)));
    }
}
