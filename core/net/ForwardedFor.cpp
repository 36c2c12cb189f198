#include "ForwardedFor.h"

namespace {

bool parsePort(QByteArrayView text, quint16 *port)
{
    if (text.isEmpty() || text.size() > 5)
        return false;
    quint32 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + quint32(c - '0');
    }
    if (value > 65535)
        return false;
    *port = quint16(value);
    return true;
}

PeerAddress parseElement(QByteArrayView text)
{
    quint16 port = 0;
    if (text.startsWith('[')) {
        const qsizetype close = text.indexOf(']');
        if (close < 0)
            return {};
        const QByteArrayView rest = text.sliced(close + 1);
        if (!rest.isEmpty() && (!rest.startsWith(':') || !parsePort(rest.sliced(1), &port)))
            return {};
        const QByteArrayView host = text.sliced(1, close - 1);
        if (!host.contains(':')) // brackets are for IPv6 only
            return {};
        return PeerAddress::fromText(host, port);
    }
    const qsizetype colon = text.indexOf(':');
    if (colon >= 0 && text.indexOf(':', colon + 1) < 0) {
        // One colon: IPv4 with a port (IPv6 has at least two).
        if (!parsePort(text.sliced(colon + 1), &port))
            return {};
        const PeerAddress address = PeerAddress::fromText(text.first(colon), port);
        return address.isIPv4() ? address : PeerAddress();
    }
    return PeerAddress::fromText(text, 0);
}

QByteArrayView trimmed(QByteArrayView text)
{
    qsizetype begin = 0, end = text.size();
    while (begin < end && (text[begin] == ' ' || text[begin] == '\t'))
        ++begin;
    while (end > begin && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        --end;
    return text.sliced(begin, end - begin);
}

} // namespace

bool ForwardedFor::resolve(
    QByteArrayView header, const Subnets &trusted, PeerAddress *client, const char **error)
{
    qsizetype end = header.size();
    PeerAddress last;
    while (end >= 0) {
        const qsizetype comma = end == 0 ? -1 : header.lastIndexOf(',', end - 1);
        const QByteArrayView element = trimmed(header.sliced(comma + 1, end - comma - 1));
        const PeerAddress address = parseElement(element);
        if (!address.isValid()) {
            *error = element.isEmpty() ? "empty element in X-Forwarded-For"
                                       : "malformed address in X-Forwarded-For";
            return false;
        }
        if (!address.isInAnySubnet(trusted)) {
            *client = address;
            return true;
        }
        last = address;
        if (comma < 0)
            break;
        end = comma;
    }
    *client = last;
    return true;
}
