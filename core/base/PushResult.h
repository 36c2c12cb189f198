#pragma once

#include <QByteArray>
#include <QMetaType>

// Where a push came from; the console shows it and metrics count by it.
enum class PushSource : quint8 { TextPort, Console, Http, Cluster };

enum class PushStatus : quint8 {
    // Queued for every target connection, none of them condemned (over
    // --max-output, closing); at least one target.
    Ok,
    Fail, // no target online, or a target could not take it (see dropped)
    Error, // malformed request, nothing delivered
    Queued, // stored for an offline uid
};

struct PushResult
{
    PushStatus status = PushStatus::Fail;
    int delivered = 0; // connections the frame was written to
    // Target connections that could not take it: over their output cap
    // (dropped as slow consumers), shutting down. Any makes the push Fail.
    int dropped = 0;
    int nodes = 0; // other cluster nodes it was published to
    int stored = 0; // uids it was stored for (offline delivery)
    QByteArray error; // reason, set when status is Error
    // The answer waits for another party (Redis): the caller's completion
    // runs once, later, with the final result. status is meaningless here.
    bool pending = false;
    // The offline store should have taken it but could not (disk full, a
    // Redis error): a fail the backend may retry (HTTP 503, not 404).
    bool storeFailed = false;

    // The text port's reply line, byte for byte as the seed's backends read it.
    QByteArray replyLine() const;
};

const char *pushSourceName(PushSource source);
const char *pushStatusName(PushStatus status);

Q_DECLARE_METATYPE(PushResult)
