#include "GatewayProcess.h"
#include "RawWsClient.h"
#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "EventLog.h"
#include "ForwardedFor.h"
#include "ProxyHeader.h"
#include "SessionRegistry.h"
#include "WsGateway.h"

#include <QSignalSpy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QtEndian>

using namespace TestSupport;

// Client addresses behind reverse proxies: X-Forwarded-For and the PROXY
// protocol from --trusted-proxies, and what per-address limits, the log and
// the APIs see.
class tst_Proxy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void peerAddressText_data();
    void peerAddressText();
    void proxyHeaderV1_data();
    void proxyHeaderV1();
    void proxyHeaderV2_data();
    void proxyHeaderV2();
    void proxyHeaderPrefixesAreIncomplete();
    void forwardedFor_data();
    void forwardedFor();

    void forwardedForNamesTheClientForLimits();
    void forwardedForFromUntrustedIsIgnored();
    void malformedForwardedForCountsTheProxy();
    void proxyV1GivesTheClient();
    void proxyV2InPiecesGivesTheClient();
    void proxyHeaderClientOverLimitIsReset();
    void trustedSourceWithoutHeaderIsRefused();
    void proxyHeaderFromUntrustedIsRefused();
    void proxyHeaderDeadline();
    void proxyChainUsesForwardedFor();
    void proxyProtocolBeforeTls();
    void headlessLogAndApiShowTheClient();
};

namespace {

const QByteArray V2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

QByteArray v2Header(quint8 versionCommand, quint8 familyTransport, const QByteArray &body)
{
    QByteArray h = V2Signature;
    h.append(char(versionCommand));
    h.append(char(familyTransport));
    h.append(char(body.size() >> 8));
    h.append(char(body.size() & 0xff));
    return h + body;
}

QByteArray be16(quint16 v)
{
    return QByteArray(1, char(v >> 8)) + char(v & 0xff);
}

QByteArray ipv4(quint8 a, quint8 b, quint8 c, quint8 d)
{
    return QByteArray(1, char(a)) + char(b) + char(c) + char(d);
}

QByteArray ipv6Doc(quint8 last)
{
    // 2001:db8::last
    QByteArray a(16, '\0');
    a[0] = char(0x20);
    a[1] = char(0x01);
    a[2] = char(0x0d);
    a[3] = char(0xb8);
    a[15] = char(last);
    return a;
}

QByteArray upgradeRequest(const QByteArray &forwardedFor = {})
{
    QByteArray r = "GET /push HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n";
    if (!forwardedFor.isNull())
        r += "X-Forwarded-For: " + forwardedFor + "\r\n";
    return r + "\r\n";
}

// A client from a chosen loopback address (127.0.0.1 is the proxy in these
// tests, 127.0.0.x the others), writing whatever it is told.
class Client final
{
public:
    Client(quint16 port, const QString &source = QStringLiteral("127.0.0.1"))
    {
        m_socket.bind(QHostAddress(source), 0);
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        waitFor([this] { return m_socket.state() == QAbstractSocket::ConnectedState; });
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket,
            [this] { m_received += m_socket.readAll(); });
        QObject::connect(
            &m_socket, &QTcpSocket::disconnected, &m_socket, [this] { m_gone = true; });
        QObject::connect(
            &m_socket, &QTcpSocket::errorOccurred, &m_socket, [this] { m_gone = true; });
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    // Waits for the end of the HTTP response head.
    QByteArray response()
    {
        waitFor([this] { return m_received.contains("\r\n\r\n") || m_gone; });
        return m_received;
    }
    bool upgraded() { return response().startsWith("HTTP/1.1 101 "); }
    void bind(const QByteArray &uid) { send(RawWsClient::frame(0x1, uid)); }
    bool waitGone(int timeoutMs = 5000)
    {
        return waitFor([this] { return m_gone; }, timeoutMs);
    }
    quint16 localPort() const { return m_socket.localPort(); }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
    bool m_gone = false;
};

QString peerOf(PushServer *server, const QByteArray &uid)
{
    const QList<SessionInfo> sessions = server->registry()->sessions(uid);
    return sessions.size() == 1 ? sessions.front().peer : QString();
}

QList<Event> eventsOf(const QSignalSpy &spy, Event::Type type)
{
    QList<Event> out;
    for (const auto &args : spy) {
        const Event e = args.front().value<Event>();
        if (e.type == type)
            out << e;
    }
    return out;
}

Config proxyConfig(bool proxyProtocol)
{
    Config config = loopbackConfig();
    config.trustedProxies = {QHostAddress::parseSubnet(QStringLiteral("127.0.0.1/32"))};
    config.proxyProtocol = proxyProtocol;
    config.perIpExempt.clear();
    return config;
}

} // namespace

