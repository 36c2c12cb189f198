#pragma once

#include <QString>

// pushconsole --attach URL: the console on a gateway elsewhere, and no
// gateway here. Its options are the console's own, not the gateway's, so
// they are not in the option table (core/server/OptionTable.cpp): no INI
// key, nothing in pushgatewayd, refused in the gateway's mode.
namespace AttachMode {
// argv names --attach: run() instead of the gateway.
bool requested(int argc, char *argv[]);
// Opens the console on the gateway given. Exit status 0, or 2 for a bad
// option, an unreadable key file or no display.
int run(int argc, char *argv[]);
// The options in --help, under the gateway's.
QString helpText();
} // namespace AttachMode
