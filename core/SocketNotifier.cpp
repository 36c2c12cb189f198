#include "SocketNotifier.h"

#include "StreamSocket.h"

#include <QEvent>

SocketNotifier::SocketNotifier(qintptr fd, Type type, StreamSocket *socket, QObject *parent)
    : QSocketNotifier(fd, type, parent)
    , m_socket(socket)
{ }

bool SocketNotifier::event(QEvent *e)
{
    if (e->type() == QEvent::SockAct) {
        m_socket->notifierActivated(type() == QSocketNotifier::Write);
        return true;
    }
    return QSocketNotifier::event(e);
}
