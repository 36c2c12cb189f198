#include "PushRequest.h"

#include "Uid.h"
#include "Utf8.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <cmath>

namespace {

// PHP addresses {"uid":1001} and {"uid":"1001"} alike; so do we, by turning a
// whole number into its decimal text.
QByteArray uidFromJson(const QJsonValue &value)
{
    if (value.isString()) {
        const QByteArray uid = value.toString().toUtf8();
        return Uid::isValid(uid) ? uid : QByteArray();
    }
    if (value.isDouble()) {
        const double d = value.toDouble();
        const qint64 i = value.toInteger(0);
        if (static_cast<double>(i) != d || std::abs(d) >= 9.2e18)
            return {};
        return QByteArray::number(i);
    }
    return {};
}

PushRequest failure(const char *reason)
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

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        PushRequest r;
        r.error = "invalid JSON at offset " + QByteArray::number(parseError.offset) + ": "
            + parseError.errorString().toUtf8();
        return r;
    }
    if (!doc.isObject())
        return failure("not a JSON object");

    const QJsonObject object = doc.object();
    const auto it = object.constFind(QLatin1String("uid"));
    if (it == object.constEnd())
        return failure("missing uid");

    PushRequest r;
    const QJsonValue uid = it.value();
    if (uid.isString() && uid.toString() == QLatin1String("*")) {
        r.broadcast = true;
        return r;
    }
    if (uid.isArray()) {
        const QJsonArray array = uid.toArray();
        if (array.isEmpty())
            return failure("empty uid list");
        if (array.size() > MaxUids)
            return failure("too many uids");
        QSet<QByteArray> seen;
        r.uids.reserve(array.size());
        for (const QJsonValue &element : array) {
            QByteArray one = uidFromJson(element);
            if (one.isEmpty())
                return failure("invalid uid");
            if (array.size() == 1 || !seen.contains(one)) {
                seen.insert(one);
                r.uids.append(std::move(one));
            }
        }
        return r;
    }
    QByteArray one = uidFromJson(uid);
    if (one.isEmpty())
        return failure("invalid uid");
    r.uids.append(std::move(one));
    return r;
}
