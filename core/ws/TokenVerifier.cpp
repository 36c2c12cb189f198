#include "TokenVerifier.h"

#include "Uid.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtNumeric>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <limits>

namespace {

TokenVerifier::Result refuse(const char *reason)
{
    TokenVerifier::Result r;
    r.reason = QByteArray(reason);
    return r;
}

bool isBase64UrlChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '_';
}

// Decodes one JWS segment: unpadded base64url (RFC 7515 §2), nothing else.
bool decodeSegment(QByteArrayView segment, QByteArray *out)
{
    for (char c : segment) {
        if (!isBase64UrlChar(c))
            return false;
    }
    if (segment.size() % 4 == 1) // no whole byte ends there
        return false;
    auto decoded = QByteArray::fromBase64Encoding(segment.toByteArray(),
        QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals
            | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return false;
    *out = std::move(decoded.decoded);
    return true;
}

bool decodeJsonObject(QByteArrayView segment, QJsonObject *out)
{
    QByteArray json;
    if (!decodeSegment(segment, &json))
        return false;
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    *out = doc.object();
    return true;
}

struct JwtDeleter
{
    void operator()(jwt_t *jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct EvpPkeyDeleter
{
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};

// A claim as the JSON text of its value, read from the grants libjwt parsed
// and verified, so our checks and the signature always see the same claims
// (a second parser could disagree about duplicate members, for example).
// Returns false when the claim is absent.
bool claimJson(jwt_t *jwt, const char *name, QByteArray *out)
{
    char *text = jwt_get_grants_json(jwt, name);
    if (!text)
        return false;
    *out = QByteArray(text);
    std::free(text);
    return true;
}

enum class Claim { Missing, Invalid, Ok };

// "exp" and "nbf" are NumericDate (RFC 7519 §2); we want whole seconds, as
// every JWT library writes them. 1.5 or "123" is refused, not rounded.
Claim integerClaim(jwt_t *jwt, const char *name, qint64 *value)
{
    QByteArray text;
    if (!claimJson(jwt, name, &text))
        return Claim::Missing;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!((c >= '0' && c <= '9') || (c == '-' && i == 0)))
            return Claim::Invalid;
    }
    bool ok = false;
    *value = text.toLongLong(&ok);
    return ok ? Claim::Ok : Claim::Invalid;
}

// "sub" must be a JSON string holding a valid uid. Every uid character is
// plain ASCII that JSON never escapes, so the encoded value is exactly the uid
// in quotes; any escape (an embedded NUL, for one) makes it invalid.
Claim subjectClaim(jwt_t *jwt, QByteArray *uid)
{
    QByteArray text;
    if (!claimJson(jwt, "sub", &text))
        return Claim::Missing;
    if (text.size() < 2 || !text.startsWith('"') || !text.endsWith('"'))
        return Claim::Invalid;
    const QByteArrayView inner = QByteArrayView(text).sliced(1, text.size() - 2);
    if (!Uid::isValid(inner))
        return Claim::Invalid;
    *uid = inner.toByteArray();
    return Claim::Ok;
}

// The JSON text of a claim, as libjwt wrote it back, decoded: a claim value
// of any type, wrapped in an array because QJsonDocument wants a container.
QJsonValue decodeClaim(const QByteArray &json)
{
    const QJsonDocument doc = QJsonDocument::fromJson('[' + json + ']');
    return doc.isArray() && doc.array().size() == 1 ? doc.array().first() : QJsonValue();
}

bool isClaimString(const QJsonValue &value)
{
    return value.isString() && !value.toString().isEmpty()
        && value.toString().size() <= TokenVerifier::MaxClaimSize;
}

// "aud" is one string or an array of strings (RFC 7519 §4.1.3); true when
// `expected` is among them. *valid is false for anything else.
bool audienceMatches(const QJsonValue &aud, const QString &expected, bool *valid)
{
    *valid = true;
    if (isClaimString(aud))
        return aud.toString() == expected;
    if (!aud.isArray() || aud.toArray().isEmpty()) {
        *valid = false;
        return false;
    }
    bool found = false;
    for (const QJsonValue &element : aud.toArray()) {
        if (!isClaimString(element)) {
            *valid = false;
            return false;
        }
        found = found || element.toString() == expected;
    }
    return found;
}

quint64 keyOf(QByteArrayView kind, QByteArrayView value)
{
    QCryptographicHash sha(QCryptographicHash::Sha256);
    sha.addData(kind);
    sha.addData(value);
    const QByteArray digest = sha.result();
    quint64 key = 0;
    for (int i = 0; i < 8; ++i)
        key = key << 8 | quint8(digest[i]);
    return key == 0 ? 1 : key;
}

qint64 saturatingAdd(qint64 a, qint64 b)
{
    qint64 r;
    if (qAddOverflow(a, b, &r))
        return b > 0 ? std::numeric_limits<qint64>::max() : std::numeric_limits<qint64>::min();
    return r;
}

} // namespace

