#include "AdminStreamParser.h"

#include <optional>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <cmath>
#include <limits>

namespace {

// One message's reading, failing at the first field of the wrong kind.
class Reader
{
public:
    QString error;

    bool failed() const { return !error.isEmpty(); }
    void fail(const QString &text)
    {
        if (error.isEmpty())
            error = text;
    }

    QString string(const QJsonObject &o, const char *key, int maxChars = 4096)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return {};
        if (!v.isString()) {
            fail(QStringLiteral("\"%1\" is not a string").arg(QLatin1String(key)));
            return {};
        }
        return v.toString().left(maxChars);
    }

    template<typename T>
    T number(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return T();
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || !std::isfinite(d) || d != std::floor(d)
            || d < double(std::numeric_limits<T>::lowest())
            || d > double(std::numeric_limits<T>::max())) {
            fail(QStringLiteral("\"%1\" is not a whole number in range").arg(QLatin1String(key)));
            return T();
        }
        return T(d);
    }

    bool boolean(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() || v.isNull())
            return false;
        if (!v.isBool())
            fail(QStringLiteral("\"%1\" is not true or false").arg(QLatin1String(key)));
        return v.toBool();
    }

    QJsonObject object(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isNull() && !v.isObject())
            fail(QStringLiteral("\"%1\" is not an object").arg(QLatin1String(key)));
        return v.toObject();
    }

    QJsonArray array(const QJsonObject &o, const char *key)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isNull() && !v.isArray())
            fail(QStringLiteral("\"%1\" is not an array").arg(QLatin1String(key)));
        return v.toArray();
    }

    // ISO-8601 with milliseconds, as ms since the epoch; 0 when absent.
    qint64 time(const QJsonObject &o, const char *key)
    {
        const QString text = string(o, key, 64);
        if (text.isEmpty())
            return 0;
        const QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
        if (!t.isValid()) {
            fail(QStringLiteral("\"%1\" is not an ISO-8601 time").arg(QLatin1String(key)));
            return 0;
        }
        return t.toMSecsSinceEpoch();
    }

    QStringList strings(const QJsonObject &o, const char *key, int max, int *more = nullptr)
    {
        QStringList out;
        const QJsonArray a = array(o, key);
        for (const QJsonValue &v : a) {
            if (!v.isString()) {
                fail(QStringLiteral("\"%1\" holds something else than strings")
                         .arg(QLatin1String(key)));
                return {};
            }
            if (out.size() < max)
                out.append(Event::clip(v.toString()));
            else if (more)
                ++*more;
        }
        return out;
    }
};

void readGateway(Reader &r, const QJsonObject &o, AdminGatewayState *s)
{
    s->protocol = r.number<int>(o, "protocol");
    s->version = r.string(o, "version", 64);
    s->node = r.string(o, "node", 256);
    const qint64 started = r.time(o, "startedAt");
    if (started)
        s->startedAt = QDateTime::fromMSecsSinceEpoch(started, Qt::UTC);
    s->eventCapacity = r.number<int>(o, "eventCapacity");

    s->hasListening = o.contains(QLatin1String("listening"));
    s->listening = r.boolean(o, "listening");
    s->hasListeners = o.contains(QLatin1String("listeners"));
    const QJsonObject listeners = r.object(o, "listeners");
    s->ws = r.string(listeners, "ws", 256);
    s->text = r.string(listeners, "text", 256);
    s->http = r.string(listeners, "http", 256);

    s->hasCluster = o.contains(QLatin1String("cluster"));
    const QJsonObject cluster = r.object(o, "cluster");
    s->cluster.enabled = r.boolean(cluster, "enabled");
    s->cluster.up = r.boolean(cluster, "up");
    s->cluster.redis = r.string(cluster, "redis", 1024);
    const QJsonArray nodes = r.array(cluster, "nodes");
    for (const QJsonValue &v : nodes) {
        if (s->cluster.nodes.size() >= AdminStreamParser::MaxNodes)
            break;
        if (!v.isObject()) {
            r.fail(QStringLiteral("a cluster node is not an object"));
            break;
        }
        const QJsonObject n = v.toObject();
        s->cluster.nodes.append(
            {r.string(n, "id", 256), r.number<int>(n, "uids"), r.boolean(n, "self")});
    }

    s->hasOffline = o.contains(QLatin1String("offline"));
    const QJsonObject offline = r.object(o, "offline");
    s->offline.enabled = r.boolean(offline, "enabled");
    s->offline.description = r.string(offline, "store", 1024);
    s->offline.ttlMs = r.number<qint64>(offline, "ttlMs");
    s->offline.maxPerUid = r.number<int>(offline, "maxPerUid");
    s->offline.maxTotal = r.number<int>(offline, "maxTotal");
}

bool readPresence(Reader &r, const QJsonObject &o, PresenceEntry *e)
{
    const QString uid = r.string(o, "uid", 1024);
    if (uid.isEmpty()) {
        r.fail(QStringLiteral("a presence entry has no uid"));
        return false;
    }
    e->uid = Event::clip(uid.toUtf8());
    e->connections = r.number<int>(o, "connections");
    if (e->connections < 0)
        r.fail(QStringLiteral("\"connections\" is negative"));
    e->peers = r.strings(o, "peers", AdminStreamParser::MaxPeersPerUid);
    e->connectedAt = r.time(o, "connectedAt");
    e->lastActivity = r.time(o, "lastActivity");
    e->messagesIn = r.number<quint64>(o, "messagesIn");
    e->messagesOut = r.number<quint64>(o, "messagesOut");
    e->otherNodes = r.strings(o, "otherNodes", AdminStreamParser::MaxNodes);
    e->otherNodes.sort();
    return !r.failed();
}

