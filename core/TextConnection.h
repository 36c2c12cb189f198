#pragma once

#include "PeerAddress.h"
#include "StreamSocket.h"

#include <QObject>

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
    void lineTooLong(QByteArray *replies, int *count);
    void send(const QByteArray &replies, int count);
    void finish(const QString &reason);

    StreamSocket m_socket;
    TextPushServer *m_server;
    QByteArray m_in; // a line still missing its end
    QString m_peerString;
    int m_queuedReplies = 0; // replies the kernel has not taken yet (about)
    PeerAddress m_peer;
    bool m_closing = false;
    bool m_finished = false;
};
