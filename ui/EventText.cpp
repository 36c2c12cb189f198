#include "EventText.h"

#include <functional>

#include <climits>

QString EventText::direction(Event::Direction direction)
{
    switch (direction) {
    case Event::Direction::In:
        return tr("in");
    case Event::Direction::Out:
        return tr("out");
    case Event::Direction::System:
        return tr("system");
    }
    return {};
}

const char *EventText::directionKey(Event::Direction direction)
{
    switch (direction) {
    case Event::Direction::In:
        return "in";
    case Event::Direction::Out:
        return "out";
    case Event::Direction::System:
        return "system";
    }
    return "";
}

QString EventText::source(PushSource source)
{
    switch (source) {
    case PushSource::TextPort:
        return tr("push port");
    case PushSource::Console:
        return tr("console");
    case PushSource::Http:
        return tr("HTTP API");
    case PushSource::Cluster:
        return tr("cluster");
    }
    return {};
}

QString EventText::origin(const Event &e)
{
    // A push another node published: which node says more than "cluster".
    if (e.type == Event::Type::Push && e.source == PushSource::Cluster
        && e.peer.startsWith(QLatin1String("node:")))
        return tr("node %1").arg(e.peer.mid(5));
    if (e.type == Event::Type::Push && e.source != PushSource::TextPort)
        return source(e.source);
    return e.peer;
}

QString EventText::text(const Event &e)
{
    switch (e.type) {
    case Event::Type::Push:
    case Event::Type::MessageIn:
        return QString::fromUtf8(e.text);
    case Event::Type::Listening:
    case Event::Type::Stopped:
    case Event::Type::Cluster:
    case Event::Type::Reloaded:
    case Event::Type::Error:
        return reason(e);
    case Event::Type::Connected:
        return tr("WebSocket connection %1 opened (path %2)")
            .arg(e.connection)
            .arg(e.reason == Event::Reason::Opened ? e.args.value(0) : reason(e));
    case Event::Type::Bound:
        return tr("Connection %1 bound to uid %2").arg(e.connection).arg(QString::fromUtf8(e.uid));
    case Event::Type::Rejected: {
        QString s = e.connection ? tr("Connection %1 rejected: %2").arg(e.connection).arg(reason(e))
                                 : tr("Connection rejected: %1").arg(reason(e));
        if (!e.text.isEmpty())
            s += QStringLiteral(" — ") + QString::fromUtf8(e.text);
        return s;
    }
    case Event::Type::Closed: {
        QString s = e.connection ? tr("Connection %1 closed after %2 s: %3")
                                       .arg(e.connection)
                                       .arg(qMax<qint64>(0, e.size))
                                       .arg(reason(e))
                                 : reason(e);
        if (e.discarded > 0)
            s += QStringLiteral(" — ")
                + tr("%n bytes queued for it were not delivered", nullptr,
                    int(qMin<qint64>(e.discarded, INT_MAX)));
        return s;
    }
    }
    return reason(e);
}

QString EventText::result(const Event &e)
{
    switch (e.type) {
    case Event::Type::Push:
        switch (e.status) {
        case PushStatus::Ok:
            // None here yet ok: sent on to the nodes that hold the uid (or,
            // for a moment, held behind its stored messages).
            if (e.delivered == 0)
                return tr("ok (delivered: 0 here)");
            return tr("ok (delivered: %1)").arg(e.delivered);
        case PushStatus::Fail:
            if (e.dropped > 0)
                return tr(
                    "fail: %n target(s) could not take it (slow consumer)", nullptr, e.dropped);
            return tr("fail: not online");
        case PushStatus::Queued:
            return tr("queued");
        case PushStatus::Error:
            return tr("error: %1").arg(reason(e));
        }
        return {};
    case Event::Type::Closed:
        return e.closeCode ? tr("code %1").arg(e.closeCode) : QString();
    case Event::Type::Rejected:
        return tr("rejected");
    case Event::Type::Error:
        // Not a failure: the attached gateway's stream limits at work.
        if (e.reason == Event::Reason::EventsSkipped)
            return tr("skipped");
        return tr("error");
    default:
        return {};
    }
}

QString EventText::reason(const Event &e)
{
    if (e.reason == Event::Reason::None || e.reason == Event::Reason::Unknown)
        return e.detail;
    return reason(e.reason, e.args);
}

QString EventText::reason(const QString &english)
{
    Event::Reason code = Event::Reason::None;
    QStringList args;
    Event::reasonFromEnglish(english, &code, &args);
    return reason(code, args);
}

namespace {

using R = Event::Reason;

// A list of names as it comes ("none" or comma-separated).
QString names(const QString &list)
{
    return list == QLatin1String("none") ? EventText::tr("none") : list;
}

} // namespace

