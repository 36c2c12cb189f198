#include "TextPushServer.h"

#include "Config.h"
#include "EventLog.h"
#include "Events.h"
#include "Logging.h"
#include "Metrics.h"
#include "MonotonicClock.h"
#include "StreamSocket.h"
#include "TextConnection.h"

#include <algorithm>

TextPushServer::TextPushServer(
    const Config &config, PushRouter *router, EventLog *log, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_router(router)
    , m_log(log)
    , m_metrics(metrics)
    , m_listener([this](int fd, const PeerAddress &peer) { accepted(fd, peer); })
    , m_refusals(log)
{
    m_listener.setOverloadHandler([this] {
        m_log->append(
            Events::error(Event::Level::Warning, Events::why(Event::Reason::OutOfFdsPush)));
    });
    connect(&m_sweep, &QTimer::timeout, this, &TextPushServer::sweep);
}

void TextPushServer::applyLive(const Config &config)
{
    m_config = config;
    if (isListening())
        startSweep();
}

bool TextPushServer::listen(QString *error)
{
    startSweep();
    return m_listener.listen(m_config.textBind, m_config.textPort, error);
}

void TextPushServer::startSweep()
{
    // One timer for every connection; a quarter of the shorter timeout (at
    // most a second) keeps a close within that much of its deadline.
    qint64 shortest = 0;
    for (qint64 timeout : {m_config.textIdleTimeoutMs, m_config.textLineTimeoutMs}) {
        if (timeout > 0)
            shortest = shortest ? std::min(shortest, timeout) : timeout;
    }
    if (shortest > 0)
        m_sweep.start(int(std::clamp<qint64>(shortest / 4, 25, 1000)));
    else
        m_sweep.stop();
}

void TextPushServer::stopListening()
{
    m_listener.close();
}

void TextPushServer::closeAll()
{
    m_closingAll = true;
    const QList<TextConnection *> all = m_connections.values();
    for (TextConnection *c : all)
        c->closeGracefully();
    checkAllClosed();
}

void TextPushServer::checkAllClosed()
{
    if (m_closingAll && m_connections.isEmpty()) {
        m_closingAll = false;
        QMetaObject::invokeMethod(this, &TextPushServer::allClosed, Qt::QueuedConnection);
    }
}

bool TextPushServer::isAllowed(
    const QHostAddress &peer, const QList<QPair<QHostAddress, int>> &allow)
{
    if (peer.isLoopback())
        return true;
    for (const auto &subnet : allow) {
        if (peer.isInSubnet(subnet))
            return true;
    }
    return false;
}

void TextPushServer::accepted(int fd, const PeerAddress &peer)
{
    Events::Why why;
    if (!isAllowed(peer.hostAddress(), m_config.textAllow))
        why = Events::why(Event::Reason::PushPortNotAllowed);
    else if (m_connections.size() >= m_config.maxTextConnections)
        why = Events::why(Event::Reason::PushPortLimit, m_config.maxTextConnections);
    if (why.reason != Event::Reason::None) {
        ++m_metrics->refusedText;
        m_refusals.report(why, peer.toString());
        StreamSocket::resetAndClose(fd);
        return;
    }
    m_connections.insert(new TextConnection(fd, peer, this, this));
    ++m_metrics->textConnectionsOpen;
    qCDebug(lcText) << "push connection from" << peer.toString();
}

void TextPushServer::refusedHttp(TextConnection *c)
{
    ++m_metrics->refusedTextHttp;
    // Rate-limited like every refusal: a page can open connections in a loop.
    m_refusals.report(Events::why(Event::Reason::PushPortHttp), c->peer().toString());
}

void TextPushServer::sweep()
{
    const qint64 now = MonotonicClock::nowMs();
    // A copy: a connection may finish (and leave the set) while checked.
    const QList<TextConnection *> all = m_connections.values();
    for (TextConnection *c : all)
        c->checkTimeouts(now);
}

void TextPushServer::finished(TextConnection *c, const QString &reason)
{
    m_connections.remove(c);
    --m_metrics->textConnectionsOpen;
    qCDebug(lcText) << "push connection closed" << c->peer().toString() << reason;
    c->deleteLater();
    checkAllClosed();
}