void tst_Proxy::peerAddressText_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("shown"); // empty: refused

    QTest::newRow("IPv4") << QByteArray("203.0.113.7") << QStringLiteral("203.0.113.7");
    QTest::newRow("IPv6") << QByteArray("2001:DB8::7") << QStringLiteral("[2001:db8::7]");
    QTest::newRow("IPv4-mapped") << QByteArray("::ffff:10.1.2.3") << QStringLiteral("10.1.2.3");
    QTest::newRow("leading zero") << QByteArray("010.0.0.1") << QString();
    QTest::newRow("three parts") << QByteArray("10.0.1") << QString();
    QTest::newRow("octet 256") << QByteArray("10.0.0.256") << QString();
    QTest::newRow("host name") << QByteArray("localhost") << QString();
    QTest::newRow("scope id") << QByteArray("fe80::1%eth0") << QString();
    QTest::newRow("spaces") << QByteArray(" 10.0.0.1") << QString();
    QTest::newRow("NUL") << QByteArray("10.0.0.1\0", 9) << QString();
    QTest::newRow("empty") << QByteArray() << QString();
}

void tst_Proxy::peerAddressText()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, shown);
    const PeerAddress a = PeerAddress::fromText(text);
    QCOMPARE(a.isValid(), !shown.isEmpty());
    if (a.isValid()) {
        QCOMPARE(a.toString(), shown); // no ":0" for an unknown port
        QCOMPARE(PeerAddress::fromText(text, 80).port(), quint16(80));
    }
}

