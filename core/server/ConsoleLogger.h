#pragma once

#include "Event.h"

#include <QObject>

#include <cstdio>

class EventLog;

// Headless mode's output: one line per event, "TIME LEVEL EVENT key=value...",
// easy to grep and for log shippers to split.
class ConsoleLogger final : public QObject
{
    Q_OBJECT
public:
    ConsoleLogger(EventLog *log, Event::Level level, FILE *out = stdout, QObject *parent = nullptr);

    static QByteArray format(const Event &event);
    // --log-level changed by a reload.
    void setLevel(Event::Level level) { m_level = level; }

private:
    void write(const Event &event);

    FILE *m_out;
    Event::Level m_level;
};
