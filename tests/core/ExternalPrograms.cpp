#include "ExternalPrograms.h"

#include <QHash>
#include <QStandardPaths>

namespace TestSupport {

bool isCi()
{
    return qEnvironmentVariable("PUSHCONSOLE_CI") == QLatin1String("1");
}

QString programPath(const QString &name)
{
    return QStandardPaths::findExecutable(name);
}

QString debianPackageOf(const QString &name)
{
    // The programs scripts/test.sh installs (TEST_PACKAGES), by package.
    static const QHash<QString, QString> packages = {
        {QStringLiteral("php"), QStringLiteral("php-cli")},
        {QStringLiteral("node"), QStringLiteral("nodejs")},
        {QStringLiteral("nodejs"), QStringLiteral("nodejs")},
        {QStringLiteral("clang++"), QStringLiteral("clang")},
        {QStringLiteral("prlimit"), QStringLiteral("util-linux")},
        {QStringLiteral("systemd-analyze"), QStringLiteral("systemd")},
    };
    return packages.value(name, name); // redis-server, chromium, curl, openssl, lintian
}

QByteArray missingProgram(const QString &name)
{
    return QStringLiteral("%1 is not installed (Debian package %2)")
        .arg(name, debianPackageOf(name))
        .toUtf8();
}

bool requireProgram(const QString &name, const char *file, int line)
{
    if (!programPath(name).isEmpty())
        return true;
    const QByteArray why = missingProgram(name);
    if (isCi())
        QTest::qFail((why + "; CI (PUSHCONSOLE_CI=1) must have it").constData(), file, line);
    else
        QTest::qSkip(why.constData(), file, line);
    return false;
}

} // namespace TestSupport