void tst_Proxy::proxyHeaderV1_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("result"); // ProxyHeader::Result
    QTest::addColumn<QString>("source"); // toString(), empty: no address
    QTest::addColumn<int>("size");

    const int ok = int(ProxyHeader::Result::Ok);
    const int incomplete = int(ProxyHeader::Result::Incomplete);
    const int invalid = int(ProxyHeader::Result::Invalid);
    const QByteArray tcp4 = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n";
    QTest::newRow("TCP4") << tcp4 << ok << QStringLiteral("203.0.113.7:5555") << int(tcp4.size());
    QTest::newRow("TCP4, request after it")
        << tcp4 + "GET / HTTP/1.1\r\n"
        << ok << QStringLiteral("203.0.113.7:5555") << int(tcp4.size());
    const QByteArray tcp6 = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 8013\r\n";
    QTest::newRow("TCP6") << tcp6 << ok << QStringLiteral("[2001:db8::7]:65535")
                          << int(tcp6.size());
    const auto whole = [&](const char *name, const QByteArray &header, const QString &source) {
        QTest::newRow(name) << header << ok << source << int(header.size());
    };
    whole("TCP6, IPv4-mapped", "PROXY TCP6 ::ffff:10.0.0.9 ::1 1 2\r\n",
        QStringLiteral("10.0.0.9:1"));
    whole("port 0", "PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n", QStringLiteral("1.2.3.4"));
    whole("UNKNOWN", "PROXY UNKNOWN\r\n", QString());
    whole("UNKNOWN with addresses", "PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\n", QString());
    // The longest the specification allows: 107 bytes.
    const QByteArray longest = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "65535 65535\r\n";
    QCOMPARE(longest.size(), 104);
    QTest::newRow("longest TCP6") << longest << ok
                                  << QStringLiteral(
                                         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")
                                  << 104;
    QTest::newRow("UNKNOWN of 107 bytes")
        << QByteArray("PROXY UNKNOWN " + QByteArray(91, 'x') + "\r\n") << ok << QString() << 107;

    QTest::newRow("empty") << QByteArray() << incomplete << QString() << 0;
    QTest::newRow("P") << QByteArray("P") << incomplete << QString() << 0;
    QTest::newRow("PROXY") << QByteArray("PROXY") << incomplete << QString() << 0;
    QTest::newRow("no CR yet") << tcp4.left(30) << incomplete << QString() << 0;
    QTest::newRow("CR without LF yet") << tcp4.chopped(1) << incomplete << QString() << 0;

    QTest::newRow("HTTP request") << upgradeRequest() << invalid << QString() << 0;
    QTest::newRow("lower case") << QByteArray("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n") << invalid
                                << QString() << 0;
    QTest::newRow("UNKNOWN of 108 bytes")
        << QByteArray("PROXY UNKNOWN " + QByteArray(92, 'x') + "\r\n") << invalid << QString() << 0;
    QTest::newRow("no CR in 107 bytes")
        << QByteArray("PROXY UNKNOWN " + QByteArray(93, 'x')) << invalid << QString() << 0;
    QTest::newRow("LF alone") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n") << invalid
                              << QString() << 0;
    QTest::newRow("CR then not LF")
        << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX") << invalid << QString() << 0;
    QTest::newRow("TCP5") << QByteArray("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n") << invalid
                          << QString() << 0;
    QTest::newRow("UDP4") << QByteArray("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n") << invalid
                          << QString() << 0;
    QTest::newRow("two spaces") << QByteArray("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n") << invalid
                                << QString() << 0;
    QTest::newRow("tab") << QByteArray("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n") << invalid
                         << QString() << 0;
    QTest::newRow("trailing space")
        << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n") << invalid << QString() << 0;
    QTest::newRow("four fields") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n") << invalid
                                 << QString() << 0;
    QTest::newRow("six fields") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n") << invalid
                                << QString() << 0;
    QTest::newRow("port 65536") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n") << invalid
                                << QString() << 0;
    QTest::newRow("port with leading zero")
        << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n") << invalid << QString() << 0;
    QTest::newRow("negative port")
        << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n") << invalid << QString() << 0;
    QTest::newRow("IPv6 under TCP4")
        << QByteArray("PROXY TCP4 ::1 ::1 1 2\r\n") << invalid << QString() << 0;
    QTest::newRow("IPv4 under TCP6")
        << QByteArray("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n") << invalid << QString() << 0;
    QTest::newRow("octal-looking address")
        << QByteArray("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n") << invalid << QString() << 0;
    QTest::newRow("host name") << QByteArray("PROXY TCP4 localhost 5.6.7.8 1 2\r\n") << invalid
                               << QString() << 0;
    QTest::newRow("NUL") << QByteArray("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 34) << invalid
                         << QString() << 0;
    QTest::newRow("binary") << QByteArray("PROXY \x80\xff") << invalid << QString() << 0;
}

void tst_Proxy::proxyHeaderV1()
{
    QFETCH(QByteArray, data);
    QFETCH(int, result);
    QFETCH(QString, source);
    QFETCH(int, size);
    ProxyHeader h;
    QCOMPARE(int(ProxyHeader::parse(data, &h)), result);
    if (result == int(ProxyHeader::Result::Invalid))
        QVERIFY(qstrlen(h.error) > 0);
    if (result != int(ProxyHeader::Result::Ok))
        return;
    QCOMPARE(h.version, 1);
    QCOMPARE(int(h.size), size);
    QCOMPARE(h.hasAddress, !source.isEmpty());
    if (h.hasAddress)
        QCOMPARE(h.source.toString(), source);
}

void tst_Proxy::proxyHeaderV2_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("result");
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("size");

    const int ok = int(ProxyHeader::Result::Ok);
    const int incomplete = int(ProxyHeader::Result::Incomplete);
    const int invalid = int(ProxyHeader::Result::Invalid);
    const QByteArray inet = ipv4(203, 0, 113, 7) + ipv4(192, 0, 2, 1) + be16(5555) + be16(443);
    const QByteArray inet6 = ipv6Doc(7) + ipv6Doc(1) + be16(4433) + be16(8013);
    const QByteArray tlvs = QByteArray(1, '\x01') + be16(2) + "h2" // ALPN
        + QByteArray(1, '\x02') + be16(11) + "example.com" // authority
        + QByteArray(1, '\x04') + be16(0); // NOOP

    QTest::newRow("INET") << v2Header(0x21, 0x11, inet) << ok << QStringLiteral("203.0.113.7:5555")
                          << 28;
    QTest::newRow("INET6") << v2Header(0x21, 0x21, inet6) << ok
                           << QStringLiteral("[2001:db8::7]:4433") << 52;
    QTest::newRow("INET with TLVs") << v2Header(0x21, 0x11, inet + tlvs) << ok
                                    << QStringLiteral("203.0.113.7:5555") << int(28 + tlvs.size());
    QTest::newRow("INET, bytes after it")
        << v2Header(0x21, 0x11, inet) + "GET /" << ok << QStringLiteral("203.0.113.7:5555") << 28;
    QTest::newRow("LOCAL") << v2Header(0x20, 0x00, {}) << ok << QString() << 16;
    QTest::newRow("LOCAL with an address block skipped")
        << v2Header(0x20, 0x11, inet) << ok << QString() << 28;
    QTest::newRow("PROXY UNSPEC") << v2Header(0x21, 0x00, {}) << ok << QString() << 16;
    QTest::newRow("UNIX") << v2Header(0x21, 0x31, QByteArray(216, 'u')) << ok << QString() << 232;
    QTest::newRow("largest") << v2Header(0x21, 0x11,
        inet + QByteArray(1, '\x04') + be16(ProxyHeader::MaxSize - 16 - 12 - 3)
            + QByteArray(ProxyHeader::MaxSize - 16 - 12 - 3, 'n'))
                             << ok << QStringLiteral("203.0.113.7:5555")
                             << int(ProxyHeader::MaxSize);

    QTest::newRow("signature start") << V2Signature.left(5) << incomplete << QString() << 0;
    QTest::newRow("fixed part short")
        << v2Header(0x21, 0x11, inet).left(15) << incomplete << QString() << 0;
    QTest::newRow("addresses short")
        << v2Header(0x21, 0x11, inet).left(27) << incomplete << QString() << 0;

    QTest::newRow("signature wrong")
        << QByteArray("\r\n\r\n\0\r\nQUIT\r", 12) + QByteArray(20, 0) << invalid << QString() << 0;
    QTest::newRow("version 1 binary") << v2Header(0x11, 0x11, inet) << invalid << QString() << 0;
    QTest::newRow("version 3") << v2Header(0x31, 0x11, inet) << invalid << QString() << 0;
    QTest::newRow("command 2") << v2Header(0x22, 0x11, inet) << invalid << QString() << 0;
    QTest::newRow("family 4") << v2Header(0x21, 0x41, inet) << invalid << QString() << 0;
    QTest::newRow("transport 3") << v2Header(0x21, 0x13, inet) << invalid << QString() << 0;
    QTest::newRow("UDP") << v2Header(0x21, 0x12, inet) << invalid << QString() << 0;
    QTest::newRow("INET without transport")
        << v2Header(0x21, 0x10, inet) << invalid << QString() << 0;
    QTest::newRow("INET block too short")
        << v2Header(0x21, 0x11, inet.left(11)) << invalid << QString() << 0;
    QTest::newRow("INET6 block too short")
        << v2Header(0x21, 0x21, inet) << invalid << QString() << 0;
    QTest::newRow("TLV truncated")
        << v2Header(0x21, 0x11, inet + tlvs.chopped(1) + QByteArray(1, '\x04') + be16(0)) << invalid
        << QString() << 0;
    QTest::newRow("TLV header cut")
        << v2Header(0x21, 0x11, inet + QByteArray("\x04\x00", 2)) << invalid << QString() << 0;
    QTest::newRow("TLV longer than the header")
        << v2Header(0x21, 0x11, inet + QByteArray(1, '\x04') + be16(100) + "x") << invalid
        << QString() << 0;
    // Refused from the fixed part alone: nothing to wait for.
    QTest::newRow("over 4096 bytes")
        << v2Header(0x21, 0x11, QByteArray()).left(14) + be16(ProxyHeader::MaxSize - 15) << invalid
        << QString() << 0;
}

