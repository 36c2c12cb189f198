#include "Event.h"

#include <QDateTime>
#include <QJsonValue>

#include <climits>
#include <iterator>

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
    // Arguments: the listening event's are the operator's (13 at most,
    // each a setting); everyone else's are cut.
    if (args.size() > MaxArgs)
        args.resize(MaxArgs);
    if (reason != Reason::Listening) {
        qsizetype total = 0;
        for (QString &a : args) {
            a = clip(a, qMin<qsizetype>(MaxString, qMax<qsizetype>(0, MaxArgsTotal - total)));
            total += a.size();
            dropSpareCapacity(a);
        }
    }
    args.squeeze();
    dropSpareCapacity(text);
    dropSpareCapacity(uid);
    dropSpareCapacity(peer);
    dropSpareCapacity(detail);
}

namespace {

struct ReasonSpec
{
    Event::Reason reason;
    const char *code;
    const char *names;
    const char *english;
};

#define PUSH_EVENT_REASON_SPEC(name, code, names, english)                                         \
    {Event::Reason::name, code, names, english},
constexpr ReasonSpec Specs[] = {PUSH_EVENT_REASONS(PUSH_EVENT_REASON_SPEC)};
#undef PUSH_EVENT_REASON_SPEC

const ReasonSpec *spec(Event::Reason reason)
{
    const int i = int(reason) - int(Event::Reason::Unknown) - 1;
    if (i < 0 || i >= int(std::size(Specs)))
        return nullptr;
    return &Specs[i];
}

QStringList argNames(const ReasonSpec *s)
{
    if (!s || !*s->names)
        return {};
    return QString::fromLatin1(s->names).split(QLatin1Char(','));
}

// The listening event: key=value pairs, the optional ones only when set.
QString renderListening(const QStringList &args)
{
    static const char *const keys[] = {"ws", "text", "http", "max-fds", "loop", "tls", "auth",
        "trusted-proxies", "proxy-protocol", "node", "redis", "offline", "http-tls"};
    QString out;
    for (int i = 0; i < int(std::size(keys)) && i < args.size(); ++i) {
        if (i >= 5 && args.at(i).isEmpty())
            continue; // from tls on: optional
        if (!out.isEmpty())
            out += QLatin1Char(' ');
        out += QLatin1String(keys[i]) + QLatin1Char('=') + args.at(i);
    }
    return out;
}

// Renders the reason whose arguments start at args[*at]; moves *at past
// them (and past a nested reason's).
QString render(Event::Reason reason, const QStringList &args, qsizetype *at, int depth = 0)
{
    const ReasonSpec *s = spec(reason);
    if (!s)
        return {};
    if (reason == Event::Reason::Listening) {
        const QString out = renderListening(args.mid(*at));
        *at = args.size();
        return out;
    }
    QString out = QString::fromLatin1(s->english);
    QStringList values;
    for (const QString &name : argNames(s)) {
        if (name.startsWith(QLatin1Char('@'))) {
            Event::Reason inner = Event::Reason::None;
            const QString code = *at < args.size() ? args.at(*at) : QString();
            ++*at;
            if (depth < 2 && Event::reasonFromCode(code, &inner))
                values << render(inner, args, at, depth + 1);
            else
                values << code;
        } else {
            values << (*at < args.size() ? args.at(*at) : QString());
            ++*at;
        }
    }
    // One pass, so that an argument holding "%1" stays as it is.
    QString result;
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out.at(i) == QLatin1Char('%') && i + 1 < out.size() && out.at(i + 1).isDigit()) {
            const int n = out.at(i + 1).digitValue();
            result += n >= 1 && n <= values.size() ? values.at(n - 1) : QString();
            ++i;
        } else {
            result += out.at(i);
        }
    }
    return result;
}

} // namespace

QString Event::englishDetail() const
{
    if (reason == Reason::None || reason == Reason::Unknown)
        return detail;
    qsizetype at = 0;
    return render(reason, args, &at);
}

