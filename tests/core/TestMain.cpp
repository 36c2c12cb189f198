#include "TestMain.h"

void installTestEventDispatcher()
{
    // Qt's default dispatcher; the epoll one is selected here once it exists.
}
