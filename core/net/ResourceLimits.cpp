#include "ResourceLimits.h"

#include <sys/resource.h>

namespace ResourceLimits {

OpenFiles raiseOpenFileLimit()
{
    OpenFiles result;
    rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return result;
    result.before = result.after = limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
            result.after = limit.rlim_cur;
    }
    return result;
}

} // namespace ResourceLimits
