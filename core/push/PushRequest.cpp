#include "PushRequest.h"

#include "JsonScanner.h"
#include "Uid.h"
#include "Utf8.h"

#include <QSet>

namespace {

// PHP addresses {"uid":1001} and {"uid":"1001"} alike; so do we, by turning a
// whole number into its decimal text.
QByteArray uidAt(const JsonScanner &json, qsizetype offset)
{
    QByteArray uid;
    switch (json.kindAt(offset)) {
    case JsonScanner::Kind::String:
        uid = json.decodeString(offset, Uid::MaxLength);
        break;
    case JsonScanner::Kind::Integer:
        uid = json.integerText(offset);
        break;
    default:
        return {};
    }
    return Uid::isValid(uid) ? uid : QByteArray();
}

PushRequest failure(const QByteArray &reason)
{
    PushRequest r;
    r.error = reason;
    return r;
}

} // namespace

PushRequest PushRequest::parse(const QByteArray &line)
{
    if (line.isEmpty())
        return failure("empty line");
    if (!Utf8::isValid(line.constData(), std::size_t(line.size())))
        return failure("not UTF-8");

    JsonScanner json(line);
    if (!json.validate()) {
        return failure("invalid JSON at offset " + QByteArray::number(json.errorOffset()) + ": "
            + json.error());
    }
    if (!json.isObject())
        return failure("not a JSON object");
    const qsizetype at = json.uidValueOffset();
    if (at < 0)
        return failure("missing uid");

    PushRequest r;
    if (json.kindAt(at) == JsonScanner::Kind::Array) {
        const QList<qsizetype> elements = json.arrayElements(at);
        if (elements.isEmpty())
            return failure("empty uid list");
        if (elements.size() > MaxUids)
            return failure("too many uids");
        QSet<QByteArray> seen;
        r.uids.reserve(elements.size());
        for (qsizetype element : elements) {
            QByteArray uid = uidAt(json, element);
            if (uid.isEmpty())
                return failure("invalid uid");
            if (elements.size() == 1 || !seen.contains(uid)) {
                seen.insert(uid);
                r.uids.append(std::move(uid));
            }
        }
        return r;
    }
    QByteArray uid = uidAt(json, at);
    if (uid.isEmpty()) {
        if (json.kindAt(at) == JsonScanner::Kind::String && json.decodeString(at, 1) == "*") {
            r.broadcast = true;
            return r;
        }
        return failure("invalid uid");
    }
    r.uids.append(std::move(uid));
    return r;
}
