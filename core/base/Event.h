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
        Reloaded, // the configuration was read again (SIGHUP); detail holds key=value pairs
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
    int dropped = 0; // push: targets that could not take it (slow consumers)
    int closeCode = 0;
    qint64 discarded = 0; // close: queued bytes the client never got

    // The log keeps thousands of events, so each is bounded (see limit()).
    // A payload excerpt keeps this many bytes...
    static constexpr int MaxText = 1024;
    // ...and every other string (uid list, peer, detail; a connect event's
    // path and X-Forwarded-For each) this many, an ellipsis included.
    static constexpr int MaxString = 256;

    // Cuts every field to its bound, on a UTF-8 boundary, and drops spare
    // capacity, so that an event in the log holds at most about 2.6 KiB
    // (the struct, a 256-byte uid list, peer and detail of at most 256
    // UTF-16 units each, a 1 KiB excerpt, each in its heap block) whatever a
    // client sent. EventLog::append() applies it.
    void limit();
    // text cut to at most maxBytes bytes of UTF-8, ending in "…" when cut.
    static QString clip(const QString &text, qsizetype maxBytes = MaxString);
    static QByteArray clip(const QByteArray &bytes, qsizetype maxBytes = MaxString);
    // The length of the longest prefix of at most maxBytes that does not
    // split a UTF-8 sequence.
    static qsizetype utf8Prefix(QByteArrayView bytes, qsizetype maxBytes);

    Direction direction() const;
    static const char *typeName(Type type);
    static const char *levelName(Level level);
    static bool levelFromName(const QString &name, Level *level);
};

Q_DECLARE_METATYPE(Event)