void tst_Proxy::proxyHeaderV2()
{
    QFETCH(QByteArray, data);
    QFETCH(int, result);
    QFETCH(QString, source);
    QFETCH(int, size);
    ProxyHeader h;
    QCOMPARE(int(ProxyHeader::parse(data, &h)), result);
    if (result == int(ProxyHeader::Result::Invalid))
        QVERIFY(qstrlen(h.error) > 0);
    if (result != int(ProxyHeader::Result::Ok))
        return;
    QCOMPARE(h.version, 2);
    QCOMPARE(int(h.size), size);
    QCOMPARE(h.hasAddress, !source.isEmpty());
    if (h.hasAddress)
        QCOMPARE(h.source.toString(), source);
}

// The intake takes bytes while the header is incomplete, so every byte an
// incomplete parse saw must belong to the header.
void tst_Proxy::proxyHeaderPrefixesAreIncomplete()
{
    const QList<QByteArray> headers = {
        "PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n",
        "PROXY UNKNOWN\r\n",
        v2Header(0x21, 0x11, ipv4(1, 2, 3, 4) + ipv4(5, 6, 7, 8) + be16(1) + be16(2)),
        v2Header(0x20, 0x00, {}),
    };
    for (const QByteArray &header : headers) {
        ProxyHeader h;
        QCOMPARE(ProxyHeader::parse(header, &h), ProxyHeader::Result::Ok);
        QCOMPARE(h.size, header.size());
        for (qsizetype n = 0; n < header.size(); ++n)
            QCOMPARE(ProxyHeader::parse(header.first(n), &h), ProxyHeader::Result::Incomplete);
    }
}

