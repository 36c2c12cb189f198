#include "RedisClient.h"

#include "Logging.h"
#include "MonotonicClock.h"

#include <QHostAddress>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QVarLengthArray>

#include <cstring>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

// hiredis asks for read and write interest through these hooks; the
// adapter of hiredis itself (adapters/qt.h) cannot be used with Qt 6 (it
// connects to the removed activated(int) signal by name) nor with
// QT_NO_KEYWORDS. Each context gets its own adapter, so a context that
// hiredis frees late cannot reach the notifiers of the next one.
struct RedisClient::Adapter
{
    RedisClient *client = nullptr;
    redisAsyncContext *ctx = nullptr;
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;
};

// What a command's callback needs; freed once the reply (or the
// disconnection) has been handled.
struct RedisClient::Pending
{
    RedisClient *client = nullptr;
    RedisClient::ReplyHandler handler;
};

QString RedisReply::errorString() const
{
    if (type == Type::Disconnected)
        return QStringLiteral("disconnected");
    if (type == Type::Error)
        return QString::fromUtf8(string);
    return {};
}

RedisReply RedisReply::from(const redisReply *r)
{
    RedisReply out;
    if (!r)
        return out;
    switch (r->type) {
    case REDIS_REPLY_NIL:
        out.type = Type::Nil;
        break;
    case REDIS_REPLY_STATUS:
        out.type = Type::Status;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        out.type = Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        out.type = Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = Type::String;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = Type::Array;
        out.elements.reserve(qsizetype(r->elements));
        for (size_t i = 0; i < r->elements; ++i)
            out.elements.append(from(r->element[i]));
        break;
    default:
        out.type = Type::Error;
        out.string = QByteArrayLiteral("unexpected reply type");
        break;
    }
    return out;
}

RedisClient::RedisClient(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_state != State::Waiting)
            return;
        m_attemptStartedMs = MonotonicClock::nowMs();
        QHostAddress literal;
        if (literal.setAddress(m_options.url.host)) {
            connectTo(literal.toString());
            return;
        }
        // hiredis would resolve the name with a blocking getaddrinfo().
        m_state = State::Resolving;
        m_lookupId = QHostInfo::lookupHost(m_options.url.host, this, [this](const QHostInfo &info) {
            m_lookupId = -1;
            if (m_state != State::Resolving)
                return;
            if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
                fail(tr("cannot resolve %1: %2").arg(m_options.url.host, info.errorString()));
                return;
            }
            connectTo(info.addresses().constFirst().toString());
        });
    });
    m_watchdog.setInterval(250);
    connect(&m_watchdog, &QTimer::timeout, this, &RedisClient::checkTimeouts);
}

RedisClient::~RedisClient()
{
    stop();
}

void RedisClient::start()
{
    if (m_state != State::Stopped)
        return;
    m_state = State::Waiting;
    m_backoffMs = 0;
    m_retryTimer.start(0);
    m_watchdog.start();
}

void RedisClient::stop()
{
    m_state = State::Stopped;
    m_retryTimer.stop();
    m_watchdog.stop();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    if (redisAsyncContext *ctx = std::exchange(m_ctx, nullptr))
        redisAsyncFree(ctx); // pending handlers get Disconnected
    m_sentAt.clear();
}

void RedisClient::connectTo(const QString &address)
{
    m_state = State::Connecting;
    redisAsyncContext *ctx =
        redisAsyncConnect(address.toLatin1().constData(), int(m_options.url.port));
    if (!ctx) {
        fail(tr("out of memory"));
        return;
    }
    if (ctx->err) {
        const QString why = QString::fromLocal8Bit(ctx->errstr);
        redisAsyncFree(ctx);
        fail(why);
        return;
    }
    attach(ctx);
    // A dead peer must not hold the link for the kernel's default two hours.
    redisEnableKeepAlive(&ctx->c);
    m_ctx = ctx;
    // hiredis reports the connection on its first write: log in at once.
    logIn();
}

void RedisClient::attach(redisAsyncContext *ctx)
{
    auto *a = new Adapter;
    a->client = this;
    a->ctx = ctx;
    a->read = new QSocketNotifier(ctx->c.fd, QSocketNotifier::Read, this);
    a->write = new QSocketNotifier(ctx->c.fd, QSocketNotifier::Write, this);
    a->read->setEnabled(false);
    a->write->setEnabled(false);
    connect(a->read, &QSocketNotifier::activated, this, [this, a] {
        if (m_adapter == a)
            redisAsyncHandleRead(a->ctx);
    });
    connect(a->write, &QSocketNotifier::activated, this, [this, a] {
        if (m_adapter == a)
            redisAsyncHandleWrite(a->ctx);
    });
    m_adapter = a;
    ctx->data = this;
    ctx->ev.data = a;
    ctx->ev.addRead = &RedisClient::addRead;
    ctx->ev.delRead = &RedisClient::delRead;
    ctx->ev.addWrite = &RedisClient::addWrite;
    ctx->ev.delWrite = &RedisClient::delWrite;
    ctx->ev.cleanup = &RedisClient::cleanup;
    redisAsyncSetConnectCallback(ctx, &RedisClient::onConnect);
    redisAsyncSetDisconnectCallback(ctx, &RedisClient::onDisconnect);
}