void readCounters(Reader &r, const QJsonObject &o, CounterSample *s)
{
    s->time = r.time(o, "time");
    s->steadyMs = r.number<qint64>(o, "steadyMs");
    s->uids = r.number<int>(o, "uids");
    s->connections = r.number<int>(o, "connections");
    const QJsonObject pushes = r.object(o, "pushes");
    s->pushes[int(PushStatus::Ok)] = r.number<quint64>(pushes, "ok");
    s->pushes[int(PushStatus::Fail)] = r.number<quint64>(pushes, "fail");
    s->pushes[int(PushStatus::Error)] = r.number<quint64>(pushes, "error");
    s->pushes[int(PushStatus::Queued)] = r.number<quint64>(pushes, "queued");
    const QJsonObject cluster = r.object(o, "cluster");
    s->clusterSent = r.number<quint64>(cluster, "sent");
    s->clusterReceived = r.number<quint64>(cluster, "received");
    s->clusterLinkLosses = r.number<quint64>(cluster, "linkLosses");
    const QJsonObject offline = r.object(o, "offline");
    s->offlineStored = r.number<quint64>(offline, "stored");
    s->offlineDelivered = r.number<quint64>(offline, "delivered");
    s->offlineDropped = r.number<quint64>(offline, "dropped");
    s->offlineExpired = r.number<quint64>(offline, "expired");
}

} // namespace

bool AdminStreamParser::parse(const QByteArray &frame, AdminMessage *message, QString *error)
{
    QJsonParseError jsonError;
    const QJsonDocument doc = QJsonDocument::fromJson(frame, &jsonError);
    if (jsonError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("invalid JSON at offset %1: %2")
                     .arg(jsonError.offset)
                     .arg(jsonError.errorString());
        return false;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("not a JSON object");
        return false;
    }
    const QJsonObject o = doc.object();
    const QJsonValue t = o.value(QLatin1String("t"));
    if (!t.isString()) {
        *error = QStringLiteral("no message type (\"t\")");
        return false;
    }

    AdminMessage m;
    m.name = Event::clip(t.toString(), 64);
    Reader r;
    if (m.name == QLatin1String("hello")) {
        m.kind = AdminMessage::Kind::Hello;
        readGateway(r, o, &m.gateway);
    } else if (m.name == QLatin1String("state")) {
        m.kind = AdminMessage::Kind::State;
        readGateway(r, o, &m.gateway);
    } else if (m.name == QLatin1String("presence")) {
        m.kind = AdminMessage::Kind::Presence;
        m.reset = r.boolean(o, "reset");
        const QJsonArray uids = r.array(o, "uids");
        if (uids.size() > MaxPresencePerMessage)
            r.fail(QStringLiteral("more than %1 uids in one message").arg(MaxPresencePerMessage));
        for (qsizetype i = 0; i < uids.size() && !r.failed(); ++i) {
            if (!uids.at(i).isObject()) {
                r.fail(QStringLiteral("a presence entry is not an object"));
                break;
            }
            PresenceEntry e;
            if (readPresence(r, uids.at(i).toObject(), &e))
                m.presence.append(e);
        }
    } else if (m.name == QLatin1String("events")) {
        m.kind = AdminMessage::Kind::Events;
        const QJsonArray events = r.array(o, "events");
        if (events.size() > MaxEventsPerMessage)
            r.fail(QStringLiteral("more than %1 events in one message").arg(MaxEventsPerMessage));
        for (qsizetype i = 0; i < events.size() && !r.failed(); ++i) {
            QString why;
            if (!events.at(i).isObject()) {
                why = QStringLiteral("an event is not an object");
            } else if (const std::optional<Event> e = Event::fromJson(events.at(i).toObject())) {
                m.events.append(*e);
            } else {
                why = QStringLiteral("an event without a type or a valid time");
            }
            if (!why.isEmpty() && m.badEvents++ == 0)
                m.badEventError = why;
        }
    } else if (m.name == QLatin1String("counters")) {
        m.kind = AdminMessage::Kind::Counters;
        readCounters(r, o, &m.counters);
    } else if (m.name == QLatin1String("skipped")) {
        m.kind = AdminMessage::Kind::Skipped;
        m.skipped = r.number<quint64>(o, "count");
        const QJsonObject byType = r.object(o, "byType");
        for (auto it = byType.constBegin(); it != byType.constEnd(); ++it) {
            if (m.skippedByType.size() >= MaxSkippedTypes)
                break;
            QJsonObject one;
            one.insert(QStringLiteral("n"), it.value());
            m.skippedByType.append({Event::clip(it.key(), 64), r.number<quint64>(one, "n")});
        }
    } else if (m.name == QLatin1String("ready")) {
        m.kind = AdminMessage::Kind::Ready;
    }
    if (r.failed()) {
        *error = QStringLiteral("%1 message: %2").arg(m.name, r.error);
        return false;
    }
    *message = m;
    return true;
}
