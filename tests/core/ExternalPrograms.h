#pragma once

#include <QString>
#include <QTest>

// The real programs some tests drive (redis-server, php, chromium, curl,
// openssl, node, ...). When one is missing a test cannot run, and what
// happens then depends on where it runs:
// - on a developer's machine the test is skipped, saying which program is
//   missing and which Debian package installs it (scripts/test.sh installs
//   them all);
// - in CI (PUSHCONSOLE_CI=1, set by .ci/run) it fails: a missing package
//   must never turn into a green run that tested nothing.
// tests/require_program.sh applies the same rule to the shell tests.
namespace TestSupport {

bool isCi();
// The program's path on PATH; empty when it is not installed.
QString programPath(const QString &name);
// The Debian package that installs the program.
QString debianPackageOf(const QString &name);
// "curl is not installed (Debian package curl)".
QByteArray missingProgram(const QString &name);

// For REQUIRE_PROGRAM: true when the program is there; otherwise reports a
// skip (or in CI a failure) at file:line and returns false.
bool requireProgram(const QString &name, const char *file, int line);

} // namespace TestSupport

// In a test function or initTestCase() (in initTestCase it concerns every
// test of the class): skips or fails it when the program is missing.
//     REQUIRE_PROGRAM("curl");
//     const QString curl = TestSupport::programPath(QStringLiteral("curl"));
#define REQUIRE_PROGRAM(name)                                                                      \
    do {                                                                                           \
        if (!TestSupport::requireProgram(QStringLiteral(name), __FILE__, __LINE__))                \
            return;                                                                                \
    } while (false)
