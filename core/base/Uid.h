#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace Uid {
constexpr int MaxLength = 64;

// 1–64 characters of [A-Za-z0-9_.:@-]: wide enough for every uid the seed
// accepted (numeric ids, emails, "tenant:id"), narrow enough to be safe in
// log lines, URLs and Redis keys without escaping.
bool isValid(QByteArrayView uid);

// The first WebSocket message, trimmed of surrounding white space as the
// contract says; returns an empty array when the result is not a valid uid.
QByteArray fromBindMessage(QByteArrayView message);
} // namespace Uid
