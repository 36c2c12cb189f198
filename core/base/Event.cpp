#include "Event.h"

Event::Direction Event::direction() const
{
    switch (type) {
    case Type::MessageIn:
        return Direction::In;
    case Type::Push:
        return Direction::Out;
    default:
        return Direction::System;
    }
}

const char *Event::typeName(Type type)
{
    switch (type) {
    case Type::Listening:
        return "listening";
    case Type::Stopped:
        return "stopped";
    case Type::Connected:
        return "connect";
    case Type::Bound:
        return "bind";
    case Type::Rejected:
        return "reject";
    case Type::Closed:
        return "close";
    case Type::MessageIn:
        return "message";
    case Type::Push:
        return "push";
    case Type::Error:
        return "error";
    case Type::Cluster:
        return "cluster";
    case Type::Reloaded:
        return "reload";
    }
    return "unknown";
}

const char *Event::levelName(Level level)
{
    switch (level) {
    case Level::Debug:
        return "debug";
    case Level::Info:
        return "info";
    case Level::Warning:
        return "warning";
    case Level::Error:
        return "error";
    }
    return "unknown";
}

bool Event::levelFromName(const QString &name, Level *level)
{
    for (Level l : {Level::Debug, Level::Info, Level::Warning, Level::Error}) {
        if (name.compare(QLatin1String(levelName(l)), Qt::CaseInsensitive) == 0) {
            *level = l;
            return true;
        }
    }
    return false;
}

namespace {

bool isContinuation(char c)
{
    return (uchar(c) & 0xC0) == 0x80;
}

// Spare capacity is memory too: an event keeps only what it uses.
template<typename T>
void dropSpareCapacity(T &s)
{
    constexpr qsizetype Spare = 32;
    if (s.capacity() > s.size() + Spare)
        s = T(s.constData(), s.size());
}

} // namespace

qsizetype Event::utf8Prefix(QByteArrayView bytes, qsizetype maxBytes)
{
    if (bytes.size() <= maxBytes)
        return bytes.size();
    qsizetype n = qMax<qsizetype>(0, maxBytes);
    // Back off to the start of the sequence the cut would split (at most
    // three continuation bytes: invalid input is cut anywhere).
    for (int i = 0; i < 3 && n > 0 && isContinuation(bytes[n]); ++i)
        --n;
    return n;
}

QByteArray Event::clip(const QByteArray &bytes, qsizetype maxBytes)
{
    if (bytes.size() <= maxBytes)
        return bytes;
    static constexpr char Ellipsis[] = "\xE2\x80\xA6";
    constexpr qsizetype EllipsisSize = sizeof Ellipsis - 1;
    const qsizetype n = utf8Prefix(bytes, maxBytes - EllipsisSize);
    QByteArray out;
    out.reserve(n + EllipsisSize);
    out.append(bytes.constData(), n).append(Ellipsis, EllipsisSize);
    return out;
}

QString Event::clip(const QString &text, qsizetype maxBytes)
{
    // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair 4).
    if (text.size() * 3 <= maxBytes)
        return text;
    const qsizetype room = maxBytes - 3; // for the ellipsis
    qsizetype bytes = 0;
    qsizetype cut = -1;
    for (qsizetype i = 0; i < text.size();) {
        const char16_t c = text.at(i).unicode();
        qsizetype units = 1;
        qsizetype length = 3;
        if (c < 0x80) {
            length = 1;
        } else if (c < 0x800) {
            length = 2;
        } else if (QChar::isHighSurrogate(c) && i + 1 < text.size()
            && QChar::isLowSurrogate(text.at(i + 1).unicode())) {
            length = 4;
            units = 2;
        }
        if (cut < 0 && bytes + length > room)
            cut = i;
        bytes += length;
        if (bytes > maxBytes)
            return text.left(cut) + QChar(0x2026);
        i += units;
    }
    return text;
}

void Event::limit()
{
    if (text.size() > MaxText)
        text.truncate(utf8Prefix(text, MaxText));
    uid = clip(uid);
    peer = clip(peer);
    // Where the gateway listens is the operator's own text, and scripts
    // read it. A connect event holds a path and an X-Forwarded-For, cut to
    // MaxString each where they are joined.
    if (type != Type::Listening)
        detail = clip(detail, type == Type::Connected ? 2 * MaxString + 32 : MaxString);
    dropSpareCapacity(text);
    dropSpareCapacity(uid);
    dropSpareCapacity(peer);
    dropSpareCapacity(detail);
}