QString EventText::reason(Event::Reason reason, const QStringList &args)
{
    qsizetype at = 0;
    // The next argument, and a nested reason with its arguments.
    const auto a = [&]() { return args.value(at++); };
    const std::function<QString(int)> nested = [&](int depth) {
        Event::Reason inner = Event::Reason::None;
        const QString code = a();
        if (depth > 2 || !Event::reasonFromCode(code, &inner))
            return code;
        const QStringList rest = args.mid(at);
        at = args.size();
        return EventText::reason(inner, rest);
    };
    switch (reason) {
    case R::None:
    case R::Unknown:
        return {};
    case R::Listening: {
        QString s =
            tr("Listening for WebSocket clients on %1, for pushes on %2, HTTP API %3 "
               "(up to %4 files, %5 event loop)")
                .arg(args.value(0), args.value(1), args.value(2), args.value(3), args.value(4));
        if (!args.value(5).isEmpty())
            s += QStringLiteral("; ") + tr("TLS on");
        if (!args.value(6).isEmpty())
            s += QStringLiteral("; ") + tr("tokens %1").arg(args.value(6));
        if (!args.value(7).isEmpty())
            s += QStringLiteral("; ") + tr("trusted proxies %1").arg(args.value(7));
        if (!args.value(8).isEmpty())
            s += QStringLiteral("; ") + tr("PROXY protocol on");
        if (!args.value(9).isEmpty())
            s += QStringLiteral("; ") + tr("node %1, Redis %2").arg(args.value(9), args.value(10));
        if (!args.value(11).isEmpty())
            s += QStringLiteral("; ") + tr("offline store %1").arg(args.value(11));
        if (!args.value(12).isEmpty())
            s += QStringLiteral("; ") + tr("HTTPS on for the HTTP API");
        return s;
    }
    case R::ListenersClosed:
        return tr("Listeners closed; connected clients stay");
    case R::ShutdownDone: {
        const QString clients = a();
        const QString aborted = a();
        return tr("Shut down: %1 clients, %2 dropped at the shutdown timeout, %3 bytes not "
                  "delivered")
            .arg(clients, aborted, a());
    }
    case R::Opened:
        return tr("path %1").arg(a());
    case R::Closed:
        return tr("closed");
    case R::ClosedByPeer:
        return tr("closed by peer");
    case R::ClientClosed:
        return tr("client closed");
    case R::ClientClosedWith:
        return tr("client closed: %1").arg(a());
    case R::DisconnectedByOperator:
        return tr("disconnected by operator");
    case R::InvalidUid:
        return tr("invalid uid");
    case R::BindTimeout:
        return tr("bind timeout");
    case R::CloseTimeout:
        return tr("close timeout");
    case R::ShutdownTimeout:
        return tr("shutdown timeout");
    case R::ServerShuttingDown:
        return tr("server shutting down");
    case R::UidLimit:
        return tr("too many connections for this uid");
    case R::UidLimitOtherTokens:
        return tr("too many connections for this uid (%1), none of them with this token").arg(a());
    case R::TokenLimit:
        return tr("too many connections for this token");
    case R::AddressLimit:
        return tr("too many connections from this address (%1)").arg(a());
    case R::UnboundLimit:
        return tr("too many connections without a uid (%1)").arg(a());
    case R::ConnectionLimit:
        return tr("connection limit reached (%1)").arg(a());
    case R::EvictedUnbound:
        return tr("evicted: too many connections without a uid (%1)").arg(a());
    case R::MessageTooLarge:
        return tr("message too large");
    case R::FrameTooLarge:
        return tr("frame too large");
    case R::InvalidUtf8:
        return tr("invalid UTF-8");
    case R::InvalidCloseFrame:
        return tr("invalid close frame");
    case R::StrayContinuation:
        return tr("continuation without a message");
    case R::InterleavedMessage:
        return tr("new message before the last one ended");
    case R::ReservedBits:
        return tr("reserved bits set");
    case R::UnmaskedFrame:
        return tr("unmasked client frame");
    case R::UnknownOpcode:
        return tr("unknown opcode");
    case R::InvalidLength:
        return tr("invalid frame length");
    case R::BadControlFrame:
        return tr("fragmented or oversized control frame");
    case R::ReadError:
        return tr("read error: %1").arg(a());
    case R::WriteFailed:
        return tr("write failed");
    case R::WriteFailedWith:
        return tr("write failed: %1").arg(a());
    case R::SlowConsumer:
        return tr("slow consumer: output queue over %1 bytes").arg(a());
    case R::SlowConsumerPing:
        return tr("slow consumer: ping could not be queued");
    case R::SlowConsumerClose:
        return tr("slow consumer: close frame could not be queued");
    case R::HeartbeatTimeout:
        return tr("heartbeat timeout (idle %1 s)").arg(a());
    case R::HandshakeRefused:
        return tr("handshake refused: %1").arg(a());
    case R::ProxyHeaderRefused:
        return tr("PROXY header refused: %1").arg(a());
    case R::ForwardedForIgnored:
        return tr("%1: the proxy's address counts instead").arg(a());
    case R::RefusalsRepeated: {
        const QString count = a();
        return tr("%1 more connections refused in the last second (last: %2)")
            .arg(count, nested(0));
    }
    case R::EvictionsRepeated: {
        const QString count = a();
        return tr("%1 more connections without a uid evicted in the last second (last: %2)")
            .arg(count, nested(0));
    }
    case R::PushConnection:
        return tr("push connection: %1").arg(nested(0));
    case R::Idle:
        return tr("idle");
    case R::HttpRequest:
        return tr("HTTP request");
    case R::LineTimeout:
        return tr("line not finished within %1 ms (--text-line-timeout)").arg(a());
    case R::IdleTimeout:
        return tr("idle for %1 ms (--text-idle-timeout)").arg(a());
    case R::IdleTimeoutUnread:
        return tr("idle for %1 ms (--text-idle-timeout); replies left unread").arg(a());
    case R::PushPortLimit:
        return tr("push port: connection limit reached (%1)").arg(a());
    case R::PushPortNotAllowed:
        return tr("push port: source not allowed (see --text-allow)");
    case R::PushPortHttp:
        return tr("push port: HTTP request (a web page?); connection closed, nothing pushed");
    case R::HttpApiRefused:
        return tr("HTTP API: %1").arg(nested(0));
    case R::LineTooLong:
        return tr("line too long (limit %1 bytes); connection closed").arg(a());
    case R::OutOfFdsWs:
        return tr("out of file descriptors: WebSocket connection refused");
    case R::OutOfFdsPush:
        return tr("out of file descriptors: push connection refused");
    case R::OutOfFdsHttp:
        return tr("out of file descriptors: HTTP connection refused");
    case R::EmptyLine:
        return tr("empty line");
    case R::NotUtf8:
        return tr("not UTF-8");
    case R::NotJsonObject:
        return tr("not a JSON object");
    case R::InvalidJson: {
        const QString offset = a();
        return tr("invalid JSON at offset %1: %2").arg(offset, a());
    }
    case R::MissingUid:
        return tr("missing uid");
    case R::EmptyUidList:
        return tr("empty uid list");
    case R::TooManyUids:
        return tr("too many uids");
    case R::StoreFailed:
        return tr("the offline store could not take it");
    case R::StoredWhileOffline:
        return tr("stored while offline");
    case R::StoredTooLarge:
        return tr("stored message larger than --max-output (%1 bytes): dropped").arg(a());
    case R::OfflineRefused: {
        const QString size = a();
        const QString uids = a();
        const QString uid = a();
        const QString perUid = a();
        return tr("offline store: a message of %1 bytes for %2 uid(s) (%3) is over the caps "
                  "(--offline-max-bytes-per-uid %4, --offline-max-bytes %5): not stored")
            .arg(size, uids, uid, perUid, a());
    }
    case R::OfflineDroppedOwn: {
        const QString own = a();
        return tr("offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps)")
            .arg(own, a());
    }
    case R::OfflineDroppedAll:
        return tr("offline store full: dropped the %1 oldest message(s) of all (total caps)")
            .arg(a());
    case R::OfflineDroppedBoth: {
        const QString own = a();
        const QString uid = a();
        return tr("offline store full: dropped the %1 oldest message(s) of uid %2 (per-uid caps) "
                  "and the %3 oldest message(s) of all (total caps)")
            .arg(own, uid, a());
    }
    case R::OfflineFailed: {
        const QString what = a();
        return tr("offline store: %1 failed: %2").arg(what, a());
    }
    case R::Repeated: {
        const QString count = a();
        const QString seconds = a();
        return tr("%1 more in the last %2 s (last: %3)").arg(count, seconds, nested(0));
    }
    case R::EventsSkipped: {
        // The attached gateway's rate or output cap: counted, not sent.
        const QString count = a();
        return tr("%1 events not shown (over the admin stream's limits): %2").arg(count, a());
    }
    case R::StartFailed:
        return tr("Could not start: %1").arg(a());
    case R::Warning:
        return tr("Warning: %1").arg(a());
    case R::Text:
        return a();
    case R::ClusterUp: {
        const QString node = a();
        const QString redis = a();
        const QString nodes = a();
        return tr("Cluster up: node %1, Redis %2, %3 nodes, %4 uids on other nodes")
            .arg(node, redis, nodes, a());
    }
    case R::ClusterDown: {
        const QString node = a();
        const QString redis = a();
        return tr("Cluster down: node %1, Redis %2: %3").arg(node, redis, a());
    }
    case R::ClusterRejoin: {
        const QString node = a();
        return tr("Cluster: node %1 joins again: %2").arg(node, a());
    }
    case R::ClusterPublishRefused: {
        const QString node = a();
        const QString inFlight = a();
        const QString limit = a();
        return tr("Cluster: node %1 refuses to publish (%2 bytes in flight, limit %3): %4")
            .arg(node, inFlight, limit, a());
    }
    case R::ReloadOk: {
        const QString applied = a();
        const QString reloaded = a();
        return tr("Configuration read again: applied %1; reloaded %2; needs a restart: %3")
            .arg(names(applied), names(reloaded), names(a()));
    }
    case R::ReloadRefused:
        return tr("Configuration not read again: %1; nothing changed").arg(a());
    }
    return {};
}