TokenVerifier::TokenVerifier(Algorithm algorithm, QByteArray key)
    : m_algorithm(algorithm)
    , m_key(std::move(key))
{ }

TokenVerifier::~TokenVerifier()
{
    // Best effort: do not leave the secret in freed memory.
    if (!m_key.isEmpty())
        OPENSSL_cleanse(m_key.data(), std::size_t(m_key.size()));
}

const char *TokenVerifier::algorithmName(Algorithm algorithm)
{
    switch (algorithm) {
    case Algorithm::HS256:
        return "HS256";
    case Algorithm::RS256:
        return "RS256";
    case Algorithm::ES256:
        return "ES256";
    }
    return "";
}

void TokenVerifier::setLeeway(qint64 seconds)
{
    m_leeway = qBound<qint64>(0, seconds, MaxLeewaySeconds);
}

std::unique_ptr<TokenVerifier> TokenVerifier::fromSecret(const QByteArray &secret, QString *error)
{
    if (secret.isEmpty()) {
        *error = tr("the secret is empty");
        return nullptr;
    }
    if (secret.size() < MinSecretSize) {
        *error = tr("the secret is %1 bytes long; at least %2 are needed "
                    "(create one with: openssl rand -hex 32)")
                     .arg(secret.size())
                     .arg(MinSecretSize);
        return nullptr;
    }
    return std::unique_ptr<TokenVerifier>(new TokenVerifier(Algorithm::HS256, secret));
}

namespace {

// Reads a small key file whole; returns false with *why set otherwise.
bool readKeyFile(const QString &path, QByteArray *out, QString *why)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *why = file.errorString();
        return false;
    }
    *out = file.read(TokenVerifier::MaxKeyFileSize + 1);
    if (file.error() != QFileDevice::NoError) {
        *why = file.errorString();
        return false;
    }
    if (out->size() > TokenVerifier::MaxKeyFileSize) {
        *why = TokenVerifier::tr("larger than %1 bytes").arg(TokenVerifier::MaxKeyFileSize);
        return false;
    }
    return true;
}

} // namespace

std::unique_ptr<TokenVerifier> TokenVerifier::fromSecretFile(const QString &path, QString *error)
{
    QByteArray secret;
    QString why;
    if (!readKeyFile(path, &secret, &why)) {
        *error = tr("cannot read the secret file \"%1\": %2").arg(path, why);
        return nullptr;
    }
    // Only line endings and trailing blanks: `echo SECRET > file` and editors
    // add them, while anything else may be part of a binary secret.
    while (!secret.isEmpty()) {
        const char c = secret.back();
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t')
            break;
        secret.chop(1);
    }
    if (secret.isEmpty()) {
        *error = tr("the secret file \"%1\" is empty").arg(path);
        return nullptr;
    }
    if (secret.size() < MinSecretSize) {
        *error = tr("the secret in \"%1\" is %2 bytes long; at least %3 are needed "
                    "(create one with: openssl rand -hex 32 > FILE)")
                     .arg(path)
                     .arg(secret.size())
                     .arg(MinSecretSize);
        return nullptr;
    }
    return std::unique_ptr<TokenVerifier>(new TokenVerifier(Algorithm::HS256, std::move(secret)));
}

