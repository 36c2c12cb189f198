#pragma once

#include "AttachTarget.h"

class MainWindow;

// A console window attached to a gateway elsewhere: its RemoteGatewaySource
// belongs to the window and goes with it.
namespace RemoteConsole {
// Shows the window and starts attaching; it deletes itself when closed.
MainWindow *open(const AttachTarget &target);
} // namespace RemoteConsole
