#include "Uid.h"

namespace Uid {

static bool isUidChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
        || c == '.' || c == ':' || c == '@' || c == '-';
}

bool isValid(QByteArrayView uid)
{
    if (uid.isEmpty() || uid.size() > MaxLength)
        return false;
    for (char c : uid) {
        if (!isUidChar(c))
            return false;
    }
    return true;
}

QByteArray fromBindMessage(QByteArrayView message)
{
    const QByteArrayView trimmed = message.trimmed();
    if (!isValid(trimmed))
        return {};
    return trimmed.toByteArray();
}

} // namespace Uid
