#include "RemoteGatewaySource.h"

#include "Events.h"
#include "HandshakeProbe.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSslConfiguration>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

Q_LOGGING_CATEGORY(lcRemote, "pushconsole.remote")

namespace {
constexpr int HandshakeTimeoutMs = 15000;
constexpr int SlowHandshakeMs = 1500;
constexpr int StallTimeoutMs = 10000; // counters come every second
constexpr int RequestTimeoutMs = 15000;

bool sameEvent(const Event &a, const Event &b)
{
    return a.time == b.time && a.type == b.type && a.connection == b.connection && a.uid == b.uid
        && a.reason == b.reason && a.args == b.args && a.detail == b.detail && a.text == b.text
        && a.status == b.status;
}

QString errorOf(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object().value(QLatin1String("error")).toString();
}
} // namespace

RemoteGatewaySource::RemoteGatewaySource(const AttachTarget &target, QObject *parent)
    : GatewaySource(parent)
    , m_target(target)
{
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &RemoteGatewaySource::connectStream);
    m_stall.setSingleShot(true);
    m_stall.setInterval(StallTimeoutMs);
    connect(&m_stall, &QTimer::timeout, this, [this] {
        if (m_socket)
            m_socket->abort(); // reported by onDisconnected()
    });
    m_slowHandshake.setSingleShot(true);
    m_slowHandshake.setInterval(SlowHandshakeMs);
    connect(&m_slowHandshake, &QTimer::timeout, this, &RemoteGatewaySource::onSlowHandshake);
    m_handshake.setSingleShot(true);
    m_handshake.setInterval(HandshakeTimeoutMs);
    connect(&m_handshake, &QTimer::timeout, this, [this] {
        if (!m_socket)
            return;
        fail(Failure::Unreachable,
            tr("The gateway at %1 did not answer within %2 s.")
                .arg(location())
                .arg(HandshakeTimeoutMs / 1000),
            true);
    });
    m_http.setAutoDeleteReplies(false);
}

RemoteGatewaySource::~RemoteGatewaySource()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void RemoteGatewaySource::open()
{
    if (!m_socket && !m_reconnect.isActive())
        connectStream();
}

void RemoteGatewaySource::setReconnectDelays(int firstMs, int maxMs)
{
    m_firstDelayMs = qMax(1, firstMs);
    m_maxDelayMs = qMax(m_firstDelayMs, maxMs);
}

void RemoteGatewaySource::connectStream()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    m_sslErrors.clear();
    m_open = false;
    m_greeted = false;
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_socket->setMaxAllowedIncomingMessageSize(quint64(MaxFrameBytes));
    m_socket->setMaxAllowedIncomingFrameSize(quint64(MaxFrameBytes));
    if (m_target.url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!m_target.caCertificates.isEmpty())
            ssl.addCaCertificates(m_target.caCertificates);
        m_socket->setSslConfiguration(ssl);
    }
    connect(m_socket, &QWebSocket::connected, this, &RemoteGatewaySource::onConnected);
    connect(m_socket, &QWebSocket::disconnected, this, &RemoteGatewaySource::onDisconnected);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &RemoteGatewaySource::onMessage);
    connect(m_socket, &QWebSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        for (const QSslError &e : errors)
            m_sslErrors.append(e.errorString());
    });

    QNetworkRequest request(m_target.streamUrl());
    if (!m_target.key.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_target.key);
    QWebSocketHandshakeOptions options;
    options.setSubprotocols({QString::fromLatin1(Subprotocol)});
    m_handshake.start();
    m_slowHandshake.start();
    m_socket->open(request, options);
}

void RemoteGatewaySource::onConnected()
{
    m_handshake.stop();
    m_slowHandshake.stop();
    const QString protocol = m_socket->subprotocol();
    if (!protocol.isEmpty() && protocol != QLatin1String(Subprotocol)) {
        fail(Failure::Incompatible,
            tr("The gateway at %1 has an incompatible version: it offers the admin protocol "
               "\"%2\" where this console needs \"%3\".")
                .arg(location(), protocol, QLatin1String(Subprotocol)),
            false);
        return;
    }
    qCInfo(lcRemote) << "attached to" << location();
    m_open = true;
    m_greeted = false;
    m_stall.start();
    // The snapshot follows; until its "ready" the view is the last one.
    setLink(LinkState::Resyncing);
}

