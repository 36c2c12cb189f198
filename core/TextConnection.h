#pragma once

#include "PeerAddress.h"
#include "StreamSocket.h"

#include <QObject>

#include <deque>

class TextPushServer;

// One backend connection on the push port: lines in, one reply line per
// request out, in order. Replies to a batch of pipelined lines leave in one
// write.
class TextConnection final : public QObject, private Transport::Handler
{
    Q_OBJECT
public:
    TextConnection(int fd, const PeerAddress &peer, TextPushServer *server);

    const PeerAddress &peer() const { return m_peer; }
    // Stop taking requests; the socket goes once the peer hangs up or the
    // close timeout passes.
    void closeGracefully();

private:
    void socketReadable() override;
    void socketDrained() override;
    void consume(const char *data, qint64 size, QByteArray *replies, int *count);
    void handleLine(QByteArray line, QByteArray *replies);
    // Appends a reply in request order: to the batch being written, or
    // behind a reply that is still pending.
    void reply(const QByteArray &text, QByteArray *replies);
    void answered(quint64 sequence, const QByteArray &text);
    void lineTooLong(QByteArray *replies, int *count);
    void send(const QByteArray &replies, int count);
    void updateReading();
    void finish(const QString &reason);

    StreamSocket m_socket;
    TextPushServer *m_server;
    QByteArray m_in; // a line still missing its end
    QString m_peerString;
    int m_queuedReplies = 0; // replies the kernel has not taken yet (about)
    // Replies that wait for an earlier one still pending (a push whose
    // answer depends on Redis), oldest first; a null entry is unanswered.
    std::deque<QByteArray> m_waiting;
    quint64 m_waitingBase = 0; // request number of m_waiting.front()
    quint64 m_nextRequest = 0;
    PeerAddress m_peer;
    bool m_closing = false;
    bool m_finished = false;
};