const char *Event::reasonCode(Reason reason)
{
    const ReasonSpec *s = spec(reason);
    return s ? s->code : "";
}

QStringList Event::reasonArgNames(Reason reason)
{
    return argNames(spec(reason));
}

bool Event::reasonFromCode(QStringView code, Reason *reason)
{
    for (const ReasonSpec &s : Specs) {
        if (code == QLatin1String(s.code)) {
            *reason = s.reason;
            return true;
        }
    }
    return false;
}

bool Event::typeFromName(QStringView name, Type *type)
{
    for (int i = 0; i <= int(Type::Reloaded); ++i) {
        if (name == QLatin1String(typeName(Type(i)))) {
            *type = Type(i);
            return true;
        }
    }
    return false;
}

QList<Event::Reason> Event::allReasons()
{
    QList<Reason> out;
    for (const ReasonSpec &s : Specs)
        out << s.reason;
    return out;
}

namespace {

// Arguments as JSON: named, numbers as numbers, a nested reason's under its
// argument's name as a prefix ("last_limit").
void argsToJson(Event::Reason reason, const QStringList &args, qsizetype *at, const QString &prefix,
    QJsonObject *out, int depth = 0)
{
    for (const QString &raw : argNames(spec(reason))) {
        if (*at >= args.size())
            return;
        const QChar kind = raw.at(0);
        const QString name = prefix + (kind == u'#' || kind == u'@' ? raw.mid(1) : raw);
        const QString &value = args.at((*at)++);
        if (kind == u'#') {
            bool ok = false;
            const qint64 n = value.toLongLong(&ok);
            out->insert(name, ok ? QJsonValue(double(n)) : QJsonValue(value));
        } else {
            out->insert(name, value);
        }
        Event::Reason inner = Event::Reason::None;
        if (kind == u'@' && depth < 2 && Event::reasonFromCode(value, &inner))
            argsToJson(inner, args, at, name + QLatin1Char('_'), out, depth + 1);
    }
}

void argsFromJson(Event::Reason reason, const QJsonObject &in, const QString &prefix,
    QStringList *args, int depth = 0)
{
    for (const QString &raw : argNames(spec(reason))) {
        const QChar kind = raw.at(0);
        const QString name = prefix + (kind == u'#' || kind == u'@' ? raw.mid(1) : raw);
        const QJsonValue v = in.value(name);
        QString value;
        if (v.isDouble())
            value = QString::number(qint64(v.toDouble()));
        else if (v.isString())
            value = v.toString();
        args->append(value);
        Event::Reason inner = Event::Reason::None;
        if (kind == u'@' && depth < 2 && Event::reasonFromCode(value, &inner))
            argsFromJson(inner, in, name + QLatin1Char('_'), args, depth + 1);
        if (args->size() > Event::MaxArgs)
            return;
    }
}

} // namespace

QJsonObject Event::toJson() const
{
    QJsonObject o;
    o.insert(QLatin1String("time"),
        QDateTime::fromMSecsSinceEpoch(time, Qt::UTC).toString(Qt::ISODateWithMs));
    o.insert(QLatin1String("type"), QLatin1String(typeName(type)));
    o.insert(QLatin1String("level"), QLatin1String(levelName(level)));
    if (reason != Reason::None && reason != Reason::Unknown) {
        o.insert(QLatin1String("reason"), QLatin1String(reasonCode(reason)));
        QJsonObject a;
        qsizetype at = 0;
        argsToJson(reason, args, &at, QString(), &a);
        if (!a.isEmpty())
            o.insert(QLatin1String("args"), a);
    } else if (reason == Reason::Unknown && !args.isEmpty()) {
        // From a newer gateway: its code, kept to be passed on.
        o.insert(QLatin1String("reason"), args.first());
    }
    if (connection)
        o.insert(QLatin1String("conn"), double(connection));
    if (!uid.isEmpty())
        o.insert(QLatin1String("uid"), QString::fromUtf8(uid));
    if (!peer.isEmpty())
        o.insert(QLatin1String("peer"), peer);
    if (size != -1)
        o.insert(QLatin1String("size"), double(size));
    if (!text.isEmpty())
        o.insert(QLatin1String("text"), QString::fromUtf8(text)); // invalid UTF-8: U+FFFD
    if (type == Type::Push) {
        o.insert(QLatin1String("source"), QLatin1String(pushSourceName(source)));
        o.insert(QLatin1String("status"), QLatin1String(pushStatusName(status)));
        o.insert(QLatin1String("delivered"), delivered);
        o.insert(QLatin1String("dropped"), dropped);
    }
    if (type == Type::Closed) {
        o.insert(QLatin1String("closeCode"), closeCode);
        o.insert(QLatin1String("discarded"), double(discarded));
    }
    const QString english = englishDetail();
    if (reason != Reason::None || !english.isEmpty())
        o.insert(QLatin1String("detail"), english);
    return o;
}