void RemoteGatewaySource::onDisconnected()
{
    if (!m_socket)
        return;
    const bool wasUp = m_open;
    // A close the gateway chose (restart, shutdown) or a dropped link: try again.
    if (wasUp) {
        const QString reason = m_socket->closeReason();
        fail(Failure::Lost,
            reason.isEmpty() ? tr("The connection to the gateway at %1 was lost.").arg(location())
                             : tr("The connection to the gateway at %1 was lost: %2")
                                   .arg(location(), reason.left(200)),
            true);
        return;
    }
    // Never got through the handshake: say why, once (a slow-handshake
    // probe still running is not needed any more).
    delete m_probe;
    m_probe = nullptr;
    const QAbstractSocket::SocketError code = m_socket->error();
    const QString text = m_socket->errorString();
    if (!m_sslErrors.isEmpty() || code == QAbstractSocket::SslHandshakeFailedError
        || code == QAbstractSocket::SslInternalError
        || code == QAbstractSocket::SslInvalidUserDataError) {
        const QString why = m_sslErrors.isEmpty() ? text : m_sslErrors.join(QStringLiteral("; "));
        fail(Failure::Tls,
            tr("The TLS connection to %1 failed: %2. Check the gateway's certificate or give "
               "its CA with --attach-ca.")
                .arg(location(), why),
            false);
        return;
    }
    // "Unhandled http status code: 401 (Unauthorized)."
    static const QRegularExpression status(QStringLiteral("code: ([1-5][0-9][0-9])\\b"));
    const QRegularExpressionMatch m = status.match(text);
    if (m.hasMatch()) {
        refused(m.captured(1).toInt());
        return;
    }
    switch (code) {
    case QAbstractSocket::ConnectionRefusedError:
    case QAbstractSocket::HostNotFoundError:
    case QAbstractSocket::SocketTimeoutError:
    case QAbstractSocket::NetworkError:
    case QAbstractSocket::SocketAccessError:
    case QAbstractSocket::UnsupportedSocketOperationError:
        fail(Failure::Unreachable, describeSocketError(code, text), true);
        return;
    default:
        break;
    }
    // The gateway answered something QWebSocket does not name (its 400
    // among them): ask once more and read the status alone.
    m_socket->disconnect(this);
    m_socket->deleteLater();
    m_socket = nullptr;
    m_handshake.stop();
    m_stall.stop();
    probe([this, code, text](int http) {
        if (http > 0 && http != 101)
            refused(http);
        else
            fail(Failure::Unreachable, describeSocketError(code, text), true);
    });
}

void RemoteGatewaySource::probe(std::function<void(int)> done)
{
    delete m_probe;
    m_probe = new HandshakeProbe(
        m_target.streamUrl(), m_target.key, Subprotocol, m_target.caCertificates,
        [this, done](int http) {
            m_probe->deleteLater();
            m_probe = nullptr;
            done(http);
        },
        this);
}

void RemoteGatewaySource::onSlowHandshake()
{
    if (!m_socket || m_open || m_probe)
        return;
    // A gateway that refuses the upgrade may keep the connection open for
    // the next request, and QWebSocket then waits for it to close: read
    // the status of a second attempt instead of waiting for the timeout.
    probe([this](int http) {
        if (m_socket && !m_open && http > 0 && http != 101)
            refused(http);
    });
}

void RemoteGatewaySource::refused(int http)
{
    if (http == 401 || http == 403)
        fail(Failure::Unauthorized,
            tr("The gateway at %1 refused the API key (HTTP %2): check the key file.")
                .arg(location())
                .arg(http),
            false);
    else if (http == 404 || http == 400 || http == 426)
        fail(Failure::Incompatible,
            tr("The gateway at %1 has an incompatible version (HTTP %2): it does not offer "
               "the admin stream this console needs (%3).")
                .arg(location())
                .arg(http)
                .arg(QLatin1String(Subprotocol)),
            false);
    else if (http == 503)
        fail(Failure::Busy,
            tr("The gateway at %1 has too many consoles attached (HTTP 503); retrying.")
                .arg(location()),
            true);
    else
        fail(Failure::Protocol,
            tr("The gateway at %1 answered HTTP %2 instead of opening the admin stream.")
                .arg(location())
                .arg(http),
            true);
}

QString RemoteGatewaySource::describeSocketError(
    QAbstractSocket::SocketError code, const QString &text) const
{
    const QString where = location();
    switch (code) {
    case QAbstractSocket::ConnectionRefusedError:
        return tr("Nothing accepts connections at %1 (connection refused): check the URL and "
                  "that the gateway runs with its HTTP API on.")
            .arg(where);
    case QAbstractSocket::HostNotFoundError:
        return tr("The host of %1 was not found: check the URL.").arg(where);
    case QAbstractSocket::SocketTimeoutError:
    case QAbstractSocket::NetworkError:
        return tr("The gateway at %1 cannot be reached: %2").arg(where, text);
    default:
        return tr("Cannot attach to the gateway at %1: %2").arg(where, text);
    }
}

