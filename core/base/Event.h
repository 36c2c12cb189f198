#pragma once

#include "EventReasons.h"
#include "PushResult.h"

#include <QByteArray>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

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
    static constexpr int TypeCount = int(Type::Reloaded) + 1;
    enum class Level : quint8 { Debug, Info, Warning, Error };
#define PUSH_EVENT_REASON_ENUM(name, code, kinds, english) name,
    // Why it happened; each with its typed arguments (EventReasons.h).
    enum class Reason : quint8 {
        None, // nothing to say beyond the type
        Unknown, // from a newer gateway: only detail renders it
        PUSH_EVENT_REASONS(PUSH_EVENT_REASON_ENUM)
    };
#undef PUSH_EVENT_REASON_ENUM
    enum class Direction : quint8 { In, Out, System };

    qint64 time = 0; // milliseconds since the epoch, UTC
    Type type = Type::Error;
    Level level = Level::Info;
    quint64 connection = 0; // 0 when not about one connection
    QByteArray uid; // a uid, "*" for broadcast, or a list joined with ','
    QString peer; // host:port
    qint64 size = -1; // payload bytes, -1 when not applicable
    QByteArray text; // payload, cut to MaxText bytes
    Reason reason = Reason::None;
    // The reason's arguments in the order EventReasons.h lists them; a
    // number is kept as its decimal digits.
    QStringList args;
    // Only for Reason::Unknown (an event from a newer gateway): the English
    // it came with. Every other event renders it from reason and args.
    QString detail;
    PushSource source = PushSource::TextPort;
    PushStatus status = PushStatus::Ok;
    int delivered = 0;
    int dropped = 0; // push: targets that could not take it (slow consumers)
    int closeCode = 0;
    qint64 discarded = 0; // close: queued bytes the client never got

    // The log keeps thousands of events, so each is bounded (see limit()).
    // A payload excerpt keeps this many bytes...
    static constexpr int MaxText = 1024;
    // ...and every other string (uid list, peer, detail, each argument) this
    // many, an ellipsis included...
    static constexpr int MaxString = 256;
    // ...with at most this many arguments (the most any reason has)...
    static constexpr int MaxArgs = 13;
    // ...of at most this many UTF-16 units together.
    static constexpr int MaxArgsTotal = 512;

    // Cuts every field to its bound, on a UTF-8 boundary, and drops spare
    // capacity, so that an event in the log holds at most about 4 KiB (the
    // struct, a 256-byte uid list, peer and detail of at most 256 UTF-16
    // units each, arguments of at most 512 units together in at most 12
    // strings, a 1 KiB excerpt, each in its heap block) whatever a client
    // or a remote gateway sent. The listening event's arguments are the
    // operator's own text, which scripts read: never cut. EventLog::append()
    // and fromJson() apply it.
    void limit();

    // The English the headless log prints for reason and args (detail for
    // an unknown reason).
    QString englishDetail() const;
    // The wire form of the admin stream (docs/events.md).
    QJsonObject toJson() const;
    // Nullopt for anything that is not an event; limit() applied.
    static std::optional<Event> fromJson(const QJsonObject &object);
    static const char *reasonCode(Reason reason);
    // The names of its arguments in JSON, from docs/events.md.
    static QStringList reasonArgNames(Reason reason);
    static bool reasonFromCode(QStringView code, Reason *reason);
    static bool typeFromName(QStringView name, Type *type);
    static QList<Reason> allReasons();
    // The reason whose English rendering this is (Reason::Text with the
    // text as it is when none): for reasons that still travel as text, such
    // as a push result's error (Events::fromEnglish).
    static void reasonFromEnglish(const QString &english, Reason *reason, QStringList *args);
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
