#include "JsonScanner.h"

#include <QList>

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Appends cp as UTF-8 to out[*size...]; bytes past capacity are counted,
// not written.
void putUtf8(char *out, qsizetype *size, qsizetype capacity, uint cp)
{
    char bytes[4];
    int n;
    if (cp < 0x80) {
        bytes[0] = char(cp);
        n = 1;
    } else if (cp < 0x800) {
        bytes[0] = char(0xC0 | (cp >> 6));
        bytes[1] = char(0x80 | (cp & 0x3F));
        n = 2;
    } else {
        bytes[0] = char(0xE0 | (cp >> 12));
        bytes[1] = char(0x80 | ((cp >> 6) & 0x3F));
        bytes[2] = char(0x80 | (cp & 0x3F));
        n = 3;
    }
    for (int i = 0; i < n; ++i) {
        if (*size < capacity)
            out[*size] = bytes[i];
        ++*size;
    }
}

} // namespace

bool JsonScanner::fail(const char *error)
{
    if (m_errorOffset < 0) {
        m_errorOffset = m_pos;
        m_error = error;
    }
    return false;
}

void JsonScanner::skipSpace()
{
    while (m_pos < m_text.size()) {
        const char c = m_text[m_pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        ++m_pos;
    }
}

bool JsonScanner::validate()
{
    m_pos = 0;
    skipSpace();
    m_isObject = m_pos < m_text.size() && m_text[m_pos] == '{';
    if (!value(0))
        return false;
    skipSpace();
    if (m_pos != m_text.size())
        return fail("garbage after the value");
    return true;
}

bool JsonScanner::value(int depth)
{
    if (depth >= MaxDepth)
        return fail("too deeply nested");
    skipSpace();
    if (m_pos >= m_text.size())
        return fail("unexpected end");
    switch (m_text[m_pos]) {
    case '{':
        return object(depth + 1);
    case '[':
        return array(depth + 1);
    case '"':
        return string();
    case 't':
        return literal("true");
    case 'f':
        return literal("false");
    case 'n':
        return literal("null");
    default:
        return number();
    }
}

bool JsonScanner::object(int depth)
{
    ++m_pos; // '{'
    skipSpace();
    if (m_pos < m_text.size() && m_text[m_pos] == '}') {
        ++m_pos;
        return true;
    }
    for (;;) {
        skipSpace();
        if (m_pos >= m_text.size() || m_text[m_pos] != '"')
            return fail(m_pos >= m_text.size() ? "unexpected end" : "expected a member name");
        // Only top-level names matter, and only whether they are "uid".
        char key[4];
        qsizetype keySize = 0;
        if (!string(depth == 1 ? key : nullptr, &keySize, sizeof key))
            return false;
        skipSpace();
        if (m_pos >= m_text.size() || m_text[m_pos] != ':')
            return fail(m_pos >= m_text.size() ? "unexpected end" : "expected ':'");
        ++m_pos;
        skipSpace();
        if (depth == 1 && keySize == 3 && key[0] == 'u' && key[1] == 'i' && key[2] == 'd')
            m_uidValue = m_pos;
        if (!value(depth))
            return false;
        skipSpace();
        if (m_pos >= m_text.size())
            return fail("unexpected end");
        const char c = m_text[m_pos++];
        if (c == '}')
            return true;
        if (c != ',') {
            --m_pos;
            return fail("expected ',' or '}'");
        }
    }
}

bool JsonScanner::array(int depth)
{
    ++m_pos; // '['
    skipSpace();
    if (m_pos < m_text.size() && m_text[m_pos] == ']') {
        ++m_pos;
        return true;
    }
    for (;;) {
        if (!value(depth))
            return false;
        skipSpace();
        if (m_pos >= m_text.size())
            return fail("unexpected end");
        const char c = m_text[m_pos++];
        if (c == ']')
            return true;
        if (c != ',') {
            --m_pos;
            return fail("expected ',' or ']'");
        }
    }
}

bool JsonScanner::string(char *out, qsizetype *size, qsizetype capacity)
{
    ++m_pos; // '"'
    qsizetype n = 0;
    const char *text = m_text.data();
    const qsizetype end = m_text.size();
    while (m_pos < end) {
        if (!out) {
            // Most strings are skipped, not decoded: run over plain bytes.
            while (m_pos < end && uchar(text[m_pos]) >= 0x20 && text[m_pos] != '"'
                && text[m_pos] != '\\')
                ++m_pos;
            if (m_pos >= end)
                break;
        }
        const char c = text[m_pos];
        if (c == '"') {
            ++m_pos;
            if (size)
                *size = n;
            return true;
        }
        if (uchar(c) < 0x20)
            return fail("control character in string");
        if (c != '\\') {
            if (out) {
                if (n < capacity)
                    out[n] = c;
                ++n;
            }
            ++m_pos;
            continue;
        }
        if (m_pos + 1 >= end)
            break;
        const char e = text[m_pos + 1];
        char plain = 0;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            plain = e;
            break;
        case 'b':
            plain = '\b';
            break;
        case 'f':
            plain = '\f';
            break;
        case 'n':
            plain = '\n';
            break;
        case 'r':
            plain = '\r';
            break;
        case 't':
            plain = '\t';
            break;
        case 'u': {
            if (m_pos + 6 > end)
                return fail("unexpected end");
            uint cp = 0;
            for (int i = 2; i < 6; ++i) {
                const int h = hexValue(text[m_pos + i]);
                if (h < 0)
                    return fail("invalid \\u escape");
                cp = cp * 16 + uint(h);
            }
            m_pos += 6;
            if (out)
                putUtf8(out, &n, capacity, cp); // a lone surrogate makes bytes no uid accepts
            continue;
        }
        default:
            return fail("invalid escape");
        }
        if (out) {
            if (n < capacity)
                out[n] = plain;
            ++n;
        }
        m_pos += 2;
    }
    return fail("unterminated string");
}

