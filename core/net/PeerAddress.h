#pragma once

#include <QByteArrayView>
#include <QHashFunctions>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

#include <array>

struct sockaddr;

// A peer's address in 20 bytes instead of a QHostAddress (a heap-allocated
// private per connection): tens of thousands of these are kept.
class PeerAddress final
{
public:
    PeerAddress() = default;
    static PeerAddress fromSockaddr(const sockaddr *addr);
    // From network-order bytes, as a PROXY protocol v2 header carries them.
    // An IPv4-mapped IPv6 address becomes IPv4, as fromSockaddr does.
    static PeerAddress fromIPv4(const quint8 *bytes, quint16 port);
    static PeerAddress fromIPv6(const quint8 *bytes, quint16 port);
    // Strict text: a dotted quad without leading zeros, or an IPv6 address
    // (inet_pton's grammar). Returns an invalid address otherwise.
    static PeerAddress fromText(QByteArrayView text, quint16 port = 0);

    bool isValid() const { return m_family != 0; }

    bool isIPv4() const { return m_family == 4; }
    quint16 port() const { return m_port; }
    QString host() const;
    // "1.2.3.4:5" or "[::1]:5"; without ":0" when the port is unknown (an
    // address from X-Forwarded-For), so "1.2.3.4" or "[::1]".
    QString toString() const;
    bool isLoopback() const;
    QHostAddress hostAddress() const;
    bool isInSubnet(const QPair<QHostAddress, int> &subnet) const;
    bool isInAnySubnet(const QList<QPair<QHostAddress, int>> &subnets) const;

    // The host part alone, for counting connections per address.
    struct Host
    {
        std::array<quint8, 16> bytes {};
        quint8 family = 0;
        bool operator==(const Host &o) const { return family == o.family && bytes == o.bytes; }
    };
    Host hostKey() const { return {m_bytes, m_family}; }

private:
    std::array<quint8, 16> m_bytes {};
    quint16 m_port = 0;
    quint8 m_family = 0; // 0 unknown, 4, 6
};

inline size_t qHash(const PeerAddress::Host &h, size_t seed = 0)
{
    return qHashBits(h.bytes.data(), h.family == 4 ? 4 : 16, seed ^ h.family);
}
