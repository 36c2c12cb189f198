#include "PushComposer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

QStringList PushComposer::parseTargets(const QString &text)
{
    static const QRegularExpression separators(QStringLiteral("[,;\\s]+"));
    QStringList out;
    for (const QString &part : text.split(separators, Qt::SkipEmptyParts)) {
        if (!out.contains(part))
            out.append(part);
    }
    return out;
}

PushComposer::Check PushComposer::check(const QString &payload)
{
    Check c;
    const QByteArray bytes = payload.toUtf8();
    if (bytes.trimmed().isEmpty()) {
        c.error = tr("Write a JSON object, for example {\"msg\": \"hello\"}.");
        return c;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (error.error != QJsonParseError::NoError) {
        // Offsets are in UTF-8 bytes; the editor counts characters.
        const QString before = QString::fromUtf8(bytes.left(error.offset));
        c.line = int(before.count(QLatin1Char('\n'))) + 1;
        c.column = int(before.size() - before.lastIndexOf(QLatin1Char('\n')));
        c.error = tr("Invalid JSON at line %1, column %2: %3")
                      .arg(c.line)
                      .arg(c.column)
                      .arg(error.errorString());
        return c;
    }
    if (!doc.isObject()) {
        c.error = tr("The payload must be a JSON object ({ … }).");
        return c;
    }
    c.hasUid = doc.object().contains(QLatin1String("uid"));
    return c;
}

PushComposer::Result PushComposer::compose(
    const QString &targets, bool broadcast, const QString &payload)
{
    Result r;
    const Check c = check(payload);
    if (!c.error.isEmpty()) {
        r.error = c.error;
        return r;
    }
    const QByteArray object = compact(payload.toUtf8());
    if (broadcast) {
        r.line = withUid(object, QByteArrayLiteral("\"*\""));
        return r;
    }
    const QStringList uids = parseTargets(targets);
    if (uids.isEmpty()) {
        // A payload that names its own uid is a complete request already,
        // as a backend would send it.
        if (c.hasUid)
            r.line = object;
        else
            r.error = tr("Enter a target uid, several uids, or choose broadcast.");
        return r;
    }
    QJsonArray array;
    for (const QString &uid : uids)
        array.append(uid);
    QByteArray uidJson = QJsonDocument(array).toJson(QJsonDocument::Compact);
    if (uids.size() == 1)
        uidJson = uidJson.mid(1, uidJson.size() - 2); // the one string, not a list
    r.line = withUid(object, uidJson);
    return r;
}

QByteArray PushComposer::compact(const QByteArray &json)
{
    QByteArray out;
    out.reserve(json.size());
    bool inString = false;
    bool escaped = false;
    for (char ch : json) {
        if (inString) {
            out.append(ch);
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                inString = false;
            continue;
        }
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '"')
            inString = true;
        out.append(ch);
    }
    return out;
}

QByteArray PushComposer::withUid(const QByteArray &object, const QByteArray &uidJson)
{
    // Walk the top level of the compact object looking for the key "uid".
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    bool expectKey = false;
    qsizetype keyStart = -1;
    for (qsizetype i = 0; i < object.size(); ++i) {
        const char ch = object.at(i);
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (ch == '\\') {
                escaped = true;
            } else if (ch == '"') {
                inString = false;
                if (keyStart >= 0) {
                    const QByteArrayView key(object.constData() + keyStart, i - keyStart);
                    keyStart = -1;
                    if (key == "uid" && i + 1 < object.size() && object.at(i + 1) == ':') {
                        // Value: from after ':' to the ',' or '}' that ends it.
                        const qsizetype valueStart = i + 2;
                        int d = 0;
                        bool s = false;
                        bool e = false;
                        qsizetype j = valueStart;
                        for (; j < object.size(); ++j) {
                            const char c = object.at(j);
                            if (s) {
                                if (e)
                                    e = false;
                                else if (c == '\\')
                                    e = true;
                                else if (c == '"')
                                    s = false;
                            } else if (c == '"') {
                                s = true;
                            } else if (c == '{' || c == '[') {
                                ++d;
                            } else if (c == '}' || c == ']') {
                                if (d == 0)
                                    break;
                                --d;
                            } else if (c == ',' && d == 0) {
                                break;
                            }
                        }
                        return object.left(valueStart) + uidJson + object.mid(j);
                    }
                }
            }
            continue;
        }
        switch (ch) {
        case '"':
            inString = true;
            if (depth == 1 && expectKey)
                keyStart = i + 1;
            expectKey = false;
            break;
        case '{':
            ++depth;
            expectKey = depth == 1;
            break;
        case '[':
            ++depth;
            break;
        case '}':
        case ']':
            --depth;
            break;
        case ',':
            expectKey = depth == 1;
            break;
        default:
            break;
        }
    }
    // No uid yet: put it first, where backends usually have it.
    const QByteArray member = "\"uid\":" + uidJson;
    if (object == "{}")
        return '{' + member + '}';
    return '{' + member + ',' + object.mid(1);
}
