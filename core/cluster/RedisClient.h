#pragma once

#include "RedisUrl.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>
#include <initializer_list>

struct redisAsyncContext;
struct redisReply;

// A Redis reply as a value, so handlers never touch hiredis's structures
// (they are freed as soon as the handler returns).
struct RedisReply
{
    enum class Type : quint8 { Nil, Status, Error, Integer, String, Array, Disconnected };

    Type type = Type::Disconnected;
    qint64 integer = 0;
    QByteArray string; // Status, Error and String
    QList<RedisReply> elements; // Array

    bool isError() const { return type == Type::Error || type == Type::Disconnected; }
    bool isDisconnected() const { return type == Type::Disconnected; }
    // What went wrong, for logs; empty when this is not an error.
    QString errorString() const;

    static RedisReply from(const redisReply *reply);
};

// One asynchronous connection to Redis (hiredis) driven by the Qt event
// loop: it connects, logs in (AUTH, SELECT) and keeps reconnecting with
// exponential backoff and jitter until stop(). hiredis 0.14 has no timeouts
// of its own, so connecting and every command are bounded here; a command
// that outlives its timeout takes the connection down, since a reply stream
// that is stuck for one command is stuck for all that follow.
//
// Handlers run inside hiredis's read callback: they may send commands but
// must never destroy the client.
class RedisClient final : public QObject
{
    Q_OBJECT
public:
    using ReplyHandler = std::function<void(const RedisReply &reply)>;
    using MessageHandler =
        std::function<void(const QByteArray &channel, const QByteArray &message)>;

    struct Options
    {
        RedisUrl url;
        int connectTimeoutMs = 3000;
        int commandTimeoutMs = 3000;
        int minBackoffMs = 100;
        int maxBackoffMs = 5000;
        QByteArray clientName; // CLIENT SETNAME, to tell connections apart in CLIENT LIST
    };

    explicit RedisClient(const Options &options, QObject *parent = nullptr);
    ~RedisClient() override;

    const Options &options() const { return m_options; }
    // Starts connecting; from then on the client reconnects by itself.
    void start();
    // Drops the connection and stays disconnected; pending handlers get a
    // Disconnected reply.
    void stop();
    bool isReady() const { return m_state == State::Ready; }
    QString lastError() const { return m_lastError; }
    // Commands sent and not answered yet.
    int pendingCount() const { return int(m_sentAt.size()); }

    // Sends a command when ready and returns true; returns false (and never
    // calls handler) when not connected. Replies arrive in order.
    bool command(std::initializer_list<QByteArrayView> args, ReplyHandler handler = {});
    bool command(const QList<QByteArray> &args, ReplyHandler handler = {});

    // Subscribed connections only take (UN)SUBSCRIBE: use a client of its
    // own. Subscriptions end with the connection; subscribe again on ready().
    bool subscribe(const QList<QByteArray> &channels);
    void setMessageHandler(MessageHandler handler) { m_onMessage = std::move(handler); }

    // For an owner that found the link dead by other means (no heartbeat
    // echo): drop the connection and reconnect after the backoff.
    void reconnect(const QString &reason);
    // Writes what is queued now instead of on the next loop iteration
    // (non-blocking: what the socket does not take waits as usual). For a
    // last command before the process exits.
    void flush();

Q_SIGNALS:
    // Connected, logged in, database selected: commands can go.
    void ready();
    // A ready connection was lost (reason says why); reconnecting follows.
    void connectionLost(const QString &reason);
    // An attempt failed before the connection was ready.
    void connectFailed(const QString &reason);
    // Redis confirmed a subscription: messages on channel arrive from now on.
    void subscribed(const QByteArray &channel);

private:
    enum class State : quint8 { Stopped, Resolving, Connecting, LoggingIn, Ready, Waiting };
    struct Adapter;
    struct Pending;

    void connectTo(const QString &address);
    void attach(redisAsyncContext *ctx);
    void logIn();
    void fail(const QString &reason);
    void drop(const QString &reason);
    void scheduleReconnect();
    void checkTimeouts();
    bool send(int argc, const char **argv, const size_t *lengths, ReplyHandler handler);

    static void onConnect(const redisAsyncContext *ctx, int status);
    static void onDisconnect(const redisAsyncContext *ctx, int status);
    static void onReply(redisAsyncContext *ctx, void *reply, void *privdata);
    static void onMessage(redisAsyncContext *ctx, void *reply, void *privdata);
    static void addRead(void *data);
    static void delRead(void *data);
    static void addWrite(void *data);
    static void delWrite(void *data);
    static void cleanup(void *data);

    Options m_options;
    redisAsyncContext *m_ctx = nullptr;
    Adapter *m_adapter = nullptr;
    State m_state = State::Stopped;
    std::deque<qint64> m_sentAt; // monotonic ms of each unanswered command, oldest first
    qint64 m_attemptStartedMs = 0;
    int m_backoffMs = 0;
    int m_lookupId = -1;
    QTimer m_retryTimer;
    QTimer m_watchdog;
    QString m_lastError;
    MessageHandler m_onMessage;
};
