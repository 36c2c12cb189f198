#include "UiTestMain.h"

#include <QAbstractItemView>
#include <QAbstractProxyModel>
#include <QDir>

void prepareUiTest()
{
    // One directory per run, removed by the system's tmp cleaning; QSettings
    // reads XDG_CONFIG_HOME, so nothing of a real session leaks in.
    const QString dir = QDir::temp().filePath(
        QStringLiteral("pushconsole-uitest-%1").arg(QCoreApplication::applicationPid()));
    QDir().mkpath(dir);
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(dir));
    // The offscreen platform's screen is 800×800 unless told otherwise; the
    // console keeps its window within the screen, so give it a desktop's.
    const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
    if (platform.isEmpty() || platform == "offscreen") {
        const QString config = dir + QStringLiteral("/offscreen.json");
        QFile file(config);
        if (file.open(QIODevice::WriteOnly))
            file.write(R"({"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920,)"
                       R"( "height": 1200, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]})");
        qputenv("QT_QPA_PLATFORM", "offscreen:configfile=" + QFile::encodeName(config));
    }
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