void RedisClient::logIn()
{
    m_state = State::LoggingIn;
    const auto step = [this](const char *what) {
        return [this, what](const RedisReply &reply) {
            if (m_state != State::LoggingIn || !reply.isError())
                return;
            drop(QStringLiteral("%1: %2").arg(QLatin1String(what), reply.errorString()));
        };
    };
    const RedisUrl &url = m_options.url;
    if (!url.password.isEmpty()) {
        if (url.user.isEmpty())
            command({"AUTH", url.password}, step("AUTH"));
        else
            command({"AUTH", url.user, url.password}, step("AUTH"));
    }
    if (url.db != 0)
        command({"SELECT", QByteArray::number(url.db)}, step("SELECT"));
    if (!m_options.clientName.isEmpty())
        command({"CLIENT", "SETNAME", m_options.clientName}, [](const RedisReply &) {});
    command({"PING"}, [this](const RedisReply &reply) {
        if (m_state != State::LoggingIn)
            return;
        if (reply.isError()) {
            drop(QStringLiteral("PING: %1").arg(reply.errorString()));
            return;
        }
        m_state = State::Ready;
        m_backoffMs = 0;
        m_lastError.clear();
        qCDebug(lcCluster) << "redis ready" << m_options.url.displayString()
                           << m_options.clientName;
        Q_EMIT ready();
    });
}

bool RedisClient::command(std::initializer_list<QByteArrayView> args, ReplyHandler handler)
{
    QVarLengthArray<const char *, 8> argv;
    QVarLengthArray<size_t, 8> lengths;
    for (const QByteArrayView &a : args) {
        argv.append(a.data() ? a.data() : "");
        lengths.append(size_t(a.size()));
    }
    return send(int(argv.size()), argv.data(), lengths.data(), std::move(handler));
}

bool RedisClient::command(const QList<QByteArray> &args, ReplyHandler handler)
{
    QVarLengthArray<const char *, 8> argv;
    QVarLengthArray<size_t, 8> lengths;
    for (const QByteArray &a : args) {
        argv.append(a.constData());
        lengths.append(size_t(a.size()));
    }
    return send(int(argv.size()), argv.data(), lengths.data(), std::move(handler));
}

bool RedisClient::send(int argc, const char **argv, const size_t *lengths, ReplyHandler handler)
{
    // Logging in uses the connection before it counts as ready.
    if (!m_ctx || (m_state != State::Ready && m_state != State::LoggingIn))
        return false;
    auto *p = new Pending {this, std::move(handler)};
    if (redisAsyncCommandArgv(m_ctx, &RedisClient::onReply, p, argc, argv, lengths) != REDIS_OK) {
        delete p;
        return false;
    }
    m_sentAt.push_back(MonotonicClock::nowMs());
    return true;
}

bool RedisClient::subscribe(const QList<QByteArray> &channels)
{
    if (!m_ctx || m_state != State::Ready || channels.isEmpty())
        return false;
    QVarLengthArray<const char *, 8> argv;
    QVarLengthArray<size_t, 8> lengths;
    argv.append("SUBSCRIBE");
    lengths.append(9);
    for (const QByteArray &c : channels) {
        argv.append(c.constData());
        lengths.append(size_t(c.size()));
    }
    // The callback stays registered per channel for the connection's life:
    // its data is the client itself, nothing to free.
    return redisAsyncCommandArgv(
               m_ctx, &RedisClient::onMessage, this, int(argv.size()), argv.data(), lengths.data())
        == REDIS_OK;
}

void RedisClient::reconnect(const QString &reason)
{
    if (m_state == State::Stopped || m_state == State::Waiting)
        return;
    drop(reason);
}

void RedisClient::flush()
{
    if (m_ctx && m_state == State::Ready)
        redisAsyncHandleWrite(m_ctx);
}

