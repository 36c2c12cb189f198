#include "RemoteConsole.h"

#include "MainWindow.h"
#include "RemoteGatewaySource.h"

MainWindow *RemoteConsole::open(const AttachTarget &target)
{
    auto *source = new RemoteGatewaySource(target);
    auto *window = new MainWindow(source);
    source->setParent(window);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
    source->open();
    return window;
}
