#pragma once

#include "PushResult.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>

// One thing the gateway reports: a small value type, cheap to copy (Qt's
// implicit sharing), so the console and the headless logger can both keep it.
struct Event
{
    enum class Type : quint8 {
        Listening, // listeners opened; detail holds the addresses
        Stopped, // listeners closed
        Connected, // WebSocket handshake done
        Bound, // first message bound the connection to a uid
        Rejected, // invalid first message, over a limit, bad handshake
        Closed, // connection gone; detail holds the reason
        MessageIn, // a text message from a bound client
        Push, // a push request and its result
        Error, // anything that went wrong outside one request
        Cluster, // the link to the cluster's Redis; detail holds key=value pairs
    };
    enum class Level : quint8 { Debug, Info, Warning, Error };
    enum class Direction : quint8 { In, Out, System };

    qint64 time = 0; // milliseconds since the epoch, UTC
    Type type = Type::Error;
    Level level = Level::Info;
    quint64 connection = 0; // 0 when not about one connection
    QByteArray uid; // a uid, "*" for broadcast, or a list joined with ','
    QString peer; // host:port
    qint64 size = -1; // payload bytes, -1 when not applicable
    QByteArray text; // payload, cut to MaxText bytes
    QString detail; // reason or description
    PushSource source = PushSource::TextPort;
    PushStatus status = PushStatus::Ok;
    int delivered = 0;
    int closeCode = 0;

    // The log keeps thousands of events; whole 1 MiB payloads would not fit.
    static constexpr int MaxText = 4096;

    Direction direction() const;
    static const char *typeName(Type type);
    static const char *levelName(Level level);
    static bool levelFromName(const QString &name, Level *level);
};

Q_DECLARE_METATYPE(Event)
