#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QString>

#include <memory>

// Checks the signed uid token (a JWT) a browser sends as its first message
// when token auth is on, so that nobody can claim a uid the backend did not
// sign for. The signature is checked by libjwt; this class decides what is
// acceptable around it:
//  - exactly one algorithm, fixed by the key: HS256 for a shared secret,
//    RS256 for an RSA public key, ES256 for an EC P-256 public key. "none"
//    and every other algorithm are refused before any crypto runs, and the
//    algorithm libjwt actually used is checked again afterwards, so a token
//    whose header says HS256 can never be verified with the public key PEM
//    as its HMAC secret (the classic algorithm-confusion attack);
//  - "exp" is required, "nbf" optional, both integer seconds, both with a
//    clock leeway;
//  - "sub" is the uid and must be a string that passes Uid::isValid;
//  - "aud" and "iss" are checked when an audience or issuer is set: "aud"
//    may be a string or an array of strings, one of them the audience;
//  - with a maximum age, "iat" is required, may not lie in the future
//    beyond the leeway, and exp - iat may not exceed the maximum age, so a
//    backend cannot (by mistake or when compromised once) mint tokens that
//    stay valid for days;
//  - "jti", when present, is a string; it names the token (see tokenKey).
// Result::reason is a short fixed English text, safe to send as a WebSocket
// close reason and to log; the token itself never appears in it.
//
// verify() is const and keeps no state between calls.
class TokenVerifier final
{
    Q_DECLARE_TR_FUNCTIONS(TokenVerifier)
public:
    enum class Algorithm { HS256, RS256, ES256 };

    // Longer first messages are refused before any parsing: a real token is
    // a few hundred bytes, and this bounds what one client can make us do.
    static constexpr qsizetype MaxTokenSize = 4096;
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash.
    static constexpr qsizetype MinSecretSize = 32;
    // Secret and key files are small; refuse anything absurd (say /dev/zero).
    static constexpr qint64 MaxKeyFileSize = 64 * 1024;
    static constexpr int MinRsaBits = 2048;
    static constexpr qint64 DefaultLeewaySeconds = 30;
    static constexpr qint64 MaxLeewaySeconds = 24 * 3600;

    struct Result
    {
        bool ok = false;
        QByteArray uid; // the valid uid from "sub" when ok, empty otherwise
        QByteArray reason; // why not, when !ok: short English protocol text
        // Which token this is, for caps per token: derived from "jti" when
        // present, else from the signature (the same token string sent
        // again has the same key). Never 0 when ok.
        quint64 tokenKey = 0;
        bool hasJti = false;
    };
    // Longest "aud", "iss" and "jti" string, in characters.
    static constexpr qsizetype MaxClaimSize = 256;

    // HS256 with the secret in `path`. Trailing spaces, tabs, CR and LF are
    // removed (so a file written by `echo` or an editor works); everything
    // else, leading white space included, is the secret. Refuses a missing,
    // unreadable or empty file and a secret shorter than MinSecretSize bytes.
    // On failure returns null and sets *error to a translated message for
    // the operator.
    static std::unique_ptr<TokenVerifier> fromSecretFile(const QString &path, QString *error);
    // The same with the secret in memory (tests, fuzzing).
    static std::unique_ptr<TokenVerifier> fromSecret(const QByteArray &secret, QString *error);

    // RS256 or ES256 from a PEM "PUBLIC KEY" (SubjectPublicKeyInfo, what
    // `openssl pkey -pubout` writes): an RSA key of at least MinRsaBits bits,
    // or an EC key on P-256. Anything else is refused with a message.
    static std::unique_ptr<TokenVerifier> fromPublicKeyFile(const QString &path, QString *error);
    static std::unique_ptr<TokenVerifier> fromPublicKey(const QByteArray &pem, QString *error);

    ~TokenVerifier();
    TokenVerifier(const TokenVerifier &) = delete;
    TokenVerifier &operator=(const TokenVerifier &) = delete;

    Algorithm algorithm() const { return m_algorithm; }
    static const char *algorithmName(Algorithm algorithm);

    // Clock difference tolerated for "exp" and "nbf", clamped to
    // 0..MaxLeewaySeconds.
    qint64 leeway() const { return m_leeway; }
    void setLeeway(qint64 seconds);
    // Empty: not checked.
    void setAudience(const QString &audience) { m_audience = audience; }
    void setIssuer(const QString &issuer) { m_issuer = issuer; }
    // Longest token lifetime exp - iat in seconds; 0: no limit and no iat needed.
    void setMaxAge(qint64 seconds) { m_maxAge = qMax<qint64>(0, seconds); }
    qint64 maxAge() const { return m_maxAge; }

    // `token` is the first WebSocket message; surrounding white space is
    // ignored, as for a plain uid. `nowSeconds` is the Unix time.
    Result verify(QByteArrayView token, qint64 nowSeconds) const;

    // SHA-256 of the key material: tells a rotated key from the one loaded
    // before, without keeping a copy of a secret elsewhere.
    QByteArray keyFingerprint() const;

private:
    TokenVerifier(Algorithm algorithm, QByteArray key);

    Algorithm m_algorithm;
    QByteArray m_key; // the HMAC secret, or the PEM text handed to libjwt
    QString m_audience;
    QString m_issuer;
    qint64 m_leeway = DefaultLeewaySeconds;
    qint64 m_maxAge = 0;
};