bool JsonScanner::number()
{
    const qsizetype start = m_pos;
    auto digits = [this] {
        const qsizetype from = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9')
            ++m_pos;
        return m_pos - from;
    };
    if (m_pos < m_text.size() && m_text[m_pos] == '-')
        ++m_pos;
    if (m_pos < m_text.size() && m_text[m_pos] == '0') {
        ++m_pos;
    } else if (digits() == 0) {
        m_pos = start;
        return fail("unexpected character");
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
        ++m_pos;
        if (digits() == 0)
            return fail("invalid number");
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
        ++m_pos;
        if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-'))
            ++m_pos;
        if (digits() == 0)
            return fail("invalid number");
    }
    return true;
}

bool JsonScanner::literal(const char *word)
{
    const QByteArrayView w(word);
    if (m_text.sliced(m_pos).startsWith(w)) {
        m_pos += w.size();
        return true;
    }
    return fail("unexpected character");
}

JsonScanner::Kind JsonScanner::kindAt(qsizetype offset) const
{
    const char c = m_text[offset];
    if (c == '"')
        return Kind::String;
    if (c == '[')
        return Kind::Array;
    if (c == '-' || (c >= '0' && c <= '9')) {
        // Whole numbers only: "1.0" or "1e3" are no integer in PHP's sense.
        qsizetype i = offset + (c == '-' ? 1 : 0);
        while (i < m_text.size() && m_text[i] >= '0' && m_text[i] <= '9')
            ++i;
        if (i < m_text.size() && (m_text[i] == '.' || m_text[i] == 'e' || m_text[i] == 'E'))
            return Kind::Other;
        return Kind::Integer;
    }
    return Kind::Other;
}

QByteArray JsonScanner::decodeString(qsizetype offset, qsizetype maxSize) const
{
    JsonScanner s(m_text);
    s.m_pos = offset;
    // Decoding never grows a string: the text's own length bounds it.
    constexpr qsizetype Stack = 256;
    char buffer[Stack];
    qsizetype size = 0;
    const qsizetype capacity = qMin(maxSize, Stack);
    s.string(buffer, &size, capacity);
    if (size > capacity)
        return QByteArray(); // longer than asked for
    return QByteArray(buffer, size);
}

QByteArray JsonScanner::integerText(qsizetype offset, qsizetype *end) const
{
    qsizetype i = offset + (m_text[offset] == '-' ? 1 : 0);
    while (i < m_text.size() && m_text[i] >= '0' && m_text[i] <= '9')
        ++i;
    if (end)
        *end = i;
    const QByteArrayView text = m_text.sliced(offset, i - offset);
    return text == "-0" ? QByteArray("0") : text.toByteArray();
}

qsizetype JsonScanner::skipValue(qsizetype offset) const
{
    JsonScanner s(m_text);
    s.m_pos = offset;
    s.value(0);
    return s.m_pos;
}

QList<qsizetype> JsonScanner::arrayElements(qsizetype offset) const
{
    QList<qsizetype> out;
    JsonScanner s(m_text);
    s.m_pos = offset + 1;
    s.skipSpace();
    if (s.m_pos < m_text.size() && m_text[s.m_pos] == ']')
        return out;
    for (;;) {
        s.skipSpace();
        out.append(s.m_pos);
        s.m_pos = skipValue(s.m_pos);
        s.skipSpace();
        if (s.m_pos >= m_text.size() || m_text[s.m_pos] != ',')
            return out;
        ++s.m_pos;
    }
}
