#include "RedisUrl.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QUrl>

QString RedisUrl::displayString() const
{
    const QString h =
        host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    QString s = QStringLiteral("redis://%1:%2").arg(h).arg(port);
    if (db != 0)
        s += QStringLiteral("/%1").arg(db);
    return s;
}

RedisUrl RedisUrl::parse(const QString &text, QString *error, PasswordSource source)
{
    const auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return RedisUrl();
    };
    const QString trimmed = text.trimmed();
    if (!trimmed.startsWith(QLatin1String("redis://"), Qt::CaseInsensitive))
        return fail(QCoreApplication::translate(
            "RedisUrl", "expected redis://[:password@]host[:port][/db]"));
    // QUrl in strict mode rejects stray characters rather than guessing.
    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return fail(QCoreApplication::translate(
            "RedisUrl", "expected redis://[:password@]host[:port][/db]"));
    if (url.hasQuery() || url.hasFragment())
        return fail(QCoreApplication::translate(
            "RedisUrl", "query and fragment are not supported in a Redis URL"));
    RedisUrl r;
    r.host = url.host();
    const int port = url.port(6379);
    if (port <= 0 || port > 65535)
        return fail(
            QCoreApplication::translate("RedisUrl", "expected a port number from 1 to 65535"));
    r.port = quint16(port);
    QString path = url.path();
    if (path.startsWith(QLatin1Char('/')))
        path.remove(0, 1);
    if (!path.isEmpty()) {
        bool ok = false;
        const int db = path.toInt(&ok);
        if (!ok || db < 0 || db > 1000000)
            return fail(QCoreApplication::translate(
                "RedisUrl", "expected a database number after the slash, such as /0 or /2"));
        r.db = db;
    }
    r.user = url.userName(QUrl::FullyDecoded).toUtf8();
    r.password = url.password(QUrl::FullyDecoded).toUtf8();
    if (source == PasswordSource::File) {
        // Two passwords: which one is meant cannot be guessed.
        if (!url.password().isNull())
            return fail(QCoreApplication::translate("RedisUrl",
                "the password comes from --redis-password-file: leave it out of the URL"));
        return r;
    }
    if (!r.user.isEmpty() && r.password.isEmpty())
        return fail(QCoreApplication::translate("RedisUrl",
            "a user name needs a password (redis://user:password@host, or "
            "--redis-password-file)"));
    return r;
}

QByteArray RedisUrl::readPasswordFile(const QString &path, QString *error)
{
    const auto fail = [&](const QString &why) {
        *error = why;
        return QByteArray();
    };
    // A password is short; a large file is the wrong file.
    constexpr qint64 MaxSize = 64 * 1024;
    const QFileInfo info(path);
    if (info.isDir())
        return fail(
            QCoreApplication::translate("RedisUrl", "the Redis password file \"%1\" is a directory")
                .arg(path));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QCoreApplication::translate(
            "RedisUrl", "cannot read the Redis password file \"%1\": %2")
                        .arg(path, file.errorString()));
    const QByteArray data = file.read(MaxSize + 1);
    if (data.size() > MaxSize)
        return fail(QCoreApplication::translate(
            "RedisUrl", "the Redis password file \"%1\" is larger than 64 KiB")
                        .arg(path));
    const QByteArray password = data.trimmed();
    if (password.isEmpty())
        return fail(
            QCoreApplication::translate("RedisUrl", "the Redis password file \"%1\" is empty")
                .arg(path));
    if (password.contains('\n') || password.contains('\r'))
        return fail(QCoreApplication::translate(
            "RedisUrl", "the Redis password file \"%1\" holds more than one line")
                        .arg(path));
    return password;
}
