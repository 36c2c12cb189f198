#pragma once

#include <cstddef>

namespace Utf8 {
// Strict RFC 3629 validation: rejects overlong forms, surrogates and code
// points above U+10FFFF, which a lenient decoder would silently replace.
bool isValid(const char *data, std::size_t size);
} // namespace Utf8