void tst_Proxy::forwardedFor_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("trusted");
    QTest::addColumn<QString>("client"); // empty: malformed, the proxy counts

    const QString none;
    const QString proxies = QStringLiteral("10.0.0.0/8,2001:db8:ffff::/48");
    QTest::newRow("one address") << QByteArray("203.0.113.7") << none
                                 << QStringLiteral("203.0.113.7");
    // nginx's $proxy_add_x_forwarded_for appends to what the client sent.
    QTest::newRow("forged entry left of the real one")
        << QByteArray("198.51.100.1, 203.0.113.7") << none << QStringLiteral("203.0.113.7");
    QTest::newRow("forged garbage left of the real one")
        << QByteArray("<script>, unknown,203.0.113.7") << none << QStringLiteral("203.0.113.7");
    QTest::newRow("trusted hops skipped")
        << QByteArray("198.51.100.1, 203.0.113.7, 10.0.0.2, 10.1.1.1") << proxies
        << QStringLiteral("203.0.113.7");
    QTest::newRow("every hop trusted: the left-most")
        << QByteArray("10.9.9.9, 10.0.0.2") << proxies << QStringLiteral("10.9.9.9");
    QTest::newRow("IPv6") << QByteArray("2001:db8::7") << none << QStringLiteral("[2001:db8::7]");
    QTest::newRow("IPv6 in brackets with port")
        << QByteArray("[2001:db8::7]:4433") << none << QStringLiteral("[2001:db8::7]:4433");
    QTest::newRow("IPv6 hop trusted")
        << QByteArray("203.0.113.7,2001:db8:ffff::5") << proxies << QStringLiteral("203.0.113.7");
    QTest::newRow("IPv4 with port")
        << QByteArray("203.0.113.7:5555") << none << QStringLiteral("203.0.113.7:5555");
    QTest::newRow("tabs and spaces")
        << QByteArray(" \t203.0.113.7\t ") << none << QStringLiteral("203.0.113.7");
    QTest::newRow("two header lines joined")
        << QByteArray("198.51.100.1,203.0.113.7") << none << QStringLiteral("203.0.113.7");

    QTest::newRow("unknown") << QByteArray("unknown") << none << QString();
    QTest::newRow("host name") << QByteArray("client.example.com") << none << QString();
    QTest::newRow("empty element at the right") << QByteArray("203.0.113.7,") << none << QString();
    QTest::newRow("garbage reached past trusted hops")
        << QByteArray("garbage, 10.0.0.2") << proxies << QString();
    QTest::newRow("port too big") << QByteArray("203.0.113.7:65536") << none << QString();
    QTest::newRow("bracketed IPv4") << QByteArray("[203.0.113.7]") << none << QString();
    QTest::newRow("obfuscated address") << QByteArray("0x7f.1") << none << QString();
}

void tst_Proxy::forwardedFor()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, trusted);
    QFETCH(QString, client);
    ForwardedFor::Subnets subnets;
    for (const QString &s : trusted.split(QLatin1Char(','), Qt::SkipEmptyParts))
        subnets << QHostAddress::parseSubnet(s);
    PeerAddress resolved;
    const char *error = "";
    const bool ok = ForwardedFor::resolve(header, subnets, &resolved, &error);
    QCOMPARE(ok, !client.isEmpty());
    if (ok)
        QCOMPARE(resolved.toString(), client);
    else
        QVERIFY(qstrlen(error) > 0);
}

// Behind nginx on the same host every client comes from loopback, which is
// exempt from --max-conns-per-ip: with the proxy trusted, the limit applies
// to each client its X-Forwarded-For names.
void tst_Proxy::forwardedForNamesTheClientForLimits()
{
    Config config = proxyConfig(false);
    config.maxConnsPerIp = 2;
    config.perIpExempt = Config().perIpExempt; // the default: loopback exempt
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);

    Client a(server->wsPort()), b(server->wsPort());
    a.send(upgradeRequest("198.51.100.99, 203.0.113.7"));
    b.send(upgradeRequest("203.0.113.7"));
    QVERIFY(a.upgraded());
    QVERIFY(b.upgraded());
    a.bind("a");
    b.bind("b");
    WAIT_VERIFY(server->registry()->isOnline("b"));
    WAIT_VERIFY(server->registry()->isOnline("a"));
    QCOMPARE(peerOf(server.get(), "a"), QStringLiteral("203.0.113.7"));

    Client third(server->wsPort());
    third.send(upgradeRequest("203.0.113.7"));
    const QByteArray refused = third.response();
    QVERIFY2(refused.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), refused.constData());
    QVERIFY(third.waitGone());
    QCOMPARE(server->metrics().refusedPerIp, quint64(1));

    Client other(server->wsPort());
    other.send(upgradeRequest("203.0.113.8"));
    QVERIFY(other.upgraded());
    // A proxy connection with no header is the proxy itself: exempt as before.
    Client probe(server->wsPort());
    probe.send(upgradeRequest());
    QVERIFY(probe.upgraded());

    const QList<Event> connects = eventsOf(events, Event::Type::Connected);
    QVERIFY(!connects.isEmpty());
    QCOMPARE(connects.front().peer, QStringLiteral("203.0.113.7"));
    QCOMPARE(connects.front().englishDetail(), QStringLiteral("/push"));
    // A slot frees when one of the client's connections goes.
    a.send(RawWsClient::frame(0x8, QByteArray("\x03\xe8", 2)));
    WAIT_VERIFY(!server->registry()->isOnline("a"));
    WAIT_COMPARE(server->gateway()->connectionCount(), 3);
    Client again(server->wsPort());
    again.send(upgradeRequest("203.0.113.7"));
    QVERIFY(again.upgraded());
}

