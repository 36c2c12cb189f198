#include "Waiting.h"

namespace TestSupport {

namespace {

constexpr qsizetype MaxShown = 400;

QByteArray shorten(const QByteArray &text, qsizetype total)
{
    if (text.size() <= MaxShown)
        return text;
    return text.left(MaxShown / 2) + " [...] " + text.right(MaxShown / 2) + " ("
        + QByteArray::number(total) + " in all)";
}

template<typename List>
QByteArray describeList(const List &list)
{
    QByteArray out = QByteArray::number(list.size()) + " [";
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (i)
            out += ", ";
        out += describe(list.at(i));
        if (out.size() > MaxShown && i + 1 < list.size()) {
            out += ", ...";
            break;
        }
    }
    return out + ']';
}

} // namespace

bool waitFor(const std::function<bool()> &predicate, int timeoutMs)
{
    return QTest::qWaitFor(predicate, timeoutMs);
}

QByteArray describe(const QByteArray &value)
{
    QByteArray escaped;
    for (const char c : value.left(MaxShown * 2)) {
        if (c == '\n')
            escaped += "\\n";
        else if (c == '\r')
            escaped += "\\r";
        else if (uchar(c) < 0x20)
            escaped += "\\x" + QByteArray::number(uchar(c), 16).rightJustified(2, '0');
        else
            escaped += c;
    }
    return '"' + shorten(escaped, value.size()) + '"';
}

QByteArray describe(const QString &value)
{
    return describe(value.toUtf8());
}

QByteArray describe(const QList<QByteArray> &value)
{
    return describeList(value);
}

QByteArray describe(const QList<QString> &value)
{
    return describeList(value);
}

QByteArray describe(const char *value)
{
    return describe(QByteArray(value));
}

QByteArray describe(bool value)
{
    return value ? "true" : "false";
}

QByteArray timedOut(int timeoutMs)
{
    return "still false after " + QByteArray::number(timeoutMs) + " ms";
}

} // namespace TestSupport
