#include "AdminEventJson.h"

#include "Event.h"
#include "Utf8.h"

#include <QDateTime>
#include <QJsonDocument>

namespace AdminEventJson {

namespace {

constexpr char Hex[] = "0123456789abcdef";

void appendEscaped(QByteArray &out, QByteArrayView utf8)
{
    out += '"';
    qsizetype plain = 0; // start of the run copied as it is
    for (qsizetype i = 0; i < utf8.size(); ++i) {
        const uchar c = uchar(utf8[i]);
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        out.append(utf8.data() + plain, i - plain);
        plain = i + 1;
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            out += "\\u00";
            out += Hex[c >> 4];
            out += Hex[c & 0xf];
        }
    }
    out.append(utf8.data() + plain, utf8.size() - plain);
    out += '"';
}

} // namespace

void appendString(QByteArray &out, QByteArrayView utf8)
{
    // A payload excerpt or a uid list came from a client: valid UTF-8 is
    // the rule, but a JSON reader must never see anything else.
    if (Utf8::isValid(utf8.data(), size_t(utf8.size())))
        appendEscaped(out, utf8);
    else
        appendEscaped(out, QString::fromUtf8(utf8).toUtf8());
}

void appendString(QByteArray &out, const QString &text)
{
    appendEscaped(out, text.toUtf8());
}

QByteArray isoTime(qint64 msSinceEpoch)
{
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch, Qt::UTC)
        .toString(Qt::ISODateWithMs)
        .toLatin1();
}

QByteArray write(const Event &e)
{
    // One serialisation per event, shared by every stream, and only for
    // events some stream will send (its rate cap counts the rest): the
    // object's cost stays off the push path.
    return QJsonDocument(e.toJson()).toJson(QJsonDocument::Compact);
}

} // namespace AdminEventJson
