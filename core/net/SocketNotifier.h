#pragma once

#include <QSocketNotifier>

// Calls its socket directly instead of emitting activated(): one virtual
// call per wake-up, and no signal connection kept per socket.
class SocketNotifier final : public QSocketNotifier
{
public:
    // The socket (StreamSocket) the notifier wakes.
    class Target
    {
    public:
        virtual void notifierActivated(bool writable) = 0;

    protected:
        ~Target() = default;
    };

    SocketNotifier(qintptr fd, Type type, Target *target, QObject *parent);

protected:
    bool event(QEvent *e) override;

private:
    Target *m_target;
};
