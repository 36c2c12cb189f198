<?php
// Mints a signed uid token for a pushconsole started with
// --auth-secret-file SECRET_FILE: a JWT (HS256) whose "sub" is the uid,
// valid for 5 minutes ("iat" is there for --auth-max-age) and named by a
// random "jti" (the per-token connection cap). The page sends it as its
// first WebSocket message.
// Usage: php mint_token.php SECRET_FILE UID      (prints the token)
// tests/core/tst_tokenverifier.cpp runs this file and docs/operations.md shows it.

function b64url(string $bytes): string
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

function mint_uid_token(string $secret, string $uid, int $ttl = 300): string
{
    $header = b64url(json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
    $now = time();
    $claims = b64url(json_encode([
        'sub' => $uid,
        'iat' => $now,
        'exp' => $now + $ttl,
        'jti' => bin2hex(random_bytes(16)),
    ]));
    $signature = b64url(hash_hmac('sha256', "$header.$claims", $secret, true));
    return "$header.$claims.$signature";
}

// The gateway also drops trailing spaces, tabs and line endings of the file.
$secret = rtrim(file_get_contents($argv[1]), " \t\r\n");
echo mint_uid_token($secret, (string) $argv[2]), "\n";
