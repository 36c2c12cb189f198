#pragma once

#include "PeerAddress.h"
#include "ProxyHeader.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <list>

class QSocketNotifier;

// With --proxy-protocol, connections from trusted proxies wait here for
// their PROXY header before they become WebSocket connections. Exactly the
// header's bytes are taken from the socket (looked at with MSG_PEEK first),
// so what follows it, the HTTP request or a TLS hello, stays in the kernel
// for whoever takes the descriptor over. Every waiting connection has a
// deadline and holds at most ProxyHeader::MaxSize bytes.
class ProxyIntake final : public QObject
{
    Q_OBJECT
public:
    enum class Outcome { Ok, Invalid, TimedOut, Closed };
    // With Ok the handler owns fd; otherwise fd was already reset and closed
    // and header.error (Invalid) or reason says why.
    using Handler = std::function<void(int fd, const PeerAddress &proxy, Outcome outcome,
        const ProxyHeader &header, const char *reason)>;

    static constexpr qint64 DefaultTimeoutMs = 5000;

    explicit ProxyIntake(Handler handler, QObject *parent = nullptr);
    ~ProxyIntake() override; // resets whatever still waits

    void setTimeout(qint64 ms) { m_timeoutMs = ms; }
    void add(int fd, const PeerAddress &proxy);
    int size() const { return int(m_pending.size()); }
    void clear(); // resets every waiting connection, without reports

private:
    struct Pending
    {
        int fd;
        PeerAddress proxy;
        qint64 deadline;
        QByteArray received; // header bytes taken while it was incomplete
        QSocketNotifier *notifier;
    };
    using Iterator = std::list<Pending>::iterator;

    void readable(Iterator it);
    void finish(Iterator it, Outcome outcome, const ProxyHeader &header, const char *reason);
    void expire();
    void scheduleExpiry();

    Handler m_handler;
    std::list<Pending> m_pending; // by deadline: the timeout is the same for all
    QTimer m_timer;
    qint64 m_timeoutMs = DefaultTimeoutMs;
};