void RemoteGatewaySource::fail(Failure failure, const QString &message, bool retry)
{
    m_handshake.stop();
    m_slowHandshake.stop();
    m_stall.stop();
    delete m_probe;
    m_probe = nullptr;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
        m_socket = nullptr;
    }
    m_open = false;
    m_greeted = false;
    // A half-read snapshot is thrown away; the next one starts over.
    m_resetting = false;
    m_incoming.clear();
    m_snapshotting = false;
    m_snapshotEvents.clear();
    m_failure = failure;
    m_error = message;
    qCWarning(lcRemote).noquote() << message;
    // Emitted also when it was Lost already: the message may be new.
    m_link = LinkState::Lost;
    Q_EMIT linkStateChanged(m_link);
    if (retry)
        scheduleReconnect();
}

void RemoteGatewaySource::scheduleReconnect()
{
    // Exponential, capped, with ±25 % jitter so that consoles do not come
    // back in step after a gateway restart.
    const int shift = qMin(m_attempt, 20);
    const qint64 base = qMin<qint64>(qint64(m_firstDelayMs) << shift, m_maxDelayMs);
    const double jitter = 0.75 + 0.5 * QRandomGenerator::global()->generateDouble();
    ++m_attempt;
    ++m_reconnects;
    m_reconnect.start(int(qMax<qint64>(1, qint64(double(base) * jitter))));
}

void RemoteGatewaySource::setLink(LinkState state)
{
    if (m_link == state)
        return;
    m_link = state;
    if (state != LinkState::Lost) {
        m_failure = Failure::None;
        m_error.clear();
    }
    Q_EMIT linkStateChanged(state);
}

void RemoteGatewaySource::onMessage(const QString &text)
{
    m_stall.start();
    AdminMessage m;
    QString error;
    if (!AdminStreamParser::parse(text.toUtf8(), &m, &error)) {
        ++m_protocolErrors;
        qCWarning(lcRemote).noquote() << "unreadable admin stream message:" << error;
        // Without a readable hello there is nothing to show: incompatible.
        if (!m_greeted)
            fail(Failure::Incompatible,
                tr("The gateway at %1 sent a greeting this console cannot read (%2).")
                    .arg(location(), error),
                false);
        return;
    }
    if (m.badEvents) {
        m_protocolErrors += m.badEvents;
        qCWarning(lcRemote).noquote()
            << m.badEvents << "unreadable events, the first:" << m.badEventError;
    }
    handle(m);
}

void RemoteGatewaySource::handle(const AdminMessage &m)
{
    switch (m.kind) {
    case AdminMessage::Kind::Hello:
        if (m.gateway.protocol != 1) {
            fail(Failure::Incompatible,
                tr("The gateway at %1 speaks admin protocol %2; this console knows 1.")
                    .arg(location())
                    .arg(m.gateway.protocol),
                false);
            return;
        }
        m_greeted = true;
        m_snapshotting = true;
        m_snapshotEvents.clear();
        applyState(m.gateway, true);
        return;
    case AdminMessage::Kind::State:
        applyState(m.gateway, false);
        return;
    case AdminMessage::Kind::Presence:
        if (m.reset) {
            m_resetting = true;
            m_incoming.clear();
        }
        applyPresence(m.presence, !m_resetting);
        return;
    case AdminMessage::Kind::Events:
        if (m_snapshotting) {
            m_snapshotEvents.append(m.events);
            if (m_snapshotEvents.size() > m_capacity)
                m_snapshotEvents.remove(0, m_snapshotEvents.size() - m_capacity);
        } else {
            deliver(m.events);
        }
        return;
    case AdminMessage::Kind::Counters:
        m_counters = m.counters;
        Q_EMIT countersSampled(m_counters);
        return;
    case AdminMessage::Kind::Skipped: {
        // One line in the log, as the gateway counted them, not one per event.
        QStringList parts;
        for (const auto &p : m.skippedByType)
            parts.append(QStringLiteral("%1 %2").arg(p.first).arg(p.second));
        Event e = Events::error(Event::Level::Info,
            Events::why(Event::Reason::EventsSkipped,
                {QString::number(m.skipped), parts.join(QStringLiteral(", "))}));
        e.limit();
        deliver({e});
        return;
    }
    case AdminMessage::Kind::Ready:
        if (m_resetting) {
            m_resetting = false;
            m_presence.swap(m_incoming);
            m_incoming.clear();
            Q_EMIT presenceReset();
        }
        if (m_snapshotting) {
            m_snapshotting = false;
            deliver(unseen(m_snapshotEvents));
            m_snapshotEvents.clear();
            m_attempt = 0;
            setLink(LinkState::Connected);
        }
        Q_EMIT synced();
        return;
    case AdminMessage::Kind::Unknown:
        // A newer gateway's message: nothing this console can show.
        return;
    }
}

