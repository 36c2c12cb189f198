#pragma once

#include <QSocketNotifier>

class StreamSocket;

// Calls its socket directly instead of emitting activated(): one virtual
// call per wake-up, and no signal connection kept per socket.
class SocketNotifier final : public QSocketNotifier
{
public:
    SocketNotifier(qintptr fd, Type type, StreamSocket *socket, QObject *parent);

protected:
    bool event(QEvent *e) override;

private:
    StreamSocket *m_socket;
};
