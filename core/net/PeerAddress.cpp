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

PeerAddress PeerAddress::fromIPv4(const quint8 *bytes, quint16 port)
{
    PeerAddress p;
    std::memcpy(p.m_bytes.data(), bytes, 4);
    p.m_port = port;
    p.m_family = 4;
    return p;
}

PeerAddress PeerAddress::fromIPv6(const quint8 *bytes, quint16 port)
{
    static const quint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, mapped, sizeof mapped) == 0)
        return fromIPv4(bytes + 12, port);
    PeerAddress p;
    std::memcpy(p.m_bytes.data(), bytes, 16);
    p.m_port = port;
    p.m_family = 6;
    return p;
}

PeerAddress PeerAddress::fromText(QByteArrayView text, quint16 port)
{
    // inet_pton wants a C string; the longest IPv6 text is 45 characters.
    char buffer[INET6_ADDRSTRLEN + 1] = {};
    if (text.isEmpty() || text.size() >= qsizetype(sizeof buffer))
        return {};
    for (char c : text) {
        // inet_pton is strict already; this keeps NULs and scope ids out.
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.'
                || c == ':'))
            return {};
    }
    std::memcpy(buffer, text.data(), size_t(text.size()));
    quint8 bytes[16];
    // glibc's inet_pton takes exactly four decimal parts and no leading zeros.
    if (inet_pton(AF_INET, buffer, bytes) == 1)
        return fromIPv4(bytes, port);
    if (inet_pton(AF_INET6, buffer, bytes) == 1)
        return fromIPv6(bytes, port);
    return {};
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
    const QString address = m_family == 6 ? QLatin1Char('[') + host() + QLatin1Char(']') : host();
    if (m_port == 0)
        return address;
    return address + QLatin1Char(':') + QString::number(m_port);
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

bool PeerAddress::isInSubnet(const QPair<QHostAddress, int> &subnet) const
{
    return m_family != 0 && hostAddress().isInSubnet(subnet);
}

bool PeerAddress::isInAnySubnet(const QList<QPair<QHostAddress, int>> &subnets) const
{
    if (m_family == 0 || subnets.isEmpty())
        return false;
    const QHostAddress address = hostAddress();
    for (const auto &subnet : subnets) {
        if (address.isInSubnet(subnet))
            return true;
    }
    return false;
}