void RemoteGatewaySource::applyState(const AdminGatewayState &s, bool hello)
{
    const bool wasListening = m_gateway.listening;
    const QDateTime wasStarted = m_gateway.startedAt;
    const QString wasWs = m_gateway.ws;
    const QString wasText = m_gateway.text;
    if (hello) {
        m_gateway = s;
        if (s.eventCapacity > 0)
            m_capacity = qMin(s.eventCapacity, MaxEventCapacity);
    } else {
        if (s.hasListening)
            m_gateway.listening = s.listening;
        if (s.hasListeners) {
            m_gateway.ws = s.ws;
            m_gateway.text = s.text;
            m_gateway.http = s.http;
        }
        if (s.hasCluster)
            m_gateway.cluster = s.cluster;
        if (s.hasOffline)
            m_gateway.offline = s.offline;
        if (s.startedAt.isValid())
            m_gateway.startedAt = s.startedAt;
    }
    if (hello || s.hasListening || s.hasListeners || wasStarted != m_gateway.startedAt) {
        if (hello || wasListening != m_gateway.listening || wasWs != m_gateway.ws
            || wasText != m_gateway.text || wasStarted != m_gateway.startedAt)
            Q_EMIT listeningChanged(m_gateway.listening);
    }
    if (hello || s.hasCluster)
        Q_EMIT clusterChanged();
}

void RemoteGatewaySource::applyPresence(const QList<PresenceEntry> &entries, bool live)
{
    QHash<QByteArray, PresenceEntry> &table = live ? m_presence : m_incoming;
    for (const PresenceEntry &e : entries) {
        if (!e.isOnline())
            table.remove(e.uid);
        else if (table.size() < MaxUids || table.contains(e.uid))
            table.insert(e.uid, e);
        else
            continue;
        if (live)
            Q_EMIT presenceChanged(e.uid);
    }
}

QList<Event> RemoteGatewaySource::unseen(const QList<Event> &snapshot) const
{
    if (m_recent.isEmpty())
        return snapshot;
    // After a re-sync the snapshot repeats what the log already has: show
    // only what follows the last event seen.
    const Event &last = m_recent.constLast();
    for (qsizetype i = snapshot.size() - 1; i >= 0; --i) {
        if (sameEvent(snapshot.at(i), last))
            return snapshot.mid(i + 1);
    }
    QList<Event> out;
    for (const Event &e : snapshot) {
        if (e.time > last.time)
            out.append(e);
    }
    return out;
}

void RemoteGatewaySource::deliver(QList<Event> events)
{
    if (events.isEmpty())
        return;
    m_recent.append(events);
    if (m_recent.size() > m_capacity)
        m_recent.remove(0, m_recent.size() - m_capacity);
    Q_EMIT eventsArrived(events);
}

ClusterState RemoteGatewaySource::cluster() const
{
    ClusterState c = m_gateway.cluster;
    if (c.enabled)
        c.nodeId = m_gateway.node;
    return c;
}

PresenceEntry RemoteGatewaySource::presence(const QByteArray &uid) const
{
    const auto it = m_presence.constFind(uid);
    if (it != m_presence.constEnd())
        return *it;
    PresenceEntry gone;
    gone.uid = uid;
    return gone;
}

bool RemoteGatewaySource::startListeners(QString *error)
{
    if (error)
        *error = tr("The listeners of a gateway the console is attached to are not the "
                    "console's to open.");
    return false;
}

QNetworkReply *RemoteGatewaySource::send(
    const QByteArray &verb, const QString &path, const QByteArray &body)
{
    QNetworkRequest request(m_target.apiUrl(path));
    if (!m_target.key.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_target.key);
    if (!body.isEmpty())
        request.setHeader(
            QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(RequestTimeoutMs);
    if (m_target.url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!m_target.caCertificates.isEmpty())
            ssl.addCaCertificates(m_target.caCertificates);
        request.setSslConfiguration(ssl);
    }
    return m_http.sendCustomRequest(request, verb, body);
}

