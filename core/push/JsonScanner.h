#pragma once

#include <QByteArray>
#include <QByteArrayView>

// A validating single-pass JSON reader that keeps nothing but the position
// of the top-level "uid" member. The push line is forwarded as it is, so
// building a document (QJsonDocument: an allocation per value) would be
// wasted work on the hot path; it would also reject valid JSON such as
// numbers beyond a double's range, which PHP's json_decode accepts.
class JsonScanner final
{
public:
    static constexpr int MaxDepth = 256;

    explicit JsonScanner(QByteArrayView text)
        : m_text(text)
    { }

    // True when the whole text is one valid JSON value (RFC 8259).
    bool validate();

    bool isObject() const { return m_isObject; }
    // Offset of the value of the last top-level "uid" member (a later key
    // wins, as in PHP), or -1.
    qsizetype uidValueOffset() const { return m_uidValue; }
    qsizetype errorOffset() const { return m_errorOffset; }
    const char *error() const { return m_error; }

    // The value at offset, which validate() has accepted. A string comes back
    // decoded; an integer as its decimal text.
    enum class Kind { String, Integer, Array, Other };
    Kind kindAt(qsizetype offset) const;
    // Empty when the decoded string is longer than maxSize (at most 256).
    QByteArray decodeString(qsizetype offset, qsizetype maxSize = 256) const;
    QByteArray integerText(qsizetype offset, qsizetype *end = nullptr) const;
    // Offsets of an array's elements.
    QList<qsizetype> arrayElements(qsizetype offset) const;

private:
    bool value(int depth);
    bool object(int depth);
    bool array(int depth);
    // Decodes into out (up to capacity bytes; *size may then exceed capacity,
    // which tells the caller the string is longer) when out is given.
    bool string(char *out = nullptr, qsizetype *size = nullptr, qsizetype capacity = 0);
    bool number();
    bool literal(const char *word);
    void skipSpace();
    bool fail(const char *error);
    qsizetype skipValue(qsizetype offset) const;

    QByteArrayView m_text;
    qsizetype m_pos = 0;
    qsizetype m_uidValue = -1;
    qsizetype m_errorOffset = -1;
    const char *m_error = "";
    bool m_isObject = false;
};
