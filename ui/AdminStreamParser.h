#pragma once

#include "Event.h"
#include "GatewayTypes.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>

// What the gateway says in the hello and state messages of the admin
// stream. A state message carries only what changed: the has* flags say
// which parts were there.
struct AdminGatewayState
{
    int protocol = 0;
    QString version;
    QString node;
    QDateTime startedAt;
    int eventCapacity = 0;

    bool hasListening = false;
    bool listening = false;
    bool hasListeners = false;
    QString ws;
    QString text;
    QString http;
    bool hasCluster = false;
    ClusterState cluster;
    bool hasOffline = false;
    OfflineState offline;
};

// One message of the admin stream (docs/admin-stream.md), parsed.
struct AdminMessage
{
    enum class Kind { Hello, Presence, Events, Counters, Skipped, State, Ready, Unknown };
    Kind kind = Kind::Unknown;
    QString name; // "t" as sent, for a message this console does not know

    AdminGatewayState gateway; // Hello, State
    bool reset = false; // Presence
    QList<PresenceEntry> presence; // Presence
    QList<Event> events; // Events: those that could be read
    int badEvents = 0; // Events: left out, malformed
    QString badEventError; // the first one's reason
    CounterSample counters; // Counters
    quint64 skipped = 0; // Skipped
    QList<QPair<QString, quint64>> skippedByType; // Skipped, sorted by type
};

// Reads one text frame of the admin stream. Never trusts it: a frame that
// is not JSON, a message of the wrong shape or a field of the wrong kind is
// an error with a reason, not a crash; a malformed event inside an events
// message is left out and counted. A "t" this console does not know (a
// newer gateway) is Kind::Unknown, not an error. Every list is bounded.
namespace AdminStreamParser {

// Bounds on what one message may make the console hold.
constexpr int MaxPresencePerMessage = 10000; // the gateway sends chunks of 1 000
constexpr int MaxEventsPerMessage = 10000; // the gateway sends at most 1 000
constexpr int MaxPeersPerUid = 100; // more are counted, not listed
constexpr int MaxNodes = 1000;
constexpr int MaxSkippedTypes = 64;

bool parse(const QByteArray &frame, AdminMessage *message, QString *error);

} // namespace AdminStreamParser
