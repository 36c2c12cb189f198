#pragma once

#include "Events.h"
#include "PeerAddress.h"
#include "StreamSocket.h"

#include <QObject>

#include <deque>

struct Config;
struct Metrics;
class EventLog;
class PushRouter;

// One backend connection on the push port: lines in, one reply line per
// request out, in order. Replies to a batch of pipelined lines leave in one
// write.
//
// At most --max-pending-replies replies are outstanding at any time: the
// ones waiting for Redis, the ones queued behind those, and the ones the
// kernel has not taken yet. At the limit the connection handles no further
// line (what was read already waits, at most one read's worth) and is not
// read from until replies leave.
class TextConnection final : public QObject, private Transport::Handler
{
    Q_OBJECT
public:
    // What a connection needs from the server that accepted it.
    class Owner
    {
    public:
        virtual const Config &config() const = 0;
        virtual PushRouter *router() const = 0;
        virtual EventLog *eventLog() const = 0;
        virtual Metrics *metrics() const = 0;
        // A line looked like HTTP: counted and reported; the connection is gone.
        virtual void refusedHttp(TextConnection *c) = 0;
        // The connection is closed; the owner frees it (deleteLater).
        virtual void finished(TextConnection *c, const QString &reason) = 0;

    protected:
        ~Owner() = default;
    };

    TextConnection(int fd, const PeerAddress &peer, Owner *owner, QObject *parent);

    const PeerAddress &peer() const { return m_peer; }
    // Stop taking requests; the socket goes once the peer hangs up or the
    // close timeout passes.
    void closeGracefully();
    // Closes the connection when it has been silent (nothing pending) for
    // --text-idle-timeout, or a line stayed unfinished for
    // --text-line-timeout.
    void checkTimeouts(qint64 nowMs);

    // A browser's request line or header field: a web page reaching the
    // port must not get its body executed as a push.
    static bool looksLikeHttp(QByteArrayView line);

private:
    // Replies ready to be written in one go, in request order.
    struct Batch
    {
        QByteArray replies;
        int count = 0;
    };

    void socketReadable() override;
    void socketDrained() override;
    // Handles the complete lines in data and keeps an unfinished one; stops
    // early at the reply limit. Returns the bytes used.
    qint64 consume(const char *data, qint64 size, Batch *batch);
    void handleLine(QByteArray line, Batch *batch);
    // Appends a reply in request order: to the batch, or behind a reply
    // that is still pending.
    void reply(const QByteArray &text, Batch *batch);
    void answered(quint64 request, const QByteArray &text);
    // Writes the replies at the front of m_waiting that are answered.
    void sendReady();
    void lineTooLong(Batch *batch);
    void refuseHttp();
    void send(Batch *batch);
    qsizetype outstanding(const Batch *batch) const;
    void pause();
    // Handles what was read while paused, then reads again (or finishes, when
    // the peer has hung up) once replies left.
    void resume();
    void peerHungUp();
    void finishWhenAnswered();
    void finish(const QString &reason);
    void logClose(bool warning, const Events::Why &reason);

    StreamSocket m_socket;
    Owner *m_server;
    QByteArray m_in; // a line still missing its end
    // Read but not handled yet: the connection reached the reply limit
    // mid-read (at most one read's worth). Handled from m_heldPos on.
    QByteArray m_held;
    qsizetype m_heldPos = 0;
    QString m_peerString;
    int m_queuedReplies = 0; // replies the kernel has not taken yet (about)
    // Replies that wait for an earlier one still pending (a push whose
    // answer depends on Redis), oldest first; a null entry is unanswered.
    std::deque<QByteArray> m_waiting;
    quint64 m_waitingBase = 0; // request number of m_waiting.front()
    quint64 m_nextRequest = 0;
    qint64 m_openedMs = 0;
    qint64 m_lastActivityMs = 0; // bytes in, or our replies taken by the peer
    qint64 m_lineStartedMs = 0; // when m_in's line began; 0 without one
    PeerAddress m_peer;
    bool m_paused = false; // at the reply limit: not read from
    bool m_busy = false; // handling lines: answers wait for the batch
    bool m_peerHungUp = false; // end of stream seen: only replies are left
    bool m_lingering = false; // a bounded wait for the last replies to leave
    bool m_closing = false;
    bool m_finished = false;
};
