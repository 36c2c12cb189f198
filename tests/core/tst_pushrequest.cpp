#include "TestMain.h"

#include "PushRequest.h"
#include "PushResult.h"
#include "Uid.h"
#include "Utf8.h"

class tst_PushRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void uidValidation_data();
    void uidValidation();
    void utf8_data();
    void utf8();
    void replyLines();
};

void tst_PushRequest::parse_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<bool>("broadcast");
    QTest::addColumn<QByteArrayList>("uids");

    const QByteArrayList none;
    QTest::newRow("string uid") << QByteArray(R"({"uid":"1001","m":1})") << QByteArray() << false
                                << QByteArrayList {"1001"};
    QTest::newRow("integer uid") << QByteArray(R"({"uid":1001})") << QByteArray() << false
                                 << QByteArrayList {"1001"};
    QTest::newRow("negative integer")
        << QByteArray(R"({"uid":-5})") << QByteArray() << false << QByteArrayList {"-5"};
    QTest::newRow("huge integer") << QByteArray(R"({"uid":123456789012345678901234567890})")
                                  << QByteArray() << false
                                  << QByteArrayList {"123456789012345678901234567890"};
    QTest::newRow("minus zero") << QByteArray(R"({"uid":-0})") << QByteArray() << false
                                << QByteArrayList {"0"};
    QTest::newRow("last uid wins") << QByteArray(R"({"uid":"a","x":{"uid":"c"},"uid":"b"})")
                                   << QByteArray() << false << QByteArrayList {"b"};
    QTest::newRow("escaped uid value") << QByteArray(R"({"uid":"\u0031\u0030"})") << QByteArray()
                                       << false << QByteArrayList {"10"};
    QTest::newRow("huge number elsewhere")
        << ("{\"uid\":\"n\",\"v\":" + QByteArray(400, '9') + "e999}") << QByteArray() << false
        << QByteArrayList {"n"};
    QTest::newRow("big integer") << QByteArray(R"({"uid":9007199254740993})") << QByteArray()
                                 << false << QByteArrayList {"9007199254740993"};
    QTest::newRow("escaped key") << QByteArray(R"({"\u0075id":"x"})") << QByteArray() << false
                                 << QByteArrayList {"x"};
    QTest::newRow("email uid") << QByteArray(R"({"uid":"a.b@c:d-e_f"})") << QByteArray() << false
                               << QByteArrayList {"a.b@c:d-e_f"};
    QTest::newRow("broadcast") << QByteArray(R"({"uid":"*"})") << QByteArray() << true << none;
    QTest::newRow("array dedup") << QByteArray(R"({"uid":["a",1,"a","1"]})") << QByteArray()
                                 << false << QByteArrayList {"a", "1"};
    QTest::newRow("whitespace") << QByteArray(" \t{ \"uid\" : \"w\" } ") << QByteArray() << false
                                << QByteArrayList {"w"};

    QTest::newRow("empty") << QByteArray() << QByteArray("empty line") << false << none;
    QTest::newRow("not utf8") << QByteArray("{\"uid\":\"\xff\"}") << QByteArray("not UTF-8")
                              << false << none;
    QTest::newRow("overlong utf8")
        << QByteArray("{\"uid\":\"\xc0\xaf\"}") << QByteArray("not UTF-8") << false << none;
    QTest::newRow("invalid json") << QByteArray("{uid:1}")
                                  << QByteArray("invalid JSON at offset 1: expected a member name")
                                  << false << none;
    QTest::newRow("trailing garbage")
        << QByteArray(R"({"uid":1} x)")
        << QByteArray("invalid JSON at offset 10: garbage after the value") << false << none;
    QTest::newRow("unterminated") << QByteArray(R"({"uid":"a")")
                                  << QByteArray("invalid JSON at offset 10: unexpected end")
                                  << false << none;
    QTest::newRow("bad escape") << QByteArray(R"({"uid":"\x"})")
                                << QByteArray("invalid JSON at offset 8: invalid escape") << false
                                << none;
    QTest::newRow("raw control char")
        << QByteArray("{\"uid\":\"a\tb\"}")
        << QByteArray("invalid JSON at offset 9: control character in string") << false << none;
    QTest::newRow("leading zero") << QByteArray(R"({"uid":01})")
                                  << QByteArray("invalid JSON at offset 8: expected ',' or '}'")
                                  << false << none;
    QTest::newRow("trailing comma")
        << QByteArray(R"({"uid":1,})")
        << QByteArray("invalid JSON at offset 9: expected a member name") << false << none;
    QTest::newRow("deep nesting") << ("{\"uid\":1,\"d\":" + QByteArray(300, '[')
        + QByteArray(300, ']') + "}")
                                  << QByteArray("invalid JSON at offset 268: too deeply nested")
                                  << false << none;
    QTest::newRow("fraction uid zero")
        << QByteArray(R"({"uid":1.0})") << QByteArray("invalid uid") << false << none;
    QTest::newRow("exponent uid") << QByteArray(R"({"uid":1e3})") << QByteArray("invalid uid")
                                  << false << none;
    QTest::newRow("array") << QByteArray("[1,2]") << QByteArray("not a JSON object") << false
                           << none;
    QTest::newRow("string") << QByteArray(R"("uid")") << QByteArray("not a JSON object") << false
                            << none;
    QTest::newRow("missing uid") << QByteArray(R"({"user":1})") << QByteArray("missing uid")
                                 << false << none;
    QTest::newRow("null uid") << QByteArray(R"({"uid":null})") << QByteArray("invalid uid") << false
                              << none;
    QTest::newRow("bool uid") << QByteArray(R"({"uid":true})") << QByteArray("invalid uid") << false
                              << none;
    QTest::newRow("object uid") << QByteArray(R"({"uid":{}})") << QByteArray("invalid uid") << false
                                << none;
    QTest::newRow("fraction uid") << QByteArray(R"({"uid":1.5})") << QByteArray("invalid uid")
                                  << false << none;
    QTest::newRow("empty string uid")
        << QByteArray(R"({"uid":""})") << QByteArray("invalid uid") << false << none;
    QTest::newRow("space in uid") << QByteArray(R"({"uid":"a b"})") << QByteArray("invalid uid")
                                  << false << none;
    QTest::newRow("long uid") << ("{\"uid\":\"" + QByteArray(65, 'x') + "\"}")
                              << QByteArray("invalid uid") << false << none;
    QTest::newRow("empty array") << QByteArray(R"({"uid":[]})") << QByteArray("empty uid list")
                                 << false << none;
    QTest::newRow("star in array")
        << QByteArray(R"({"uid":["*"]})") << QByteArray("invalid uid") << false << none;
}

