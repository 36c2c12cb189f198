#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTest>

#include <functional>
#include <type_traits>

// Waiting in tests, always for a condition and never for a fixed time.
//
// Every wait spins the event loop (an in-process server runs in the test's
// thread) until its condition holds, at most timeoutMs (DefaultWaitMs when
// left out). On timeout the test fails and says what it waited for, for how
// long, and what it saw instead:
//
//     WAIT_VERIFY(server->registry()->isOnline("a"));
//     WAIT_COMPARE(server->registry()->connectionCount(), 2); // both values shown
//     WAIT_COMPARE_GE(client.messages.size(), 3, 10000);
//     WAIT_VERIFY2(out.contains(" listening "), out);         // shows `out`
//
// A condition is evaluated again and again. One that must also do
// something on each try (read a socket into a buffer) is a lambda:
//
//     WAIT_UNTIL([&] { got += socket.readAll(); return got.endsWith("}"); }, got);
//
// To wait for "nothing more arrives", do not wait at all: make a sync point
// whose arrival proves everything before it was handled (TestSupport::probe)
// and then compare what arrived.
namespace TestSupport {

constexpr int DefaultWaitMs = 5000;

// The timeout argument of the macros, when there is one.
constexpr int waitTimeout(int ms = DefaultWaitMs)
{
    return ms;
}

// Spins the event loop until predicate() is true or timeoutMs passed.
bool waitFor(const std::function<bool()> &predicate, int timeoutMs = DefaultWaitMs);

// What a failed wait saw, for its message: at most a few hundred bytes.
QByteArray describe(const QByteArray &value);
QByteArray describe(const QString &value);
QByteArray describe(const QList<QByteArray> &value);
QByteArray describe(const QList<QString> &value);
QByteArray describe(const char *value);
QByteArray describe(bool value);
template<typename T>
std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>, QByteArray> describe(T value)
{
    return QByteArray::number(qint64(value));
}

// A failed wait's message: "still false after N ms; seen: ...".
QByteArray timedOut(int timeoutMs);
template<typename T>
QByteArray seenPart(const T &seen)
{
    return "; seen: " + describe(seen);
}

} // namespace TestSupport

// The implementations. `return` leaves the test function, as QVERIFY does;
// seen is evaluated only when the wait failed.
#define PUSHCONSOLE_WAIT_IMPL(predicate, conditionText, timeoutMs, seen)                           \
    do {                                                                                           \
        const int pc_waitMs = (timeoutMs);                                                         \
        if (!TestSupport::waitFor(predicate, pc_waitMs)) {                                         \
            QTest::qVerify(false, conditionText,                                                   \
                (TestSupport::timedOut(pc_waitMs) + (seen)).constData(), __FILE__, __LINE__);      \
            return;                                                                                \
        }                                                                                          \
    } while (false)

#define PUSHCONSOLE_WAIT_COMPARE_IMPL(actual, expected, op, compare, timeoutMs)                    \
    do {                                                                                           \
        const int pc_waitMs = (timeoutMs);                                                         \
        if (!TestSupport::waitFor([&] { return (actual)op(expected); }, pc_waitMs)) {              \
            qWarning("%s:%d: still not true after %d ms: %s %s %s", __FILE__, __LINE__, pc_waitMs, \
                #actual, #op, #expected);                                                          \
            compare(actual, expected);                                                             \
        }                                                                                          \
    } while (false)

// WAIT_VERIFY(condition[, timeoutMs])
#define WAIT_VERIFY(condition, ...)                                                                \
    PUSHCONSOLE_WAIT_IMPL([&] { return bool(condition); }, #condition,                             \
        TestSupport::waitTimeout(__VA_ARGS__), QByteArray())

// WAIT_VERIFY2(condition, seen[, timeoutMs]): seen is shown on timeout.
#define WAIT_VERIFY2(condition, seen, ...)                                                         \
    PUSHCONSOLE_WAIT_IMPL([&] { return bool(condition); }, #condition,                             \
        TestSupport::waitTimeout(__VA_ARGS__), TestSupport::seenPart(seen))

// WAIT_UNTIL(predicate, seen[, timeoutMs]): predicate is a lambda.
#define WAIT_UNTIL(predicate, seen, ...)                                                           \
    PUSHCONSOLE_WAIT_IMPL(                                                                         \
        predicate, #predicate, TestSupport::waitTimeout(__VA_ARGS__), TestSupport::seenPart(seen))

// WAIT_COMPARE(actual, expected[, timeoutMs]), and >= : QCOMPARE's report.
#define WAIT_COMPARE(actual, expected, ...)                                                        \
    PUSHCONSOLE_WAIT_COMPARE_IMPL(                                                                 \
        actual, expected, ==, QCOMPARE, TestSupport::waitTimeout(__VA_ARGS__))
#define WAIT_COMPARE_GE(actual, expected, ...)                                                     \
    PUSHCONSOLE_WAIT_COMPARE_IMPL(                                                                 \
        actual, expected, >=, QCOMPARE_GE, TestSupport::waitTimeout(__VA_ARGS__))
