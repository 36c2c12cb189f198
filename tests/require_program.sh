# Sourced by the shell tests: the rule of tests/core/ExternalPrograms.h for
# the programs they drive. When one is missing:
# - outside CI the part that needs it is skipped, saying which Debian package
#   installs it, and the test ends with exit code 77 (SKIP_RETURN_CODE in
#   CMake), which ctest reports as skipped, not passed;
# - in CI (PUSHCONSOLE_CI=1, set by .ci/run) the test fails at once.

PUSHCONSOLE_SKIP_CODE=77
PUSHCONSOLE_SKIPPED=""

debian_package_of() {
    case "$1" in
    php) echo php-cli ;;
    node | nodejs) echo nodejs ;;
    clang++) echo clang ;;
    systemd-analyze) echo systemd ;;
    prlimit) echo util-linux ;;
    *) echo "$1" ;;
    esac
}

# require_program NAME: true when NAME is on PATH. Otherwise fails the test
# in CI, or prints SKIP, remembers it and returns false.
require_program() {
    command -v "$1" >/dev/null 2>&1 && return 0
    local why
    why="$1 is not installed (Debian package $(debian_package_of "$1"))"
    if [ "${PUSHCONSOLE_CI:-0}" = 1 ]; then
        echo "FAIL: $why; CI (PUSHCONSOLE_CI=1) must have it" >&2
        exit 1
    fi
    echo "SKIP: $why"
    PUSHCONSOLE_SKIPPED="${PUSHCONSOLE_SKIPPED:+$PUSHCONSOLE_SKIPPED, }$1"
    return 1
}

# The end of a test that ran: skipped (77) when a part was, passed otherwise.
finish_test() {
    if [ -n "$PUSHCONSOLE_SKIPPED" ]; then
        echo "SKIPPED (missing $PUSHCONSOLE_SKIPPED): the rest passed"
        exit "$PUSHCONSOLE_SKIP_CODE"
    fi
    echo "PASS"
    exit 0
}
