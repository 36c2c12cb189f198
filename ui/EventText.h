#pragma once

#include "Event.h"

#include <QCoreApplication>
#include <QString>

// Turns the core's events into what the log shows. The core reports in
// English for its log files; the known phrases are translated here and
// anything new passes through unchanged.
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
    static QString reason(const QString &reason);
    // Stable English keys for exports and filters.
    static const char *directionKey(Event::Direction direction);
};
