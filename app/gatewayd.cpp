#include "GatewayApp.h"

// pushgatewayd: the gateway alone, always headless. Built from the same
// sources as pushconsole without the console, so a server needs neither Qt
// Widgets nor the X11 libraries.
int main(int argc, char *argv[])
{
    return GatewayApp::run(argc, argv, nullptr);
}
