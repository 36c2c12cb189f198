#include "AdminEventJson.h"

#include "Event.h"
#include "Utf8.h"

#include <QDateTime>

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

void field(QByteArray &out, const char *name)
{
    out += ",\"";
    out += name;
    out += "\":";
}

void number(QByteArray &out, const char *name, qint64 value)
{
    field(out, name);
    out += QByteArray::number(value);
}

void bytes(QByteArray &out, const char *name, QByteArrayView utf8)
{
    if (utf8.isEmpty())
        return;
    field(out, name);
    appendString(out, utf8);
}

void text(QByteArray &out, const char *name, const QString &value)
{
    if (value.isEmpty())
        return;
    field(out, name);
    appendString(out, value);
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
    QByteArray out;
    out.reserve(160 + e.text.size() + e.uid.size() + e.detail.size());
    out += "{\"time\":\"";
    out += isoTime(e.time);
    out += "\",\"type\":\"";
    out += Event::typeName(e.type);
    out += "\",\"level\":\"";
    out += Event::levelName(e.level);
    out += '"';
    if (e.connection != 0)
        number(out, "conn", qint64(e.connection));
    bytes(out, "uid", e.uid);
    text(out, "peer", e.peer);
    if (e.size != -1)
        number(out, "size", e.size);
    bytes(out, "text", e.text);
    if (e.type == Event::Type::Push) {
        field(out, "source");
        out += '"';
        out += pushSourceName(e.source);
        out += "\",\"status\":\"";
        out += pushStatusName(e.status);
        out += '"';
        number(out, "delivered", e.delivered);
        number(out, "dropped", e.dropped);
    } else if (e.type == Event::Type::Closed) {
        number(out, "closeCode", e.closeCode);
        number(out, "discarded", e.discarded);
    }
    text(out, "detail", e.detail);
    out += '}';
    return out;
}

} // namespace AdminEventJson
