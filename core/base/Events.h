#pragma once

#include "Event.h"

// The one way events are made: each call site names its reason and gives
// its arguments, and the rendering (English for the headless log, tr() in
// the console, JSON for the admin stream) follows from them.
namespace Events {

// A reason and its arguments, before it is part of an event.
struct Why
{
    Event::Reason reason = Event::Reason::None;
    QStringList args;
};

Why why(Event::Reason reason, const QStringList &args = {});
Why why(Event::Reason reason, qint64 number);
// A reason that repeats another one (count, its code, its arguments).
Why wrap(Event::Reason reason, const QStringList &leading, const Why &inner);
// The reason for an English text from the layers below that still pass
// their reasons as text (the WebSocket connection, the push connection):
// the reason whose rendering it is, else Text with the text as it is.
Why fromEnglish(const QString &english);
QString english(const Why &why);

Event listening(const QStringList &args);
Event listenersClosed();
Event shutdownDone(int clients, int aborted, qint64 undeliveredBytes);
Event connected(quint64 conn, const QString &peer, const QByteArray &path);
Event bound(quint64 conn, const QByteArray &uid, const QString &peer);
Event rejected(Event::Level level, quint64 conn, const QByteArray &uid, const QString &peer,
    const Why &why, qint64 size = -1, const QByteArray &text = {});
// seconds: how long the connection lasted; discarded: queued bytes lost.
Event closed(quint64 conn, const QByteArray &uid, const QString &peer, const Why &why,
    qint64 seconds, int code = 0, qint64 discarded = 0);
Event message(quint64 conn, const QByteArray &uid, QByteArrayView data);
Event pushed(PushSource source, Event::Level level, const QString &origin);
Event error(Event::Level level, const Why &why);
Event refused(Event::Type type, const QString &peer, const Why &why);
Event cluster(bool warning, const Why &why);
Event reloadOk(
    const QStringList &applied, const QStringList &reloaded, const QStringList &restartNeeded);
Event reloadRefused(const QString &error);

} // namespace Events
