#include "AttachMode.h"
#include "GatewayApp.h"
#include "LocalGatewaySource.h"
#include "MainWindow.h"

#include <QApplication>

namespace {

class WindowFrontend final : public ConsoleFrontend
{
public:
    std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv) override
    {
        return std::make_unique<QApplication>(argc, argv);
    }

    std::unique_ptr<QObject> open(
        PushServer *server, const QString &listenError, std::function<void()> onClosed) override
    {
        auto *source = new LocalGatewaySource(server);
        auto window = std::make_unique<MainWindow>(source, source);
        source->setParent(window.get()); // goes with the window, before the server
        if (!listenError.isEmpty())
            window->reportListenError(listenError);
        window->show();
        QApplication::setQuitOnLastWindowClosed(false);
        QObject::connect(window.get(), &MainWindow::closed, window.get(), std::move(onClosed));
        return window;
    }

    QString helpAppendix() const override { return AttachMode::helpText(); }
};

} // namespace

// pushconsole: the operator console, or the gateway headless with --no-gui,
// or (--attach) the console on a gateway elsewhere.
int main(int argc, char *argv[])
{
    if (AttachMode::requested(argc, argv))
        return AttachMode::run(argc, argv);
    WindowFrontend frontend;
    return GatewayApp::run(argc, argv, &frontend);
}