void RemoteGatewaySource::whenDone(QNetworkReply *reply, QObject *context,
    std::function<void(int, const QByteArray &, const QString &)> handle)
{
    QPointer<QObject> guard(context);
    // A reply is read whole: a gateway that sends more than any answer of
    // its API can hold is cut off.
    connect(reply, &QNetworkReply::downloadProgress, reply, [reply](qint64 received, qint64) {
        if (received > MaxReplyBytes)
            reply->abort();
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, guard, handle] {
        reply->deleteLater();
        if (!guard)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body =
            reply->bytesAvailable() <= MaxReplyBytes ? reply->readAll() : QByteArray();
        QString error;
        if (status == 0)
            error =
                tr("the gateway at %1 cannot be reached: %2").arg(location(), reply->errorString());
        else if (status == 401 || status == 403)
            error = tr("the gateway refused the API key (HTTP %1)").arg(status);
        handle(status, body, error);
    });
}

void RemoteGatewaySource::requestSessions(
    const QByteArray &uid, QObject *context, SessionsHandler done)
{
    QNetworkReply *reply = send("GET",
        QStringLiteral("/api/uids/")
            + QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(uid))),
        {});
    whenDone(reply, context, [uid, done](int status, const QByteArray &body, const QString &) {
        QList<SessionInfo> sessions;
        if (status == 200) {
            const QJsonArray list = QJsonDocument::fromJson(body)
                                        .object()
                                        .value(QLatin1String("connections"))
                                        .toArray();
            for (const QJsonValue &v : list) {
                const QJsonObject c = v.toObject();
                SessionInfo s;
                s.id = quint64(qMax(0.0, c.value(QLatin1String("id")).toDouble()));
                s.uid = uid;
                s.peer = Event::clip(c.value(QLatin1String("peer")).toString());
                s.connectedAt = QDateTime::fromString(
                    c.value(QLatin1String("since")).toString(), Qt::ISODateWithMs)
                                    .toMSecsSinceEpoch();
                s.lastActivity = QDateTime::fromString(
                    c.value(QLatin1String("lastActivity")).toString(), Qt::ISODateWithMs)
                                     .toMSecsSinceEpoch();
                s.messagesIn = quint64(qMax(0.0, c.value(QLatin1String("messagesIn")).toDouble()));
                s.messagesOut =
                    quint64(qMax(0.0, c.value(QLatin1String("messagesOut")).toDouble()));
                s.bytesIn = quint64(qMax(0.0, c.value(QLatin1String("bytesIn")).toDouble()));
                s.bytesOut = quint64(qMax(0.0, c.value(QLatin1String("bytesOut")).toDouble()));
                sessions.append(s);
            }
        }
        done(sessions);
    });
}

void RemoteGatewaySource::push(const QByteArray &line, QObject *context, PushHandler done)
{
    QNetworkReply *reply = send("POST", QStringLiteral("/api/push"), line);
    whenDone(reply, context, [done](int status, const QByteArray &body, const QString &error) {
        const QJsonObject o = QJsonDocument::fromJson(body).object();
        PushResult r;
        switch (status) {
        case 200:
            r.status = PushStatus::Ok;
            r.delivered = o.value(QLatin1String("delivered")).toInt();
            break;
        case 202:
            r.status = PushStatus::Queued;
            r.stored = o.value(QLatin1String("stored")).toInt();
            break;
        case 404:
            r.status = PushStatus::Fail;
            break;
        case 503:
            r.status = PushStatus::Fail;
            r.storeFailed = true;
            break;
        default:
            r.status = PushStatus::Error;
            r.error = (!error.isEmpty()        ? error
                    : !errorOf(body).isEmpty() ? errorOf(body)
                                               : tr("the gateway answered HTTP %1").arg(status))
                          .toUtf8();
            break;
        }
        done(r);
    });
}

void RemoteGatewaySource::kick(const QByteArray &uid, QObject *context, KickHandler done)
{
    QNetworkReply *reply = send("DELETE",
        QStringLiteral("/api/uids/")
            + QString::fromLatin1(QUrl::toPercentEncoding(QString::fromUtf8(uid))),
        {});
    whenDone(reply, context, [done](int status, const QByteArray &body, const QString &error) {
        KickResult r;
        if (status == 200) {
            const QJsonObject o = QJsonDocument::fromJson(body).object();
            r.closed = qMax(0, o.value(QLatin1String("closed")).toInt());
            r.nodes = qMax(0, o.value(QLatin1String("nodes")).toInt());
        } else if (status == 404)
            r.closed = 0; // gone meanwhile: nothing to close
        else
            r.error = !error.isEmpty()     ? error
                : !errorOf(body).isEmpty() ? errorOf(body)
                                           : tr("the gateway answered HTTP %1").arg(status);
        done(r);
    });
}
