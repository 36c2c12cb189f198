#include "PeerAddress.h"

#include <QHostAddress>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

PeerAddress PeerAddress::fromSockaddr(const sockaddr *addr)
{
    PeerAddress p;
    if (addr->sa_family == AF_INET) {
        const auto *in = reinterpret_cast<const sockaddr_in *>(addr);
        std::memcpy(p.m_bytes.data(), &in->sin_addr, 4);
        p.m_port = ntohs(in->sin_port);
        p.m_family = 4;
    } else if (addr->sa_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(addr);
        // Dual-stack listeners see IPv4 peers as ::ffff:a.b.c.d; show them as IPv4.
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            std::memcpy(p.m_bytes.data(), in6->sin6_addr.s6_addr + 12, 4);
            p.m_family = 4;
        } else {
            std::memcpy(p.m_bytes.data(), &in6->sin6_addr, 16);
            p.m_family = 6;
        }
        p.m_port = ntohs(in6->sin6_port);
    }
    return p;
}

QString PeerAddress::host() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (m_family == 4)
        inet_ntop(AF_INET, m_bytes.data(), buf, sizeof buf);
    else if (m_family == 6)
        inet_ntop(AF_INET6, m_bytes.data(), buf, sizeof buf);
    else
        return QStringLiteral("?");
    return QString::fromLatin1(buf);
}

QString PeerAddress::toString() const
{
    if (m_family == 6)
        return QLatin1Char('[') + host() + QLatin1String("]:") + QString::number(m_port);
    return host() + QLatin1Char(':') + QString::number(m_port);
}

bool PeerAddress::isLoopback() const
{
    if (m_family == 4)
        return m_bytes[0] == 127;
    if (m_family == 6) {
        for (int i = 0; i < 15; ++i) {
            if (m_bytes[size_t(i)] != 0)
                return false;
        }
        return m_bytes[15] == 1;
    }
    return false;
}

QHostAddress PeerAddress::hostAddress() const
{
    if (m_family == 4)
        return QHostAddress(quint32(m_bytes[0]) << 24 | quint32(m_bytes[1]) << 16
            | quint32(m_bytes[2]) << 8 | m_bytes[3]);
    if (m_family == 6)
        return QHostAddress(m_bytes.data());
    return {};
}
