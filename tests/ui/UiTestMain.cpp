#include "UiTestMain.h"

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
