#include "RedisUrl.h"

#include <QCoreApplication>
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

RedisUrl RedisUrl::parse(const QString &text, QString *error)
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
    if (!r.user.isEmpty() && r.password.isEmpty())
        return fail(QCoreApplication::translate(
            "RedisUrl", "a user name needs a password (redis://user:password@host)"));
    return r;
}