std::unique_ptr<TokenVerifier> TokenVerifier::fromPublicKey(const QByteArray &pem, QString *error)
{
    // Read the key the way libjwt will (PEM_read_bio_PUBKEY on the same
    // bytes), so what we accept here is what verifies later.
    std::unique_ptr<EVP_PKEY, EvpPkeyDeleter> key;
    {
        BIO *bio = BIO_new_mem_buf(pem.constData(), int(pem.size()));
        if (bio) {
            key.reset(PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr));
            BIO_free(bio);
        }
        ERR_clear_error(); // leave no stale error for the next OpenSSL user
    }
    if (!key) {
        if (pem.contains("PRIVATE KEY"))
            *error = tr("this is a private key; give the public key instead "
                        "(openssl pkey -in KEY -pubout)");
        else if (pem.contains("CERTIFICATE"))
            *error = tr("this is a certificate; give its public key instead "
                        "(openssl x509 -in CERT -pubkey -noout)");
        else
            *error = tr("no PEM public key (\"-----BEGIN PUBLIC KEY-----\") found");
        return nullptr;
    }
    const int type = EVP_PKEY_get_base_id(key.get());
    if (type == EVP_PKEY_RSA) {
        const int bits = EVP_PKEY_get_bits(key.get());
        if (bits < MinRsaBits) {
            *error =
                tr("the RSA key has %1 bits; at least %2 are needed").arg(bits).arg(MinRsaBits);
            return nullptr;
        }
        return std::unique_ptr<TokenVerifier>(new TokenVerifier(Algorithm::RS256, pem));
    }
    if (type == EVP_PKEY_EC) {
        char curve[80] = {};
        std::size_t length = 0;
        if (!EVP_PKEY_get_group_name(key.get(), curve, sizeof curve, &length))
            curve[0] = '\0';
        ERR_clear_error();
        if (qstrcmp(curve, SN_X9_62_prime256v1) != 0) {
            *error =
                tr("the EC key is on curve %1; only P-256 (prime256v1, for ES256) is supported")
                    .arg(QString::fromLatin1(curve));
            return nullptr;
        }
        return std::unique_ptr<TokenVerifier>(new TokenVerifier(Algorithm::ES256, pem));
    }
    const char *name = OBJ_nid2sn(type);
    *error = tr("unsupported key type %1; use an RSA key (RS256) or an EC P-256 key (ES256)")
                 .arg(QString::fromLatin1(name ? name : "?"));
    return nullptr;
}

std::unique_ptr<TokenVerifier> TokenVerifier::fromPublicKeyFile(const QString &path, QString *error)
{
    QByteArray pem;
    QString why;
    if (!readKeyFile(path, &pem, &why)) {
        *error = tr("cannot read the public key file \"%1\": %2").arg(path, why);
        return nullptr;
    }
    auto verifier = fromPublicKey(pem, &why);
    if (!verifier)
        *error = tr("public key file \"%1\": %2").arg(path, why);
    return verifier;
}

