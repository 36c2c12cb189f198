#include "PushRouter.h"

#include "EventLog.h"
#include "Metrics.h"
#include "SessionRegistry.h"
#include "WsConnection.h"
#include "WsFrame.h"

#include <chrono>

PushRouter::PushRouter(SessionRegistry *registry, EventLog *log, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_log(log)
    , m_metrics(metrics)
{ }

PushResult PushRouter::push(const QByteArray &line, PushSource source, const QString &origin)
{
    return deliver(PushRequest::parse(line), line, source, origin);
}

PushResult PushRouter::deliver(
    const PushRequest &request, const QByteArray &payload, PushSource source, const QString &origin)
{
    PushResult result;
    if (!request.isValid()) {
        result.status = PushStatus::Error;
        result.error = request.error;
        record(request, payload, source, origin, result);
        return result;
    }
    const auto started = std::chrono::steady_clock::now();
    // One header for every target: a broadcast encodes nothing per client.
    char header[WsFrame::MaxHeaderSize];
    const QByteArrayView head(
        header, WsFrame::encodeHeader(header, WsFrame::Text, quint64(payload.size())));
    int delivered = 0;
    const auto send = [&](WsConnection *c) {
        if (c->sendFrame(head, payload))
            ++delivered;
    };
    if (request.broadcast) {
        m_registry->forEachConnection(send);
    } else {
        for (const QByteArray &uid : request.uids) {
            if (const SessionRegistry::Connections *list = m_registry->connections(uid)) {
                for (WsConnection *c : *list)
                    send(c);
            }
        }
    }
    m_metrics->observePushLatency(
        std::chrono::nanoseconds(std::chrono::steady_clock::now() - started).count());
    result.delivered = delivered;
    result.status = delivered > 0 ? PushStatus::Ok : PushStatus::Fail;
    m_metrics->messagesOut += quint64(delivered);
    m_metrics->bytesOut += quint64(delivered) * quint64(head.size() + payload.size());
    record(request, payload, source, origin, result);
    return result;
}

void PushRouter::record(const PushRequest &request, const QByteArray &payload, PushSource source,
    const QString &origin, const PushResult &result)
{
    m_metrics->countPush(source, result.status);
    // A malformed request is a bug in some backend: worth a warning. Single
    // pushes are too many to print by default.
    const Event::Level level =
        result.status == PushStatus::Error ? Event::Level::Warning : Event::Level::Debug;
    if (!m_log->captures(level))
        return;
    Event e;
    e.type = Event::Type::Push;
    e.level = level;
    e.source = source;
    e.status = result.status;
    e.delivered = result.delivered;
    e.peer = origin;
    e.size = payload.size();
    e.text = payload.size() <= Event::MaxText ? payload : payload.left(Event::MaxText);
    e.detail = QString::fromUtf8(result.error);
    if (request.broadcast) {
        e.uid = QByteArrayLiteral("*");
    } else if (request.uids.size() == 1) {
        e.uid = request.uids.front();
    } else if (!request.uids.isEmpty()) {
        constexpr int Shown = 8;
        for (qsizetype i = 0; i < qMin<qsizetype>(Shown, request.uids.size()); ++i)
            e.uid += (i ? "," : "") + request.uids[i];
        if (request.uids.size() > Shown)
            e.uid += ",…(+" + QByteArray::number(request.uids.size() - Shown) + ')';
    }
    m_log->append(std::move(e));
}