void RedisClient::drop(const QString &reason)
{
    const bool wasReady = m_state == State::Ready;
    m_lastError = reason;
    // Waiting before the free: the handlers it runs see a client that is
    // no longer ready and send nothing.
    m_state = State::Waiting;
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    if (redisAsyncContext *ctx = std::exchange(m_ctx, nullptr))
        redisAsyncFree(ctx); // deferred by hiredis when inside one of its callbacks
    m_sentAt.clear();
    scheduleReconnect();
    if (wasReady)
        Q_EMIT connectionLost(reason);
    else
        Q_EMIT connectFailed(reason);
}

void RedisClient::fail(const QString &reason)
{
    drop(reason);
}

void RedisClient::scheduleReconnect()
{
    // Exponential backoff with jitter, so that nodes that lost Redis together
    // do not all come back in the same millisecond.
    m_backoffMs =
        m_backoffMs == 0 ? m_options.minBackoffMs : qMin(m_backoffMs * 2, m_options.maxBackoffMs);
    const int half = qMax(1, m_backoffMs / 2);
    const int delay = half + int(QRandomGenerator::global()->bounded(half + 1));
    m_retryTimer.start(delay);
}

void RedisClient::checkTimeouts()
{
    const qint64 now = MonotonicClock::nowMs();
    switch (m_state) {
    case State::Resolving:
    case State::Connecting:
    case State::LoggingIn:
        if (now - m_attemptStartedMs > m_options.connectTimeoutMs)
            drop(tr("connect timeout (%1 ms)").arg(m_options.connectTimeoutMs));
        break;
    case State::Ready:
        if (!m_sentAt.empty() && now - m_sentAt.front() > m_options.commandTimeoutMs)
            drop(tr("no reply for %1 ms").arg(now - m_sentAt.front()));
        break;
    case State::Stopped:
    case State::Waiting:
        break;
    }
}

void RedisClient::onConnect(const redisAsyncContext *ctx, int status)
{
    auto *self = static_cast<RedisClient *>(ctx->data);
    if (status == REDIS_OK || self->m_ctx != ctx)
        return;
    // hiredis frees the context after this callback.
    self->m_ctx = nullptr;
    self->drop(QString::fromLocal8Bit(ctx->errstr));
}

void RedisClient::onDisconnect(const redisAsyncContext *ctx, int status)
{
    Q_UNUSED(status);
    auto *self = static_cast<RedisClient *>(ctx->data);
    if (self->m_ctx != ctx)
        return; // freed by us; we know already
    self->m_ctx = nullptr;
    const QString why = ctx->err ? QString::fromLocal8Bit(ctx->errstr)
                                 : QStringLiteral("connection closed by the server");
    self->drop(why);
}

void RedisClient::onReply(redisAsyncContext *ctx, void *reply, void *privdata)
{
    Q_UNUSED(ctx);
    auto *p = static_cast<Pending *>(privdata);
    RedisClient *self = p->client;
    if (!self->m_sentAt.empty())
        self->m_sentAt.pop_front();
    if (p->handler)
        p->handler(RedisReply::from(static_cast<redisReply *>(reply)));
    delete p;
}

void RedisClient::onMessage(redisAsyncContext *ctx, void *reply, void *privdata)
{
    Q_UNUSED(ctx);
    auto *self = static_cast<RedisClient *>(privdata);
    const auto *r = static_cast<const redisReply *>(reply);
    // ["message", channel, payload] or ["subscribe", channel, count].
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return;
    const redisReply *kind = r->element[0];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    if (kind->len == 9 && std::memcmp(kind->str, "subscribe", 9) == 0) {
        Q_EMIT self->subscribed(QByteArray(r->element[1]->str, qsizetype(r->element[1]->len)));
        return;
    }
    if (kind->len != 7 || std::memcmp(kind->str, "message", 7) != 0 || !self->m_onMessage)
        return;
    const QByteArray channel(r->element[1]->str, qsizetype(r->element[1]->len));
    const QByteArray message(r->element[2]->str, qsizetype(r->element[2]->len));
    self->m_onMessage(channel, message);
}

void RedisClient::addRead(void *data)
{
    static_cast<Adapter *>(data)->read->setEnabled(true);
}

void RedisClient::delRead(void *data)
{
    static_cast<Adapter *>(data)->read->setEnabled(false);
}

void RedisClient::addWrite(void *data)
{
    static_cast<Adapter *>(data)->write->setEnabled(true);
}

void RedisClient::delWrite(void *data)
{
    static_cast<Adapter *>(data)->write->setEnabled(false);
}

void RedisClient::cleanup(void *data)
{
    auto *a = static_cast<Adapter *>(data);
    // Possibly called from inside one of these notifiers' own handlers.
    a->read->setEnabled(false);
    a->write->setEnabled(false);
    a->read->deleteLater();
    a->write->deleteLater();
    if (a->client->m_adapter == a)
        a->client->m_adapter = nullptr;
    delete a;
}
