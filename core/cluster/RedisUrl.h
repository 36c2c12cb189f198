#pragma once

#include <QByteArray>
#include <QString>

// Where the cluster's Redis is and how to log in:
//     redis://[[user]:password@]host[:port][/db]
// The password may be percent-encoded; an IPv6 host goes in brackets. It may
// come from a file instead (--redis-password-file), so that it is not on
// the command line for every user to see in ps.
struct RedisUrl
{
    enum class PasswordSource : quint8 {
        Url, // in the URL, or none
        File, // from a file: never in the URL; a user name alone is fine
    };

    QString host;
    quint16 port = 6379;
    int db = 0;
    QByteArray user; // empty: AUTH with the password alone (Redis before 6, or "default")
    QByteArray password; // empty: no AUTH

    bool isValid() const { return !host.isEmpty(); }
    // For logs and the console: never shows the password.
    QString displayString() const;

    // Returns an invalid RedisUrl and sets *error (when given) to what is wrong.
    static RedisUrl parse(
        const QString &text, QString *error = nullptr, PasswordSource source = PasswordSource::Url);
    // The password in path, surrounding white space trimmed. Empty, with
    // *error naming the file, when it is missing, unreadable, empty or not
    // one line.
    static QByteArray readPasswordFile(const QString &path, QString *error);
};