std::optional<Event> Event::fromJson(const QJsonObject &o)
{
    Event e;
    const QJsonValue type = o.value(QLatin1String("type"));
    if (!type.isString() || type.toString().isEmpty())
        return std::nullopt;
    // A type from a newer gateway: shown as an error-like line with its detail.
    const bool knownType = typeFromName(type.toString(), &e.type);
    if (!knownType)
        e.type = Type::Error;
    const QDateTime when =
        QDateTime::fromString(o.value(QLatin1String("time")).toString(), Qt::ISODateWithMs);
    if (!when.isValid())
        return std::nullopt;
    e.time = when.toMSecsSinceEpoch();
    if (!levelFromName(o.value(QLatin1String("level")).toString(), &e.level))
        e.level = Level::Info;
    const auto integer = [&o](const char *key, qint64 fallback, qint64 min, qint64 max) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isDouble())
            return fallback;
        const double d = v.toDouble();
        if (!(d >= double(min) && d <= double(max)))
            return fallback;
        return qint64(d);
    };
    constexpr qint64 Big = qint64(1) << 53;
    e.connection = quint64(integer("conn", 0, 0, Big));
    e.uid = o.value(QLatin1String("uid")).toString().toUtf8();
    e.peer = o.value(QLatin1String("peer")).toString();
    e.size = integer("size", -1, -1, Big);
    e.text = o.value(QLatin1String("text")).toString().toUtf8();
    if (e.type == Type::Push) {
        const QString source = o.value(QLatin1String("source")).toString();
        const QString status = o.value(QLatin1String("status")).toString();
        for (PushSource s :
            {PushSource::TextPort, PushSource::Console, PushSource::Http, PushSource::Cluster}) {
            if (source == QLatin1String(pushSourceName(s)))
                e.source = s;
        }
        for (PushStatus s :
            {PushStatus::Ok, PushStatus::Fail, PushStatus::Error, PushStatus::Queued}) {
            if (status == QLatin1String(pushStatusName(s)))
                e.status = s;
        }
        e.delivered = int(integer("delivered", 0, 0, INT_MAX));
        e.dropped = int(integer("dropped", 0, 0, INT_MAX));
    }
    if (e.type == Type::Closed) {
        e.closeCode = int(integer("closeCode", 0, 0, 65535));
        e.discarded = integer("discarded", 0, 0, Big);
    }
    const QString code = o.value(QLatin1String("reason")).toString();
    const QString english = o.value(QLatin1String("detail")).toString();
    if (!code.isEmpty() && reasonFromCode(code, &e.reason)) {
        argsFromJson(e.reason, o.value(QLatin1String("args")).toObject(), QString(), &e.args);
    } else if (!code.isEmpty() || !english.isEmpty() || !knownType) {
        // A reason this console does not know yet: shown as the gateway
        // rendered it.
        e.reason = Reason::Unknown;
        if (!code.isEmpty())
            e.args << code;
        e.detail = knownType ? english : QStringLiteral("%1: %2").arg(type.toString(), english);
    }
    e.limit();
    return e;
}