void tst_PushRequest::parse()
{
    QFETCH(QByteArray, line);
    QFETCH(QByteArray, error);
    QFETCH(bool, broadcast);
    QFETCH(QByteArrayList, uids);
    const PushRequest r = PushRequest::parse(line);
    QCOMPARE(r.error, error);
    QCOMPARE(r.isValid(), error.isEmpty());
    QCOMPARE(r.broadcast, broadcast);
    QCOMPARE(QByteArrayList(r.uids.cbegin(), r.uids.cend()), uids);
}

void tst_PushRequest::uidValidation_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("uid");
    QTest::newRow("digits") << QByteArray("1001") << QByteArray("1001");
    QTest::newRow("seed intval-style") << QByteArray("1001abc") << QByteArray("1001abc");
    QTest::newRow("trimmed") << QByteArray(" \t42\r\n") << QByteArray("42");
    QTest::newRow("64 chars") << QByteArray(64, 'a') << QByteArray(64, 'a');
    QTest::newRow("65 chars") << QByteArray(65, 'a') << QByteArray();
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("inner space") << QByteArray("1 2") << QByteArray();
    QTest::newRow("slash") << QByteArray("a/b") << QByteArray();
    QTest::newRow("star") << QByteArray("*") << QByteArray();
    QTest::newRow("nul") << QByteArray("a\0b", 3) << QByteArray();
}

void tst_PushRequest::uidValidation()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, uid);
    QCOMPARE(Uid::fromBindMessage(message), uid);
}

void tst_PushRequest::utf8_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("valid");
    QTest::newRow("ascii") << QByteArray("hello, world 0123456789") << true;
    QTest::newRow("chinese") << QByteArray("锁已关闭") << true;
    QTest::newRow("emoji") << QByteArray("\xf0\x9f\x9a\xb2") << true;
    QTest::newRow("max code point") << QByteArray("\xf4\x8f\xbf\xbf") << true;
    QTest::newRow("above max") << QByteArray("\xf4\x90\x80\x80") << false;
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << false;
    QTest::newRow("overlong 2") << QByteArray("\xc1\xbf") << false;
    QTest::newRow("overlong 3") << QByteArray("\xe0\x9f\xbf") << false;
    QTest::newRow("truncated") << QByteArray("abcdefgh\xe4\xb8") << false;
    QTest::newRow("lone continuation") << QByteArray("abcdefghij\x80") << false;
    QTest::newRow("bad continuation") << QByteArray("\xe4\x28\xa1") << false;
    QTest::newRow("0xff") << QByteArray("\xff") << false;
}

void tst_PushRequest::utf8()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, valid);
    QCOMPARE(Utf8::isValid(bytes.constData(), size_t(bytes.size())), valid);
}

void tst_PushRequest::replyLines()
{
    PushResult r;
    r.status = PushStatus::Ok;
    QCOMPARE(r.replyLine(), QByteArray("ok\n"));
    r.status = PushStatus::Fail;
    QCOMPARE(r.replyLine(), QByteArray("fail\n"));
    r.status = PushStatus::Error;
    r.error = "missing uid";
    QCOMPARE(r.replyLine(), QByteArray("error: missing uid\n"));
}

PUSHCONSOLE_TEST_MAIN(tst_PushRequest)
#include "tst_pushrequest.moc"
