#include "TestMain.h"

#include "WsFrame.h"
#include "WsHandshake.h"

class tst_WsProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encodeHeader_data();
    void encodeHeader();
    void parseHeader_data();
    void parseHeader();
    void unmaskAtAnyOffset();
    void acceptKeyMatchesRfc();
    void handshake_data();
    void handshake();
    void refusalIsCompleteHttp();
};

void tst_WsProtocol::encodeHeader_data()
{
    QTest::addColumn<quint64>("length");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("0") << quint64(0) << QByteArray("\x81\x00", 2);
    QTest::newRow("125") << quint64(125) << QByteArray("\x81\x7d");
    QTest::newRow("126") << quint64(126) << QByteArray("\x81\x7e\x00\x7e", 4);
    QTest::newRow("65535") << quint64(65535) << QByteArray("\x81\x7e\xff\xff");
    QTest::newRow("65536") << quint64(65536)
                           << QByteArray("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
}

void tst_WsProtocol::encodeHeader()
{
    QFETCH(quint64, length);
    QFETCH(QByteArray, expected);
    QCOMPARE(WsFrame::header(WsFrame::Text, length), expected);
}

void tst_WsProtocol::parseHeader_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("result");
    QTest::addColumn<quint64>("length");
    using R = WsFrame::ParseResult;
    QTest::newRow("masked text 5")
        << QByteArray("\x81\x85\x01\x02\x03\x04", 6) << int(R::Ok) << quint64(5);
    QTest::newRow("one byte") << QByteArray("\x81") << int(R::NeedMore) << quint64(0);
    QTest::newRow("mask missing bytes")
        << QByteArray("\x81\x85\x01", 3) << int(R::NeedMore) << quint64(0);
    QTest::newRow("16-bit length")
        << QByteArray("\x82\xfe\x01\x00\x00\x00\x00\x00", 8) << int(R::Ok) << quint64(256);
    QTest::newRow("unmasked") << QByteArray("\x81\x05", 2) << int(R::ProtocolError) << quint64(0);
    QTest::newRow("rsv bit") << QByteArray("\xc1\x80\0\0\0\0", 6) << int(R::ProtocolError)
                             << quint64(0);
    QTest::newRow("opcode 3") << QByteArray("\x83\x80\0\0\0\0", 6) << int(R::ProtocolError)
                              << quint64(0);
    QTest::newRow("fragmented ping")
        << QByteArray("\x09\x80\0\0\0\0", 6) << int(R::ProtocolError) << quint64(0);
    QTest::newRow("long ping") << QByteArray("\x89\xfe\x00\x7e\0\0\0\0", 8) << int(R::ProtocolError)
                               << quint64(0);
    QTest::newRow("too big") << QByteArray("\x81\xff\x00\x00\x00\x00\x00\x20\x00\x00\0\0\0\0", 14)
                             << int(R::TooBig) << quint64(0);
    QTest::newRow("64-bit msb") << QByteArray(
        "\x81\xff\x80\x00\x00\x00\x00\x00\x00\x00\0\0\0\0", 14)
                                << int(R::ProtocolError) << quint64(0);
}

void tst_WsProtocol::parseHeader()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, result);
    QFETCH(quint64, length);
    WsFrame::Header h;
    const char *error = "";
    QCOMPARE(int(WsFrame::parseHeader(bytes, 1024 * 1024, &h, &error)), result);
    if (result == int(WsFrame::ParseResult::Ok))
        QCOMPARE(h.length, length);
    else if (result != int(WsFrame::ParseResult::NeedMore))
        QVERIFY(qstrlen(error) > 0);
}

