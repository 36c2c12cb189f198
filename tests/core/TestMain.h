#pragma once

#include <QCoreApplication>
#include <QTest>

// Like QTEST_GUILESS_MAIN, with a hook to run the same tests on another
// event dispatcher (set before the application object exists).
void installTestEventDispatcher();

#define PUSHCONSOLE_TEST_MAIN(TestClass)                                                           \
    int main(int argc, char *argv[])                                                               \
    {                                                                                              \
        installTestEventDispatcher();                                                              \
        QCoreApplication app(argc, argv);                                                          \
        app.setAttribute(Qt::AA_Use96Dpi, true);                                                   \
        TestClass tc;                                                                              \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return QTest::qExec(&tc, argc, argv);                                                      \
    }
