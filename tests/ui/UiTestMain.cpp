#include "UiTestMain.h"

#include <QAbstractItemView>
#include <QAbstractProxyModel>
#include <QDir>

void prepareUiTest()
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    // One directory per run, removed by the system's tmp cleaning; QSettings
    // reads XDG_CONFIG_HOME, so nothing of a real session leaks in.
    const QString dir = QDir::temp().filePath(
        QStringLiteral("pushconsole-uitest-%1").arg(QCoreApplication::applicationPid()));
    QDir().mkpath(dir);
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(dir));
}

std::vector<std::unique_ptr<QAbstractItemModelTester>> testWindowModels(QWidget *window)
{
    using Mode = QAbstractItemModelTester::FailureReportingMode;
    std::vector<std::unique_ptr<QAbstractItemModelTester>> testers;
    for (auto *view : window->findChildren<QAbstractItemView *>()) {
        testers.push_back(std::make_unique<QAbstractItemModelTester>(view->model(), Mode::QtTest));
        if (auto *proxy = qobject_cast<QAbstractProxyModel *>(view->model()))
            testers.push_back(
                std::make_unique<QAbstractItemModelTester>(proxy->sourceModel(), Mode::QtTest));
    }
    return testers;
}