void tst_Proxy::forwardedForFromUntrustedIsIgnored()
{
    Config config = proxyConfig(false);
    config.maxConnsPerIp = 1;
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);

    Client forger(server->wsPort(), QStringLiteral("127.0.0.2"));
    forger.send(upgradeRequest("203.0.113.7"));
    QVERIFY(forger.upgraded());
    forger.bind("forger");
    WAIT_VERIFY(server->registry()->isOnline("forger"));
    QCOMPARE(
        peerOf(server.get(), "forger"), QStringLiteral("127.0.0.2:%1").arg(forger.localPort()));
    for (const Event &e : eventsOf(events, Event::Type::Connected)) {
        QVERIFY2(!e.englishDetail().contains(QLatin1String("203.0.113.7")),
            qPrintable(e.englishDetail()));
    }
    // Its own address is what counts: another forged name does not help.
    QVERIFY(isRefused(server->wsPort(), QHostAddress(QHostAddress::LocalHost),
        QHostAddress(QStringLiteral("127.0.0.2"))));
    QCOMPARE(server->metrics().refusedPerIp, quint64(1));
}

void tst_Proxy::malformedForwardedForCountsTheProxy()
{
    auto server = startServer(proxyConfig(false));
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    Client c(server->wsPort());
    c.send(upgradeRequest("203.0.113.7, not-an-address"));
    QVERIFY(c.upgraded());
    c.bind("m");
    WAIT_VERIFY(server->registry()->isOnline("m"));
    QCOMPARE(peerOf(server.get(), "m"), QStringLiteral("127.0.0.1:%1").arg(c.localPort()));
    bool warned = false;
    for (const Event &e : eventsOf(events, Event::Type::Error)) {
        warned = warned
            || (e.level == Event::Level::Warning
                && e.englishDetail().contains(
                    QLatin1String("malformed address in X-Forwarded-For")));
    }
    QVERIFY(warned);
}

void tst_Proxy::proxyV1GivesTheClient()
{
    auto server = startServer(proxyConfig(true));
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    Client c(server->wsPort());
    // As HAProxy sends it: header and request in one segment.
    c.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n" + upgradeRequest());
    QVERIFY(c.upgraded());
    c.bind("v1");
    WAIT_VERIFY(server->registry()->isOnline("v1"));
    QCOMPARE(peerOf(server.get(), "v1"), QStringLiteral("203.0.113.7:5555"));
    const QList<Event> bound = eventsOf(events, Event::Type::Bound);
    QCOMPARE(bound.size(), 1);
    QCOMPARE(bound.front().peer, QStringLiteral("203.0.113.7:5555"));
    QCOMPARE(server->gateway()->proxyHeadersPending(), 0);
}

void tst_Proxy::proxyV2InPiecesGivesTheClient()
{
    auto server = startServer(proxyConfig(true));
    QVERIFY(server);
    Client c(server->wsPort());
    const QByteArray header = v2Header(0x21, 0x21,
        ipv6Doc(7) + ipv6Doc(1) + be16(4433) + be16(8013) + QByteArray(1, '\x04') + be16(3)
            + "pad");
    // In pieces cut at every boundary the parser cares about (inside the
    // signature, at its end, in the length, inside each address and port,
    // inside the TLV), each read before the next is sent: the intake must
    // neither spin nor take the request. Not a byte at a time: each wait is
    // at least a 10 ms turn of qWaitFor, and 58 of them on a loaded machine
    // outlasted the intake's 5 s deadline for the whole header.
    const QList<qsizetype> cuts = {
        1, 6, 11, 12, 13, 14, 15, 16, 23, 32, 40, 49, 50, 52, 53, 54, 55, 57};
    qsizetype from = 0;
    for (const qsizetype to : cuts) {
        QVERIFY(to > from && to < header.size());
        c.send(header.mid(from, to - from));
        QVERIFY(waitUntilReadByPeer(c.socket()));
        from = to;
    }
    c.send(header.mid(from));
    QVERIFY(waitUntilReadByPeer(c.socket()));
    WAIT_COMPARE(server->gateway()->connectionCount(), 1);
    QCOMPARE(server->gateway()->proxyHeadersPending(), 0);
    c.send(upgradeRequest());
    QVERIFY(c.upgraded());
    c.bind("v2");
    WAIT_VERIFY(server->registry()->isOnline("v2"));
    QCOMPARE(peerOf(server.get(), "v2"), QStringLiteral("[2001:db8::7]:4433"));
}

