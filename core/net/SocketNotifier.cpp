#include "SocketNotifier.h"

#include <QEvent>

SocketNotifier::SocketNotifier(qintptr fd, Type type, Target *target, QObject *parent)
    : QSocketNotifier(fd, type, parent)
    , m_target(target)
{ }

bool SocketNotifier::event(QEvent *e)
{
    if (e->type() == QEvent::SockAct) {
        m_target->notifierActivated(type() == QSocketNotifier::Write);
        return true;
    }
    return QSocketNotifier::event(e);
}
