#pragma once

#include <QCoreApplication>
#include <QList>
#include <QMetaType>
#include <QSslCertificate>
#include <QString>
#include <QUrl>

// A gateway to attach the console to: its HTTP API's URL, the API key read
// from a file, and extra CA certificates for https. Only the file paths are
// ever remembered; the key lives in memory.
class AttachTarget final
{
    Q_DECLARE_TR_FUNCTIONS(AttachTarget)
public:
    QUrl url; // http(s)://HOST:PORT, nothing after
    QString keyFile;
    QString caFile;
    QByteArray key; // empty: the gateway asks for none
    QList<QSslCertificate> caCertificates;

    // Checks the URL, reads the key and the certificates. On failure
    // returns false and says why in *error (translated), naming the file.
    static bool load(const QString &url, const QString &keyFile, const QString &caFile,
        AttachTarget *target, QString *error);

    // The URL as the operator sees it, "https://gw.example:2121".
    QString display() const;
    // The admin stream, ws:// or wss://.
    QUrl streamUrl() const;
    // An endpoint of the HTTP API; path starts with "/api/".
    QUrl apiUrl(const QString &path) const;
};

Q_DECLARE_METATYPE(AttachTarget)