void tst_Proxy::proxyHeaderClientOverLimitIsReset()
{
    Config config = proxyConfig(true);
    config.maxConnsPerIp = 1;
    auto server = startServer(config);
    QVERIFY(server);
    Client first(server->wsPort());
    first.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n" + upgradeRequest());
    QVERIFY(first.upgraded());
    Client second(server->wsPort());
    second.send("PROXY TCP4 203.0.113.7 192.0.2.1 5556 443\r\n" + upgradeRequest());
    QVERIFY(second.waitGone());
    QVERIFY(!second.response().startsWith("HTTP/1.1 101"));
    QCOMPARE(server->metrics().refusedPerIp, quint64(1));
    Client other(server->wsPort());
    other.send("PROXY TCP4 203.0.113.8 192.0.2.1 5555 443\r\n" + upgradeRequest());
    QVERIFY(other.upgraded());
    // Health checks (LOCAL) are the proxy's own: counted for the proxy.
    Client check(server->wsPort());
    check.send(v2Header(0x20, 0x00, {}) + upgradeRequest());
    QVERIFY(check.upgraded());
}

void tst_Proxy::trustedSourceWithoutHeaderIsRefused()
{
    auto server = startServer(proxyConfig(true));
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    Client c(server->wsPort());
    c.send(upgradeRequest("203.0.113.7"));
    QVERIFY(c.waitGone());
    QVERIFY(c.response().isEmpty()); // reset, no answer
    QCOMPARE(server->gateway()->connectionCount(), 0);
    bool logged = false;
    for (const Event &e : eventsOf(events, Event::Type::Rejected))
        logged = logged
            || e.englishDetail() == QLatin1String("PROXY header refused: no PROXY protocol header");
    QVERIFY(logged);
    // A broken header is refused the same way.
    Client broken(server->wsPort());
    broken.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555\r\n" + upgradeRequest());
    QVERIFY(broken.waitGone());
    QVERIFY(broken.response().isEmpty());
    QCOMPARE(server->metrics().rejected, quint64(2));
}

void tst_Proxy::proxyHeaderFromUntrustedIsRefused()
{
    auto server = startServer(proxyConfig(true));
    QVERIFY(server);
    // Anyone else would use the header to pose as any address.
    Client v1(server->wsPort(), QStringLiteral("127.0.0.3"));
    v1.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n" + upgradeRequest());
    const QByteArray r1 = v1.response();
    QVERIFY2(r1.startsWith("HTTP/1.1 400 "), r1.constData());
    QVERIFY(r1.contains("unexpected PROXY protocol header"));
    Client v2(server->wsPort(), QStringLiteral("127.0.0.3"));
    v2.send(v2Header(0x21, 0x11, ipv4(1, 2, 3, 4) + ipv4(5, 6, 7, 8) + be16(1) + be16(2))
        + upgradeRequest());
    const QByteArray r2 = v2.response();
    QVERIFY2(r2.startsWith("HTTP/1.1 400 "), r2.constData());
    QVERIFY(r2.contains("unexpected PROXY protocol header"));
    // Without --proxy-protocol a trusted proxy's header is refused as well.
    auto plain = startServer(proxyConfig(false));
    QVERIFY(plain);
    Client p(plain->wsPort());
    p.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n" + upgradeRequest());
    QVERIFY(p.response().contains("unexpected PROXY protocol header"));
    // Untrusted plain clients are served as usual.
    Client normal(server->wsPort(), QStringLiteral("127.0.0.3"));
    normal.send(upgradeRequest());
    QVERIFY(normal.upgraded());
}

