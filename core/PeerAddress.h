#pragma once

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

    bool isIPv4() const { return m_family == 4; }
    quint16 port() const { return m_port; }
    QString host() const;
    QString toString() const; // "1.2.3.4:5" or "[::1]:5"

private:
    std::array<quint8, 16> m_bytes {};
    quint16 m_port = 0;
    quint8 m_family = 0; // 0 unknown, 4, 6
};
