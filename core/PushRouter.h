#pragma once

#include "PushRequest.h"
#include "PushResult.h"

#include <QObject>

struct Metrics;
class EventLog;
class SessionRegistry;

// The one place that delivers: the text port, the console and every later
// API hand their pushes here, so they all count, log and behave alike.
class PushRouter final : public QObject
{
    Q_OBJECT
public:
    PushRouter(
        SessionRegistry *registry, EventLog *log, Metrics *metrics, QObject *parent = nullptr);

    // `line` is a whole request (a JSON object with a uid) and is also the
    // frame every target receives, untouched. `origin` names the sender for
    // the log (a peer address, "console", ...).
    PushResult push(const QByteArray &line, PushSource source, const QString &origin = QString());

    // For callers that have parsed already.
    PushResult deliver(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin = QString());

private:
    void record(const PushRequest &request, const QByteArray &payload, PushSource source,
        const QString &origin, const PushResult &result);

    SessionRegistry *m_registry;
    EventLog *m_log;
    Metrics *m_metrics;
};
