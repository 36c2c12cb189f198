#pragma once

#include <QString>

#include <functional>
#include <memory>

class PushServer;
class QCoreApplication;
class QObject;

// What the console binary adds to the gateway: a window. The headless
// binary (pushgatewayd) has none, so it never links Qt Widgets; the console
// binary (pushconsole) runs headless too with --no-gui or without a display.
class ConsoleFrontend
{
public:
    virtual ~ConsoleFrontend() = default;
    // The GUI application object (it needs a display).
    virtual std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv) = 0;
    // Shows the console on server; closing it calls server shutdown through
    // onClosed. listenError is empty when the listeners are open.
    virtual std::unique_ptr<QObject> open(
        PushServer *server, const QString &listenError, std::function<void()> onClosed) = 0;
    // Options of the console's own, printed after the gateway's in --help.
    virtual QString helpAppendix() const { return {}; }
};

namespace GatewayApp {
// The whole program: options, translations, the gateway, signals, and the
// console when frontend is given and a display is there. Returns the exit
// status (0, 1 when a port cannot be opened, 2 for a bad option).
int run(int argc, char *argv[], ConsoleFrontend *frontend);
} // namespace GatewayApp
