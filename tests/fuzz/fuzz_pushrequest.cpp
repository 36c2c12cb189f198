// libFuzzer target: one push-port line through PushRequest::parse (and so
// JsonScanner, Utf8 and Uid), with the invariants the gateway relies on.

#include "FuzzCheck.h"

#include "PushRequest.h"
#include "Uid.h"
#include "Utf8.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cstdint>

namespace {

// The error goes back as "error: <reason>\n": one printable line.
bool isOneLine(const QByteArray &text)
{
    for (char c : text) {
        if (uchar(c) < 0x20 || uchar(c) == 0x7F)
            return false;
    }
    return true;
}

// Differential check against Qt's JSON parser. Qt is the lenient one (it
// takes ".5", unknown escapes such as "\<" and raw control characters in
// strings, all of which RFC 8259 forbids), so the direction that holds is:
// what we accept, Qt accepts too, except numbers beyond a double's range,
// which only we take (as PHP does), and a scalar at the top level, which Qt
// does not take (RFC 8259 does; it is "not a JSON object" for us). Where both accept, the uid comes
// out as Qt decodes it.
void compareWithQt(const QByteArray &line, const PushRequest &r)
{
    if (!Utf8::isValid(line.constData(), std::size_t(line.size())))
        return;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    const bool weAccept = !line.isEmpty() && !r.error.startsWith("invalid JSON");
    if (error.error != QJsonParseError::NoError) {
        const QByteArray trimmed = line.trimmed();
        const bool scalar = !trimmed.startsWith('{') && !trimmed.startsWith('['); // Qt: no
        if (weAccept && !scalar)
            FUZZ_CHECK(error.error == QJsonParseError::IllegalNumber);
        return;
    }
    if (!weAccept)
        return;
    if (!doc.isObject()) {
        FUZZ_CHECK(r.error == "not a JSON object");
        return;
    }
    const QJsonObject object = doc.object();
    if (!object.contains(QLatin1String("uid"))) {
        FUZZ_CHECK(r.error == "missing uid");
        return;
    }
    const QJsonValue uid = object.value(QLatin1String("uid"));
    if (uid.isString()) {
        const QByteArray text = uid.toString().toUtf8();
        if (text == "*")
            FUZZ_CHECK(r.isValid() && r.broadcast);
        else if (Uid::isValid(text))
            FUZZ_CHECK(r.isValid() && r.uids.size() == 1 && r.uids.front() == text);
        else
            FUZZ_CHECK(r.error == "invalid uid");
    } else if (uid.isBool() || uid.isNull() || uid.isObject()) {
        FUZZ_CHECK(r.error == "invalid uid");
    } else if (uid.isArray()) {
        const QJsonArray array = uid.toArray();
        if (array.isEmpty()) {
            FUZZ_CHECK(r.error == "empty uid list");
        } else if (array.size() > PushRequest::MaxUids) {
            FUZZ_CHECK(r.error == "too many uids");
        } else {
            QList<QByteArray> expected;
            bool allStrings = true, allValid = true;
            for (const QJsonValue &v : array) {
                if (!v.isString()) {
                    allStrings = false;
                    break;
                }
                const QByteArray text = v.toString().toUtf8();
                allValid = allValid && Uid::isValid(text);
                if (!expected.contains(text))
                    expected.append(text);
            }
            if (allStrings && allValid)
                FUZZ_CHECK(r.isValid() && !r.broadcast
                    && QList<QByteArray>(r.uids.cbegin(), r.uids.cend()) == expected);
            else if (allStrings)
                FUZZ_CHECK(r.error == "invalid uid");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray line(reinterpret_cast<const char *>(data), qsizetype(size));
    const PushRequest r = PushRequest::parse(line);

    // Our UTF-8 validator (with its 8-bytes-at-a-time path) agrees with Qt's
    // strict one: no overlong forms, surrogates or code points past U+10FFFF.
    const bool utf8 = Utf8::isValid(line.constData(), std::size_t(line.size()));
    FUZZ_CHECK(utf8 == QByteArrayView(line).isValidUtf8());

    FUZZ_CHECK(r.isValid() == r.error.isEmpty());
    if (!r.isValid()) {
        // Never both an error and targets.
        FUZZ_CHECK(r.uids.isEmpty());
        FUZZ_CHECK(!r.broadcast);
        FUZZ_CHECK(isOneLine(r.error));
        FUZZ_CHECK(r.error.size() < 200);
    } else {
        FUZZ_CHECK(Utf8::isValid(line.constData(), std::size_t(line.size())));
        if (r.broadcast) {
            FUZZ_CHECK(r.uids.isEmpty());
        } else {
            // 1..MaxUids valid, distinct uids.
            FUZZ_CHECK(!r.uids.isEmpty());
            FUZZ_CHECK(r.uids.size() <= PushRequest::MaxUids);
            QSet<QByteArray> seen;
            for (const QByteArray &uid : r.uids) {
                FUZZ_CHECK(Uid::isValid(uid));
                FUZZ_CHECK(!seen.contains(uid));
                seen.insert(uid);
            }
        }
    }
    compareWithQt(line, r);
    return 0;
}