void tst_Proxy::proxyHeaderDeadline()
{
    Config config = proxyConfig(true);
    config.bindTimeoutMs = 300; // the PROXY deadline is at most the bind timeout
    auto server = startServer(config);
    QVERIFY(server);
    QSignalSpy events(server->eventLog(), &EventLog::eventAdded);
    Client silent(server->wsPort());
    Client partial(server->wsPort());
    partial.send("PROXY TCP4 203.0.113.7 ");
    WAIT_COMPARE(server->gateway()->proxyHeadersPending(), 2);
    QVERIFY(silent.waitGone(5000));
    QVERIFY(partial.waitGone(5000));
    QCOMPARE(server->gateway()->proxyHeadersPending(), 0);
    QCOMPARE(server->gateway()->connectionCount(), 0);
    bool logged = false;
    for (const Event &e : eventsOf(events, Event::Type::Rejected)) {
        logged = logged || e.englishDetail().contains(QLatin1String("no PROXY header in time"))
            || e.englishDetail().contains(QLatin1String("PROXY header refused"));
    }
    QVERIFY(logged);
}

// A load balancer speaking PROXY in front of nginx on 127.0.0.1: the header
// names nginx, a trusted proxy, so nginx's X-Forwarded-For decides.
void tst_Proxy::proxyChainUsesForwardedFor()
{
    Config config = proxyConfig(true);
    config.trustedProxies << QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8"));
    config.maxConnsPerIp = 1;
    auto server = startServer(config);
    QVERIFY(server);
    Client c(server->wsPort());
    c.send("PROXY TCP4 10.0.0.5 10.0.0.1 40000 8013\r\n" + upgradeRequest("203.0.113.7"));
    QVERIFY(c.upgraded());
    c.bind("chain");
    WAIT_VERIFY(server->registry()->isOnline("chain"));
    QCOMPARE(peerOf(server.get(), "chain"), QStringLiteral("203.0.113.7"));
    Client d(server->wsPort());
    d.send("PROXY TCP4 10.0.0.5 10.0.0.1 40001 8013\r\n" + upgradeRequest("203.0.113.7"));
    QVERIFY(d.response().startsWith("HTTP/1.1 429 "));
}

// The header comes before the TLS hello; the hello must reach TLS untouched.
void tst_Proxy::proxyProtocolBeforeTls()
{
    REQUIRE_PROGRAM("openssl");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString cert = dir.filePath(QStringLiteral("cert.pem"));
    const QString key = dir.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
            QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
            QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-subj"),
            QStringLiteral("/CN=localhost"), QStringLiteral("-days"), QStringLiteral("2")});
    QVERIFY(openssl.waitForFinished(30000) && openssl.exitCode() == 0);
    Config config = proxyConfig(true);
    config.tlsCertificate = cert;
    config.tlsKey = key;
    auto server = startServer(config);
    QVERIFY(server);

    QSslSocket socket;
    socket.setPeerVerifyMode(QSslSocket::VerifyNone);
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->wsPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.write("PROXY TCP6 2001:db8::7 2001:db8::1 4433 8013\r\n");
    socket.startClientEncryption();
    WAIT_VERIFY(socket.isEncrypted());
    socket.write(upgradeRequest() + RawWsClient::frame(0x1, "tls"));
    WAIT_VERIFY(server->registry()->isOnline("tls"));
    QCOMPARE(peerOf(server.get(), "tls"), QStringLiteral("[2001:db8::7]:4433"));
}

// The real binary: the client's address in the log line and in
// GET /api/uids/{uid}.
void tst_Proxy::headlessLogAndApiShowTheClient()
{
    GatewayProcess gateway;
    QVERIFY(gateway.start(
        {QStringLiteral("--trusted-proxies=127.0.0.1"), QStringLiteral("--proxy-protocol")}));
    QVERIFY(gateway.output().contains(" trusted-proxies=127.0.0.1/32 proxy-protocol=on"));
    Client c(gateway.wsPort());
    c.send("PROXY TCP4 203.0.113.7 192.0.2.1 5555 443\r\n" + upgradeRequest());
    QVERIFY(c.upgraded());
    c.bind("rider");
    WAIT_VERIFY2(gateway.output().contains(" bind "), gateway.output().right(1500));
    QByteArray bindLine;
    for (const QByteArray &line : gateway.output().split('\n')) {
        if (line.contains(" bind "))
            bindLine = line;
    }
    QVERIFY2(bindLine.contains("203.0.113.7:5555"), bindLine.constData());

    QTcpSocket http;
    http.connectToHost(QHostAddress(QHostAddress::LocalHost), gateway.httpPort());
    WAIT_COMPARE(http.state(), QAbstractSocket::ConnectedState);
    http.write("GET /api/uids/rider HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray reply;
    WAIT_UNTIL(
        [&] {
            reply += http.readAll();
            return reply.contains("\"peer\"") && reply.endsWith("}");
        },
        reply);
    QVERIFY2(reply.contains("\"peer\":\"203.0.113.7:5555\""), reply.constData());
    QVERIFY(gateway.stop());
}

PUSHCONSOLE_TEST_MAIN(tst_Proxy)
#include "tst_proxy.moc"
