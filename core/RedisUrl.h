#pragma once

#include <QByteArray>
#include <QString>

// Where the cluster's Redis is and how to log in:
//     redis://[[user]:password@]host[:port][/db]
// The password may be percent-encoded; an IPv6 host goes in brackets.
struct RedisUrl
{
    QString host;
    quint16 port = 6379;
    int db = 0;
    QByteArray user; // empty: AUTH with the password alone (Redis before 6, or "default")
    QByteArray password; // empty: no AUTH

    bool isValid() const { return !host.isEmpty(); }
    // For logs and the console: never shows the password.
    QString displayString() const;

    // Returns an invalid RedisUrl and sets *error (when given) to what is wrong.
    static RedisUrl parse(const QString &text, QString *error = nullptr);
};
