#include "TlsContext.h"

#include <QCryptographicHash>

#include <QDateTime>
#include <QFile>
#include <QSslCertificate>
#include <QSslCipher>
#include <QSslKey>
#include <QSslSocket>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace {

bool readFile(const QString &path, QByteArray *data, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return false;
    }
    *data = file.readAll();
    return true;
}

// Qt cannot tell whether a key belongs to a certificate before a handshake;
// OpenSSL (which Qt's TLS backend uses anyway) can.
bool keyMatchesCertificate(const QByteArray &certificatePem, const QByteArray &keyPem)
{
    BIO *certBio = BIO_new_mem_buf(certificatePem.constData(), int(certificatePem.size()));
    BIO *keyBio = BIO_new_mem_buf(keyPem.constData(), int(keyPem.size()));
    X509 *cert = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    const bool match = cert && key && X509_check_private_key(cert, key) == 1;
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(keyBio);
    BIO_free(certBio);
    return match;
}

// Mozilla's "intermediate" server configuration for TLS 1.2: ECDHE key
// exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305 only; no CBC
// suites (SHA-1 MACs, padding oracles), no RSA key exchange, no DHE. Any
// browser of the last ten years has one of these. The certificate decides
// between the ECDSA and RSA halves.
constexpr const char *Tls12Ciphers[] = {
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
};

// Our TLS 1.2 list, in our order, as far as the OpenSSL in use knows it.
// No TLS 1.3 suite is in it, so Qt leaves OpenSSL's TLS 1.3 defaults alone
// (all of them AEAD with forward secrecy).
QList<QSslCipher> modernCiphers()
{
    const QList<QSslCipher> supported = QSslConfiguration::supportedCiphers();
    QList<QSslCipher> ciphers;
    for (const char *name : Tls12Ciphers) {
        for (const QSslCipher &cipher : supported) {
            if (cipher.name() == QLatin1String(name)) {
                ciphers.append(cipher);
                break;
            }
        }
    }
    return ciphers;
}

} // namespace

QStringList TlsContext::cipherNames()
{
    QStringList names;
    for (const char *name : Tls12Ciphers)
        names << QString::fromLatin1(name);
    return names;
}

std::unique_ptr<TlsContext> TlsContext::load(
    const QString &certificateFile, const QString &keyFile, QString *error)
{
    if (!QSslSocket::supportsSsl()) {
        *error = tr("TLS is not available (Qt's OpenSSL backend is missing)");
        return nullptr;
    }
    QByteArray certPem, keyPem;
    QString why;
    if (!readFile(certificateFile, &certPem, &why)) {
        *error = tr("cannot read certificate file \"%1\": %2").arg(certificateFile, why);
        return nullptr;
    }
    if (!readFile(keyFile, &keyPem, &why)) {
        *error = tr("cannot read key file \"%1\": %2").arg(keyFile, why);
        return nullptr;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certPem, QSsl::Pem);
    if (chain.isEmpty() || chain.front().isNull()) {
        *error = tr("\"%1\" holds no PEM certificate").arg(certificateFile);
        return nullptr;
    }
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        key = QSslKey(keyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (key.isNull()) {
        *error = tr("\"%1\" holds no unencrypted PEM private key").arg(keyFile);
        return nullptr;
    }
    if (!keyMatchesCertificate(certPem, keyPem)) {
        *error = tr("the key in \"%1\" does not belong to the certificate in \"%2\"")
                     .arg(keyFile, certificateFile);
        return nullptr;
    }

    auto context = std::unique_ptr<TlsContext>(new TlsContext);
    QSslConfiguration &c = context->m_configuration;
    c = QSslConfiguration::defaultConfiguration();
    c.setLocalCertificateChain(chain);
    c.setPrivateKey(key);
    c.setProtocol(QSsl::TlsV1_2OrLater);
    const QList<QSslCipher> ciphers = modernCiphers();
    if (ciphers.isEmpty()) {
        // An empty list would mean Qt's defaults, CBC suites included.
        *error = tr("the TLS library knows none of the ciphers %1")
                     .arg(cipherNames().join(QLatin1Char(':')));
        return nullptr;
    }
    c.setCiphers(ciphers);
    c.setPeerVerifyMode(QSslSocket::VerifyNone); // browsers do not present certificates
    const QDateTime expiry = chain.front().expiryDate();
    if (expiry < QDateTime::currentDateTimeUtc())
        context->m_warnings << tr("the certificate in \"%1\" expired on %2")
                                   .arg(certificateFile, expiry.toString(Qt::ISODate));
    return context;
}

QByteArray TlsContext::fingerprint() const
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const QSslCertificate &certificate : m_configuration.localCertificateChain())
        hash.addData(certificate.toDer());
    hash.addData(m_configuration.privateKey().toDer());
    return hash.result();
}

QString TlsContext::subject() const
{
    const QList<QSslCertificate> chain = m_configuration.localCertificateChain();
    if (chain.isEmpty())
        return {};
    return chain.front().subjectDisplayName();
}
