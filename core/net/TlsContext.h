#pragma once

#include <QCoreApplication>
#include <QSslConfiguration>
#include <QStringList>

#include <memory>

// The server's certificate and key, checked once at start so that a wrong
// file is an error on the operator's terminal, not a handshake failure in
// every browser.
class TlsContext final
{
    Q_DECLARE_TR_FUNCTIONS(TlsContext)
public:
    // nullptr and error set when a file is missing, unreadable, not PEM, or
    // the key does not belong to the certificate.
    static std::unique_ptr<TlsContext> load(
        const QString &certificateFile, const QString &keyFile, QString *error);

    const QSslConfiguration &configuration() const { return m_configuration; }
    // Things worth a warning that do not stop the start (an expired certificate).
    const QStringList &warnings() const { return m_warnings; }
    QString subject() const;
    // SHA-256 of the certificate chain and the key: tells a renewed
    // certificate from the one loaded before.
    QByteArray fingerprint() const;
    // The TLS 1.2 cipher suites offered, in OpenSSL's names; TLS 1.3 keeps
    // OpenSSL's default suites.
    static QStringList cipherNames();

private:
    QSslConfiguration m_configuration;
    QStringList m_warnings;
};
