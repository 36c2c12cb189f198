// libFuzzer target: the first WebSocket message of a client, both ways the
// gateway reads it: as a plain uid (Uid::fromBindMessage) and as a signed
// token (TokenVerifier::verify, HS256 with a fixed test secret).
//
// Random bytes almost never carry a valid signature, so the first input
// byte picks a mode: 0 passes the rest as the token; 1 signs the rest as the
// payload under a fixed valid header; 2 splits the rest at the first newline
// into header and payload and signs both. Modes 1 and 2 drive the claim and
// header checks behind the signature.

#include "FuzzCheck.h"

#include "TokenVerifier.h"
#include "Uid.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QSet>

#include <cstdint>

namespace {

constexpr qint64 Now = 1800000000; // fixed: a run must be reproducible
const QByteArray Secret = "pushconsole-fuzzing-secret-0123456789abcdef";

const TokenVerifier &verifier()
{
    static const std::unique_ptr<TokenVerifier> v = [] {
        QString error;
        auto made = TokenVerifier::fromSecret(Secret, &error);
        FUZZ_CHECK(made);
        return made;
    }();
    return *v;
}

// Audience, issuer and maximum age set: the claim checks they add.
const TokenVerifier &strictVerifier()
{
    static const std::unique_ptr<TokenVerifier> v = [] {
        QString error;
        auto made = TokenVerifier::fromSecret(Secret, &error);
        FUZZ_CHECK(made);
        made->setAudience(QStringLiteral("push"));
        made->setIssuer(QStringLiteral("shop"));
        made->setMaxAge(300);
        return made;
    }();
    return *v;
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray sign(const QByteArray &header, const QByteArray &payload)
{
    const QByteArray input = b64(header) + '.' + b64(payload);
    return input + '.'
        + b64(QMessageAuthenticationCode::hash(input, Secret, QCryptographicHash::Sha256));
}

void checkResult(const TokenVerifier::Result &r, const QByteArray &token)
{
    static const QSet<QByteArray> reasons = {"malformed token", "token too long",
        "algorithm not allowed", "bad signature", "token expired", "token not yet valid",
        "missing exp", "invalid exp", "invalid nbf", "missing sub", "invalid sub", "invalid jti",
        "missing iat", "invalid iat", "iat in the future", "token lifetime too long", "missing iss",
        "invalid iss", "wrong iss", "missing aud", "invalid aud", "wrong aud"};
    if (r.ok) {
        FUZZ_CHECK(Uid::isValid(r.uid));
        FUZZ_CHECK(r.tokenKey != 0);
        FUZZ_CHECK(r.reason.isEmpty());
        FUZZ_CHECK(token.trimmed().size() <= TokenVerifier::MaxTokenSize);
    } else {
        FUZZ_CHECK(r.uid.isEmpty());
        // A fixed, documented text: safe as a close reason and in the log.
        FUZZ_CHECK(reasons.contains(r.reason));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));

    // As a plain uid: either nothing, or exactly the trimmed message.
    const QByteArray uid = Uid::fromBindMessage(input);
    if (!uid.isEmpty()) {
        FUZZ_CHECK(Uid::isValid(uid));
        FUZZ_CHECK(uid == input.trimmed());
    } else {
        FUZZ_CHECK(!Uid::isValid(input.trimmed()));
    }

    // As a token.
    if (input.isEmpty())
        return 0;
    const QByteArray rest = input.sliced(1);
    QByteArray token;
    switch (uchar(input[0]) % 3) {
    case 0:
        token = rest;
        break;
    case 1:
        token = sign(R"({"alg":"HS256","typ":"JWT"})", rest);
        break;
    default: {
        const qsizetype newline = rest.indexOf('\n');
        token = newline < 0 ? sign(rest, QByteArray())
                            : sign(rest.first(newline), rest.sliced(newline + 1));
        break;
    }
    }
    const bool strict = (uchar(input[0]) / 3) % 2 == 1;
    const TokenVerifier &v = strict ? strictVerifier() : verifier();
    const auto r = v.verify(token, Now);
    checkResult(r, token);
    if (r.ok) {
        // What libjwt (jansson) read as "sub" is what Qt's parser reads.
        const QByteArray payload =
            QByteArray::fromBase64(token.split('.').value(1), QByteArray::Base64UrlEncoding);
        const QJsonObject claims = QJsonDocument::fromJson(payload).object();
        FUZZ_CHECK(claims.value(QLatin1String("sub")).toString().toUtf8() == r.uid);
        if (strict) {
            FUZZ_CHECK(claims.value(QLatin1String("iss")).toString() == QLatin1String("shop"));
            const qint64 iat = claims.value(QLatin1String("iat")).toInteger(-1);
            const qint64 exp = claims.value(QLatin1String("exp")).toInteger(-1);
            FUZZ_CHECK(iat <= Now + v.leeway() && exp - iat <= 300);
        }
    }
    // Deterministic and stateless: the same answer twice.
    const auto again = v.verify(token, Now);
    FUZZ_CHECK(again.ok == r.ok && again.uid == r.uid && again.reason == r.reason
        && again.tokenKey == r.tokenKey);
    return 0;
}
