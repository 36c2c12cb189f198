#include "AttachTarget.h"

#include <QFile>

namespace {
// An API key is one short line; a larger file is the wrong file.
constexpr qint64 MaxKeyFile = 4096;
constexpr qint64 MaxCaFile = 4 * 1024 * 1024;
} // namespace

bool AttachTarget::load(const QString &urlText, const QString &keyFile, const QString &caFile,
    AttachTarget *target, QString *error)
{
    AttachTarget t;
    const QUrl url = QUrl::fromUserInput(urlText.trimmed());
    const QString scheme = url.scheme().toLower();
    if (urlText.trimmed().isEmpty() || !url.isValid() || url.host().isEmpty()
        || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))) {
        *error = tr("\"%1\" is not a gateway address: give http://HOST:PORT or https://HOST:PORT")
                     .arg(urlText);
        return false;
    }
    if (!url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment()
        || (!url.path().isEmpty() && url.path() != QLatin1String("/"))) {
        *error = tr("\"%1\": give only the scheme, host and port of the gateway's HTTP API")
                     .arg(urlText);
        return false;
    }
    t.url.setScheme(scheme);
    t.url.setHost(url.host());
    // The HTTP API's default port, not the scheme's: no gateway listens on 80.
    t.url.setPort(url.port(2121));

    t.keyFile = keyFile;
    if (!keyFile.isEmpty()) {
        QFile file(keyFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = tr("cannot read the API key file \"%1\": %2").arg(keyFile, file.errorString());
            return false;
        }
        if (file.size() > MaxKeyFile) {
            *error = tr("the API key file \"%1\" is too large to hold a key").arg(keyFile);
            return false;
        }
        // As the gateway reads it: one line, surrounding white space ignored.
        const QByteArray key = file.read(MaxKeyFile).trimmed();
        bool printable = !key.isEmpty();
        for (const char c : key)
            printable = printable && c > ' ' && c < 0x7f;
        if (!printable) {
            *error = tr("the API key file \"%1\" must hold one line of printable ASCII without "
                        "spaces")
                         .arg(keyFile);
            return false;
        }
        t.key = key;
    }

    t.caFile = caFile;
    if (!caFile.isEmpty()) {
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = tr("cannot read the CA file \"%1\": %2").arg(caFile, file.errorString());
            return false;
        }
        const QByteArray pem = file.read(MaxCaFile);
        t.caCertificates = QSslCertificate::fromData(pem, QSsl::Pem);
        if (t.caCertificates.isEmpty())
            t.caCertificates = QSslCertificate::fromData(pem, QSsl::Der);
        if (t.caCertificates.isEmpty()) {
            *error = tr("the CA file \"%1\" holds no certificate (PEM or DER)").arg(caFile);
            return false;
        }
    }
    *target = t;
    return true;
}

QString AttachTarget::display() const
{
    return url.toString(QUrl::RemovePath);
}

QUrl AttachTarget::streamUrl() const
{
    QUrl u = url;
    u.setScheme(
        url.scheme() == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    u.setPath(QStringLiteral("/api/events"));
    return u;
}

QUrl AttachTarget::apiUrl(const QString &path) const
{
    QUrl u = url;
    u.setPath(path, QUrl::TolerantMode);
    return u;
}
