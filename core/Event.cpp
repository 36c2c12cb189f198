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