TokenVerifier::Result TokenVerifier::verify(QByteArrayView token, qint64 nowSeconds) const
{
    if (token.size() > MaxTokenSize)
        return refuse("token too long");
    const QByteArrayView text = token.trimmed();

    // header.payload.signature, each unpadded base64url. Checked here and not
    // left to libjwt, whose decoder skips unknown characters and which reads
    // a C string (a NUL would cut the token short).
    const qsizetype dot1 = text.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : text.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || text.indexOf('.', dot2 + 1) >= 0)
        return refuse("malformed token");
    const QByteArrayView signature = text.sliced(dot2 + 1);
    for (char c : signature) {
        if (!isBase64UrlChar(c))
            return refuse("malformed token");
    }
    QJsonObject header, payload;
    if (!decodeJsonObject(text.first(dot1), &header)
        || !decodeJsonObject(text.sliced(dot1 + 1, dot2 - dot1 - 1), &payload))
        return refuse("malformed token");

    // The key decides the algorithm, never the token. Exact spelling: libjwt
    // would also take "hs256".
    const QJsonValue alg = header.value(QLatin1String("alg"));
    if (!alg.isString() || alg.toString() != QLatin1String(algorithmName(m_algorithm)))
        return refuse("algorithm not allowed");
    // RFC 7515 §4.1.11: extensions we do not know must not be ignored. A
    // "typ" other than JWT is some other kind of object (libjwt agrees).
    if (header.contains(QLatin1String("crit")))
        return refuse("malformed token");
    const QJsonValue typ = header.value(QLatin1String("typ"));
    if (!typ.isUndefined()
        && typ.toString().compare(QLatin1String("JWT"), Qt::CaseInsensitive) != 0)
        return refuse("malformed token");
    if (signature.isEmpty())
        return refuse("bad signature");

    jwt_t *raw = nullptr;
    const QByteArray nulTerminated = text.toByteArray();
    const int rc = jwt_decode(&raw, nulTerminated.constData(),
        reinterpret_cast<const unsigned char *>(m_key.constData()), int(m_key.size()));
    const JwtPtr jwt(raw);
    if (rc != 0 || !jwt)
        return refuse("bad signature");
    // Again with what libjwt actually used: should its header parser and
    // ours ever disagree (duplicate "alg" members, say), the token is out.
    const jwt_alg_t expected = m_algorithm == Algorithm::HS256 ? JWT_ALG_HS256
        : m_algorithm == Algorithm::RS256                      ? JWT_ALG_RS256
                                                               : JWT_ALG_ES256;
    if (jwt_get_alg(jwt.get()) != expected)
        return refuse("algorithm not allowed");

    // RFC 7519 §4.1.4: expired once now >= exp; the leeway absorbs clock skew
    // between the backend that minted the token and us.
    qint64 exp = 0;
    switch (integerClaim(jwt.get(), "exp", &exp)) {
    case Claim::Missing:
        return refuse("missing exp");
    case Claim::Invalid:
        return refuse("invalid exp");
    case Claim::Ok:
        break;
    }
    if (saturatingAdd(nowSeconds, -m_leeway) >= exp)
        return refuse("token expired");
    qint64 nbf = 0;
    switch (integerClaim(jwt.get(), "nbf", &nbf)) {
    case Claim::Missing:
        break;
    case Claim::Invalid:
        return refuse("invalid nbf");
    case Claim::Ok:
        if (saturatingAdd(nowSeconds, m_leeway) < nbf)
            return refuse("token not yet valid");
        break;
    }

    if (m_maxAge > 0) {
        qint64 iat = 0;
        switch (integerClaim(jwt.get(), "iat", &iat)) {
        case Claim::Missing:
            return refuse("missing iat");
        case Claim::Invalid:
            return refuse("invalid iat");
        case Claim::Ok:
            break;
        }
        if (saturatingAdd(nowSeconds, m_leeway) < iat)
            return refuse("iat in the future");
        if (saturatingAdd(iat, m_maxAge) < exp)
            return refuse("token lifetime too long");
    }
    QByteArray json;
    if (!m_issuer.isEmpty()) {
        if (!claimJson(jwt.get(), "iss", &json))
            return refuse("missing iss");
        const QJsonValue issuer = decodeClaim(json);
        if (!isClaimString(issuer))
            return refuse("invalid iss");
        if (issuer.toString() != m_issuer)
            return refuse("wrong iss");
    }
    if (!m_audience.isEmpty()) {
        if (!claimJson(jwt.get(), "aud", &json))
            return refuse("missing aud");
        bool valid = true;
        const bool match = audienceMatches(decodeClaim(json), m_audience, &valid);
        if (!valid)
            return refuse("invalid aud");
        if (!match)
            return refuse("wrong aud");
    }

    Result r;
    switch (subjectClaim(jwt.get(), &r.uid)) {
    case Claim::Missing:
        return refuse("missing sub");
    case Claim::Invalid:
        return refuse("invalid sub");
    case Claim::Ok:
        break;
    }
    if (claimJson(jwt.get(), "jti", &json)) {
        // Any string will do (a UUID, a counter); its JSON text names it.
        if (!isClaimString(decodeClaim(json)))
            return refuse("invalid jti");
        r.tokenKey = keyOf("jti:", json);
        r.hasJti = true;
    } else {
        r.tokenKey = keyOf("sig:", signature);
    }
    r.ok = true;
    return r;
}

QByteArray TokenVerifier::keyFingerprint() const
{
    return QCryptographicHash::hash(m_key, QCryptographicHash::Sha256);
}
