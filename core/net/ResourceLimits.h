#pragma once

#include <QtGlobal>

namespace ResourceLimits {
struct OpenFiles
{
    quint64 before = 0;
    quint64 after = 0;
};
// Each client is a descriptor; the usual soft limit of 1024 would cap the
// gateway near the seed's select() limit. Raise it to the hard limit.
OpenFiles raiseOpenFileLimit();
} // namespace ResourceLimits