void tst_WsProtocol::unmaskAtAnyOffset()
{
    const quint8 mask[4] = {0x11, 0x22, 0x33, 0x44};
    QByteArray plain(37, '\0');
    for (int i = 0; i < plain.size(); ++i)
        plain[i] = char('a' + i % 26);
    QByteArray masked = plain;
    for (int i = 0; i < masked.size(); ++i)
        masked[i] = char(masked[i] ^ mask[i % 4]);
    // Unmasking in two pieces, the second starting at an odd offset, must
    // give the same as in one go.
    for (int split = 0; split <= masked.size(); ++split) {
        QByteArray copy = masked;
        WsFrame::unmask(copy.data(), split, mask, 0);
        WsFrame::unmask(copy.data() + split, copy.size() - split, mask, split);
        QCOMPARE(copy, plain);
    }
}

void tst_WsProtocol::acceptKeyMatchesRfc()
{
    // RFC 6455 §1.3's example.
    QCOMPARE(WsHandshake::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
        QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

void tst_WsProtocol::handshake_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("result");
    using R = WsHandshake::Result;
    const QByteArray good = "GET /chat?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\n"
                            "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
                            "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    QTest::newRow("good") << good << int(R::Ok);
    QTest::newRow("incomplete") << good.left(40) << int(R::Incomplete);
    QTest::newRow("plain GET") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                               << int(R::NotUpgrade);
    QTest::newRow("random bytes") << QByteArray("\x16\x03\x01\x02\x00", 5) << int(R::NotHttp);
    QTest::newRow("lowercase") << QByteArray("hello world") << int(R::NotHttp);
    QTest::newRow("bad version") << QByteArray(good).replace("Version: 13", "Version: 8")
                                 << int(R::BadVersion);
    QTest::newRow("short key") << QByteArray(good).replace("dGhlIHNhbXBsZSBub25jZQ==", "abc")
                               << int(R::BadRequest);
    // Found by fuzz_wshandshake: the lenient base64 decoder skipped what was
    // not base64, so these keys passed as 16 bytes.
    QTest::newRow("key with NULs inside")
        << QByteArray(good).replace("Q==", QByteArray("\0\0Q==", 5)) << int(R::BadRequest);
    QTest::newRow("key with a space inside")
        << QByteArray(good).replace("IHNh", "IH Nh") << int(R::BadRequest);
    QTest::newRow("key with a non-base64 character")
        << QByteArray(good).replace("IHNh", "IH!Nh") << int(R::BadRequest);
    QTest::newRow("key without padding")
        << QByteArray(good).replace("ZQ==", "ZQ") << int(R::BadRequest);
    QTest::newRow("key of 18 bytes")
        << QByteArray(good).replace("ZQ==", "ZQAA") << int(R::BadRequest);
    QTest::newRow("POST") << QByteArray(good).replace("GET", "POST") << int(R::BadRequest);
    QTest::newRow("huge") << ("GET / HTTP/1.1\r\nX: " + QByteArray(9000, 'a')) << int(R::TooLarge);
}

void tst_WsProtocol::handshake()
{
    QFETCH(QByteArray, request);
    QFETCH(int, result);
    WsHandshake h;
    QCOMPARE(int(WsHandshake::parse(request, &h)), result);
    if (result == int(WsHandshake::Result::Ok)) {
        QCOMPARE(h.path, QByteArray("/chat?x=1"));
        QCOMPARE(h.size, request.size());
        QVERIFY(h.response().contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    }
}

void tst_WsProtocol::refusalIsCompleteHttp()
{
    const QByteArray r =
        WsHandshake::refusal(WsHandshake::Result::NotUpgrade, "not a WebSocket upgrade");
    QVERIFY(r.startsWith("HTTP/1.1 426 Upgrade Required\r\n"));
    const qsizetype end = r.indexOf("\r\n\r\n");
    QVERIFY(end > 0);
    const qsizetype lengthAt = r.indexOf("Content-Length: ") + 16;
    const int length = r.mid(lengthAt, r.indexOf("\r\n", lengthAt) - lengthAt).toInt();
    QCOMPARE(r.size() - end - 4, qsizetype(length));
}

PUSHCONSOLE_TEST_MAIN(tst_WsProtocol)
#include "tst_wsprotocol.moc"
