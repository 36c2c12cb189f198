#pragma once

#include "Event.h"

#include <QCoreApplication>
#include <QString>

// Turns the core's events into what the log shows: from the reason code and
// its arguments, in the console's language. Only a reason this console does
// not know (from a newer gateway) shows as the gateway rendered it.
class EventText final
{
    Q_DECLARE_TR_FUNCTIONS(EventText)
public:
    static QString direction(Event::Direction direction);
    static QString source(PushSource source);
    // Who sent it: the console, a backend's address or a client's.
    static QString origin(const Event &event);
    // The payload of pushes and messages; a sentence for everything else.
    static QString text(const Event &event);
    static QString result(const Event &event);
    // The reason with its arguments, translated.
    static QString reason(const Event &event);
    static QString reason(Event::Reason reason, const QStringList &args);
    // A reason that arrives as the core's English (a push result's error).
    static QString reason(const QString &english);
    // Stable English keys for exports and filters.
    static const char *directionKey(Event::Direction direction);
};
