#include "EventText.h"

#include <QRegularExpression>

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
    case Event::Type::Listening: {
        static const QRegularExpression re(QStringLiteral("ws=(\\S+) text=(\\S+)"));
        const QRegularExpressionMatch m = re.match(e.detail);
        if (m.hasMatch())
            return tr("Listening for WebSocket clients on %1 and for pushes on %2")
                .arg(m.captured(1), m.captured(2));
        return tr("Listening: %1").arg(e.detail);
    }
    case Event::Type::Stopped:
        if (e.size >= 0) // the end of a shutdown
            return tr("Shut down: %1 clients, %2 dropped at the shutdown timeout, %3 bytes not "
                      "delivered")
                .arg(e.size)
                .arg(e.delivered)
                .arg(e.discarded);
        return tr("Listeners closed; connected clients stay");
    case Event::Type::Connected:
        return tr("WebSocket connection %1 opened (path %2)").arg(e.connection).arg(e.detail);
    case Event::Type::Bound:
        return tr("Connection %1 bound to uid %2").arg(e.connection).arg(QString::fromUtf8(e.uid));
    case Event::Type::Rejected: {
        QString s = tr("Connection %1 rejected: %2").arg(e.connection).arg(reason(e.detail));
        if (!e.text.isEmpty())
            s += QStringLiteral(" — ") + QString::fromUtf8(e.text);
        return s;
    }
    case Event::Type::Closed: {
        QString s = tr("Connection %1 closed after %2 s: %3")
                        .arg(e.connection)
                        .arg(qMax<qint64>(0, e.size))
                        .arg(reason(e.detail));
        if (e.discarded > 0)
            s += QStringLiteral(" — ")
                + tr("%n bytes queued for it were not delivered", nullptr,
                    int(qMin<qint64>(e.discarded, INT_MAX)));
        return s;
    }
    case Event::Type::Error:
        return reason(e.detail);
    case Event::Type::Cluster:
        // key=value pairs (state, nodes, reason): as the headless log has them.
        return tr("Cluster: %1").arg(e.detail);
    case Event::Type::Reloaded:
        return tr("Configuration read again: %1").arg(e.detail);
    }
    return e.detail;
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
            return tr("error: %1").arg(reason(e.detail));
        }
        return {};
    case Event::Type::Closed:
        return e.closeCode ? tr("code %1").arg(e.closeCode) : QString();
    case Event::Type::Rejected:
        return tr("rejected");
    case Event::Type::Error:
        return tr("error");
    default:
        return {};
    }
}

QString EventText::reason(const QString &reason)
{
    struct Phrase
    {
        const char *english;
        const char *translated;
    };
    // QT_TR_NOOP keeps them in the catalogue; tr() below looks them up.
    static const Phrase phrases[] = {
        {"closed", QT_TR_NOOP("closed")},
        {"connection closed by peer", QT_TR_NOOP("connection closed by peer")},
        {"client closed", QT_TR_NOOP("client closed")},
        {"closed by peer", QT_TR_NOOP("closed by peer")},
        {"disconnected by operator", QT_TR_NOOP("disconnected by operator")},
        {"invalid uid", QT_TR_NOOP("invalid uid")},
        {"bind timeout", QT_TR_NOOP("bind timeout")},
        {"close timeout", QT_TR_NOOP("close timeout")},
        {"server shutting down", QT_TR_NOOP("server shutting down")},
        {"too many connections for this uid", QT_TR_NOOP("too many connections for this uid")},
        {"message too large", QT_TR_NOOP("message too large")},
        {"frame too large", QT_TR_NOOP("frame too large")},
        {"invalid UTF-8", QT_TR_NOOP("invalid UTF-8")},
        {"invalid close frame", QT_TR_NOOP("invalid close frame")},
        {"continuation without a message", QT_TR_NOOP("continuation without a message")},
        {"new message before the last one ended",
            QT_TR_NOOP("new message before the last one ended")},
        {"write failed", QT_TR_NOOP("write failed")},
        {"empty line", QT_TR_NOOP("empty line")},
        {"not UTF-8", QT_TR_NOOP("not UTF-8")},
        {"not a JSON object", QT_TR_NOOP("not a JSON object")},
        {"missing uid", QT_TR_NOOP("missing uid")},
        {"empty uid list", QT_TR_NOOP("empty uid list")},
        {"too many uids", QT_TR_NOOP("too many uids")},
        {"line too long", QT_TR_NOOP("line too long")},
        {"slow consumer: ping could not be queued",
            QT_TR_NOOP("slow consumer: ping could not be queued")},
        {"slow consumer: close frame could not be queued",
            QT_TR_NOOP("slow consumer: close frame could not be queued")},
        {"shutdown timeout", QT_TR_NOOP("shutdown timeout")},
        {"out of file descriptors: WebSocket connection refused",
            QT_TR_NOOP("out of file descriptors: WebSocket connection refused")},
        {"out of file descriptors: push connection refused",
            QT_TR_NOOP("out of file descriptors: push connection refused")},
    };
    for (const Phrase &p : phrases) {
        if (reason == QLatin1String(p.english))
            return tr(p.translated);
    }

    struct Pattern
    {
        const char *regex;
        const char *translated; // %1, %2: the captures
    };
    static const Pattern patterns[] = {
        {"^client closed: (.*)$", QT_TR_NOOP("client closed: %1")},
        {"^heartbeat timeout \\(idle (\\d+) s\\)$", QT_TR_NOOP("heartbeat timeout (idle %1 s)")},
        {"^handshake refused: (.*)$", QT_TR_NOOP("handshake refused: %1")},
        {"^invalid JSON at offset (\\d+): (.*)$", QT_TR_NOOP("invalid JSON at offset %1: %2")},
        {"^read error: (.*)$", QT_TR_NOOP("read error: %1")},
        {"^write failed: (.*)$", QT_TR_NOOP("write failed: %1")},
        {"^slow consumer: output queue over (\\d+) bytes$",
            QT_TR_NOOP("slow consumer: output queue over %1 bytes")},
        {"^evicted: too many connections without a uid \\((\\d+)\\)$",
            QT_TR_NOOP("evicted: too many connections without a uid (%1)")},
        {"^line too long \\(limit (\\d+) bytes\\); connection closed$",
            QT_TR_NOOP("line too long (limit %1 bytes); connection closed")},
    };
    static const QList<QRegularExpression> compiled = [] {
        QList<QRegularExpression> list;
        for (const Pattern &p : patterns)
            list.append(QRegularExpression(QString::fromLatin1(p.regex)));
        return list;
    }();
    for (qsizetype i = 0; i < compiled.size(); ++i) {
        const QRegularExpressionMatch m = compiled.at(i).match(reason);
        if (!m.hasMatch())
            continue;
        QString s = tr(patterns[i].translated);
        for (int c = 1; c <= m.lastCapturedIndex(); ++c)
            s = s.arg(m.captured(c));
        return s;
    }
    return reason;
}
