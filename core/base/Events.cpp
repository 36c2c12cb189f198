#include "Events.h"

#include <QDateTime>

#include <algorithm>

namespace Events {

namespace {

Event make(Event::Type type, Event::Level level, const Why &why = {})
{
    Event e;
    e.time = QDateTime::currentMSecsSinceEpoch();
    e.type = type;
    e.level = level;
    e.reason = why.reason;
    e.args = why.args;
    return e;
}

// Matches text against an English template with %1...%9, left to right.
bool match(QStringView text, QStringView pattern, QStringList *args)
{
    QStringList out;
    qsizetype t = 0;
    qsizetype p = 0;
    while (p < pattern.size()) {
        if (pattern.at(p) == u'%' && p + 1 < pattern.size() && pattern.at(p + 1).isDigit()) {
            p += 2;
            // The literal up to the next argument (or the end) ends this one.
            qsizetype next = p;
            while (next < pattern.size()
                && !(pattern.at(next) == u'%' && next + 1 < pattern.size()
                    && pattern.at(next + 1).isDigit()))
                ++next;
            const QStringView literal = pattern.sliced(p, next - p);
            qsizetype end;
            if (next == pattern.size()) {
                if (!text.sliced(t).endsWith(literal))
                    return false;
                end = text.size() - literal.size();
            } else {
                end = literal.isEmpty() ? -1 : text.indexOf(literal, t);
            }
            if (end < t)
                return false;
            out << text.sliced(t, end - t).toString();
            t = end + literal.size();
            p = next;
            if (next == pattern.size())
                return t == text.size() ? (*args = out, true) : false;
            continue;
        }
        if (t >= text.size() || text.at(t) != pattern.at(p))
            return false;
        ++t;
        ++p;
    }
    if (t != text.size())
        return false;
    *args = out;
    return true;
}

} // namespace

Why why(Event::Reason reason, const QStringList &args)
{
    return {reason, args};
}

Why why(Event::Reason reason, qint64 number)
{
    return {reason, {QString::number(number)}};
}

Why wrap(Event::Reason reason, const QStringList &leading, const Why &inner)
{
    Why w {reason, leading};
    w.args << QLatin1String(Event::reasonCode(inner.reason)) << inner.args;
    return w;
}

Why fromEnglish(const QString &english)
{
    struct Template
    {
        Event::Reason reason;
        QString pattern; // the rendering with %1... for the arguments
        QList<bool> numeric;
    };
    // Built once: this runs for every closed connection.
    static const QList<Template> templates = [] {
        QList<Template> out;
        for (Event::Reason r : Event::allReasons()) {
            const QStringList names = Event::reasonArgNames(r);
            const bool nested = std::any_of(names.begin(), names.end(),
                [](const QString &n) { return n.startsWith(QLatin1Char('@')); });
            // Free text and key=value lines are never passed as reasons.
            if (r == Event::Reason::Listening || r == Event::Reason::Text
                || r == Event::Reason::Warning || r == Event::Reason::StartFailed
                || r == Event::Reason::ForwardedForIgnored || r == Event::Reason::Opened || nested)
                continue;
            Event probe;
            probe.reason = r;
            Template t {r, {}, {}};
            for (int i = 1; i <= names.size(); ++i) {
                probe.args << QLatin1Char('%') + QString::number(i);
                t.numeric << names.at(i - 1).startsWith(QLatin1Char('#'));
            }
            t.pattern = probe.englishDetail();
            out << t;
        }
        return out;
    }();
    for (const Template &t : templates) {
        QStringList args;
        if (!match(english, t.pattern, &args))
            continue;
        bool numbersOk = true;
        for (qsizetype i = 0; i < t.numeric.size() && i < args.size(); ++i) {
            bool ok = true;
            if (t.numeric.at(i))
                args.at(i).toLongLong(&ok);
            numbersOk = numbersOk && ok;
        }
        if (numbersOk)
            return {t.reason, args};
    }
    return {Event::Reason::Text, {english}};
}

QString english(const Why &why)
{
    Event e;
    e.reason = why.reason;
    e.args = why.args;
    return e.englishDetail();
}

Event listening(const QStringList &args)
{
    return make(Event::Type::Listening, Event::Level::Info, {Event::Reason::Listening, args});
}

Event listenersClosed()
{
    return make(Event::Type::Stopped, Event::Level::Info, why(Event::Reason::ListenersClosed));
}

Event shutdownDone(int clients, int aborted, qint64 undeliveredBytes)
{
    Event e = make(Event::Type::Stopped,
        undeliveredBytes > 0 ? Event::Level::Warning : Event::Level::Info,
        why(Event::Reason::ShutdownDone,
            {QString::number(clients), QString::number(aborted),
                QString::number(undeliveredBytes)}));
    // The same in the typed fields older consoles read.
    e.size = clients;
    e.delivered = aborted;
    e.discarded = undeliveredBytes;
    return e;
}

Event connected(quint64 conn, const QString &peer, const QByteArray &path)
{
    // From the client and up to 8 KiB: cut to Event::MaxString, or 10 000
    // events could hold 160 MB.
    Event e = make(Event::Type::Connected, Event::Level::Info,
        why(Event::Reason::Opened, {QString::fromUtf8(Event::clip(path))}));
    e.connection = conn;
    e.peer = peer;
    return e;
}

Event bound(quint64 conn, const QByteArray &uid, const QString &peer)
{
    Event e = make(Event::Type::Bound, Event::Level::Info);
    e.connection = conn;
    e.uid = uid;
    e.peer = peer;
    return e;
}

Event rejected(Event::Level level, quint64 conn, const QByteArray &uid, const QString &peer,
    const Why &why, qint64 size, const QByteArray &text)
{
    Event e = make(Event::Type::Rejected, level, why);
    e.connection = conn;
    e.uid = uid;
    e.peer = peer;
    e.size = size;
    e.text = text;
    return e;
}

Event closed(quint64 conn, const QByteArray &uid, const QString &peer, const Why &why,
    qint64 seconds, int code, qint64 discarded)
{
    Event e =
        make(Event::Type::Closed, discarded > 0 ? Event::Level::Warning : Event::Level::Info, why);
    e.connection = conn;
    e.uid = uid;
    e.peer = peer;
    e.size = seconds;
    e.closeCode = code;
    e.discarded = discarded;
    return e;
}

Event message(quint64 conn, const QByteArray &uid, QByteArrayView data)
{
    Event e = make(Event::Type::MessageIn, Event::Level::Debug);
    e.connection = conn;
    e.uid = uid;
    e.size = data.size();
    e.text = data.first(qMin<qsizetype>(data.size(), Event::MaxText)).toByteArray();
    return e;
}

Event pushed(PushSource source, Event::Level level, const QString &origin)
{
    Event e = make(Event::Type::Push, level);
    e.source = source;
    e.peer = origin;
    return e;
}

Event error(Event::Level level, const Why &why)
{
    return make(Event::Type::Error, level, why);
}

Event refused(Event::Type type, const QString &peer, const Why &why)
{
    Event e = make(type, Event::Level::Warning, why);
    e.peer = peer;
    return e;
}

Event cluster(bool warning, const Why &why)
{
    return make(Event::Type::Cluster, warning ? Event::Level::Warning : Event::Level::Info, why);
}

Event reloadOk(
    const QStringList &applied, const QStringList &reloaded, const QStringList &restartNeeded)
{
    const auto list = [](const QStringList &names) {
        return names.isEmpty() ? QStringLiteral("none") : names.join(QLatin1Char(','));
    };
    return make(Event::Type::Reloaded,
        restartNeeded.isEmpty() ? Event::Level::Info : Event::Level::Warning,
        why(Event::Reason::ReloadOk, {list(applied), list(reloaded), list(restartNeeded)}));
}

Event reloadRefused(const QString &error)
{
    return make(Event::Type::Reloaded, Event::Level::Error,
        why(Event::Reason::ReloadRefused,
            {QString(error).replace(QLatin1Char('"'), QLatin1Char('\''))}));
}

} // namespace Events

void Event::reasonFromEnglish(const QString &english, Reason *reason, QStringList *args)
{
    const Events::Why why = Events::fromEnglish(english);
    *reason = why.reason;
    *args = why.args;
}
