#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

struct Event;

// The JSON form of an event on the admin stream (docs/admin-stream.md), in
// one place so that it can become Event::toJson() without any caller
// changing. Also the small JSON writers the stream's other messages share.
namespace AdminEventJson {

// {"time":..,"type":..,"level":..,...}: empty fields left out.
QByteArray write(const Event &event);

// A JSON string of UTF-8 text (invalid sequences become U+FFFD), quotes
// included, appended to out.
void appendString(QByteArray &out, QByteArrayView utf8);
void appendString(QByteArray &out, const QString &text);
inline void appendString(QByteArray &out, const QByteArray &utf8)
{
    appendString(out, QByteArrayView(utf8));
}
// ISO-8601 UTC with milliseconds, as the headless log writes it.
QByteArray isoTime(qint64 msSinceEpoch);

} // namespace AdminEventJson
