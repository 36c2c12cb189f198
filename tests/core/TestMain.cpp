#include "TestMain.h"

#include "EpollEventDispatcher.h"

void installTestEventDispatcher()
{
    // The same tests on the dispatcher the headless server uses.
    if (qgetenv("PUSHCONSOLE_TEST_EVENT_LOOP") == "epoll")
        QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
}
