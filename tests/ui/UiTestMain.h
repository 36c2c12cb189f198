#pragma once

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QTest>

#include <memory>
#include <vector>

class QWidget;

// Prepares a console test run: offscreen platform unless told otherwise,
// and a throw-away settings directory so tests never read or write the
// operator's saved window layout and push history.
void prepareUiTest();

// A tester on every model the window's views show, and on the source of
// each proxy among them: the models are checked while the test drives the
// window. Keep them until the window goes.
std::vector<std::unique_ptr<QAbstractItemModelTester>> testWindowModels(QWidget *window);

#define PUSHCONSOLE_UI_TEST_MAIN(TestClass)                                                        \
    int main(int argc, char *argv[])                                                               \
    {                                                                                              \
        prepareUiTest();                                                                           \
        QApplication app(argc, argv);                                                              \
        app.setAttribute(Qt::AA_Use96Dpi, true);                                                   \
        QCoreApplication::setOrganizationName(QStringLiteral("pushconsole-tests"));                \
        QCoreApplication::setApplicationName(QStringLiteral(#TestClass));                          \
        TestClass tc;                                                                              \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return QTest::qExec(&tc, argc, argv);                                                      \
    }
