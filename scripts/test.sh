#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the whole test suite.
# Extra arguments go to ctest, e.g.  scripts/test.sh -R gateway
# Then, unless PUSHCONSOLE_QUICK=1:
#   - builds build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#     and runs the core tests there once (ctest -L core, without the repeat
#     on the epoll dispatcher); any report fails;
#   - builds build-tsan/ with ThreadSanitizer and runs the core tests there
#     (with tst_handoffqueue on both dispatchers); any report fails;
#   - builds the libFuzzer targets and runs each for 10 s (tests/fuzz/run.sh).
# CI runs the whole thing; PUSHCONSOLE_QUICK=1 is for quick local runs.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Real programs the tests drive: php-cli runs the seed's own PHP callback and
# the token minting snippet, curl scrapes /metrics and posts pushes, chromium
# (headless) runs the browser test page and the browser client, nodejs runs
# the client's unit test, the cluster and offline tests start
# their own redis-server on free ports, openssl makes throwaway keys and
# certificates, clang with its runtime builds the fuzzers, and lintian and
# systemd-analyze (systemd) check the Debian packages (tests/package).
# A test whose program is missing is skipped, saying so; in CI
# (PUSHCONSOLE_CI=1, .ci/run) it fails.
TEST_PACKAGES=(php-cli curl chromium nodejs redis-server openssl clang libclang-rt-14-dev lintian
    systemd)

stage_start=$SECONDS
timings=()
end_stage() {
    timings+=("$(printf '%-34s %4ds' "$1" $((SECONDS - stage_start)))")
    stage_start=$SECONDS
}
print_timings() {
    say "stage timings"
    printf '    %s\n' "${timings[@]}"
}

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
end_stage "packages"
build_project Release -DBUILD_TESTING=ON
end_stage "build (Release)"

say "running tests"
cd "$BUILD_DIR"
# No display is needed or used: UI tests run on the offscreen platform.
# Two at a time, one per core: every test is a single event loop (plus the
# processes it starts), and the timing checks leave room for a busy machine.
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    ctest --output-on-failure --timeout 300 --parallel "$(nproc)" "$@"
end_stage "tests (Release)"

if [ "${PUSHCONSOLE_QUICK:-0}" = 1 ]; then
    say "PUSHCONSOLE_QUICK=1: skipping the sanitizer and fuzzing stages"
    print_timings
    exit 0
fi

# The core tests once more in a sanitizer build: -O1 with line tables only
# (reports keep file:line, the build stays short), only the core tests and
# the binary they drive. A sanitizer aborts the process that hit a report
# (halt_on_error), so the test fails; a child process (the headless tests
# run the binary) could hide its stderr, so reports also go to files in
# $reports, and any file at all fails the stage.
sanitizer_build() { # label build-dir PUSHCONSOLE_SANITIZE value
    say "configuring (-O1, $1) in $2"
    cmake -S "$ROOT" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=None \
        -DCMAKE_CXX_FLAGS="-O1 -g1" -DPUSHCONSOLE_SANITIZE="$3" -DBUILD_TESTING=ON >/dev/null
    say "building"
    cmake --build "$2" --parallel "$(nproc)" --target tests/core/all
    end_stage "build ($1)"
    reports="$2/sanitizer-reports"
    rm -rf "$reports"
    mkdir -p "$reports"
    cd "$2"
}
# Fails the run with every report printed, or on a failed test.
sanitizer_verdict() {
    if [ -n "$(ls -A "$reports")" ]; then
        for report in "$reports"/*; do
            echo "---- $report" >&2
            cat "$report" >&2
        done
        echo "error: sanitizer reports (above, kept in $reports)" >&2
        status=1
    fi
    if [ "$status" -ne 0 ]; then
        print_timings
        exit "$status"
    fi
}

# ASan + UBSan: UBSan is built without recovery, so undefined behaviour is
# fatal, and leaks fail the process at exit.
sanitizer_build "ASan+UBSan" "${PUSHCONSOLE_ASAN_BUILD_DIR:-$ROOT/build-asan}" address
say "running core tests under ASan+UBSan"
status=0
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$reports/asan" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0" \
    ctest -L core -LE epoll --output-on-failure --timeout 300 --parallel "$(nproc)" || status=$?
end_stage "core tests (ASan+UBSan)"
sanitizer_verdict

# ThreadSanitizer: HandOffQueue hands items between threads, the socket
# threads (--threads) own the WebSocket sockets, the SQLite store
# checkpoints from a thread of its own, and every test that starts a thread
# of ours (or one of Qt's) runs here: the _threads runs (labels core;threads)
# put every core test's clients on three socket threads. Qt is not built with TSan, so
# orderings that only Qt's QMutex gives are invisible to it; tests/tsan.supp
# names those reports (only ones inside Qt and the libraries it calls, never
# our code).
sanitizer_build "TSan" "${PUSHCONSOLE_TSAN_BUILD_DIR:-$ROOT/build-tsan}" thread
say "running core tests under TSan"
# die_after_fork=0: QProcess (redis-server, openssl) starts its child with
# clone(CLONE_VM), which TSan takes for a fork of this threaded process (the
# test's watchdog is a thread); the next thread started here (the SQLite
# checkpoint, TLS) would then be fatal ("starting new threads after
# multi-threaded fork"), although the child only ever calls exec.
tsan_env=(env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen
    TSAN_OPTIONS="halt_on_error=1:die_after_fork=0:log_path=$reports/tsan:suppressions=$ROOT/tests/tsan.supp")
# Left out: tst_epolldispatcher sends queued signals between threads by
# design; Qt orders a posted event with a QMutex in its own (uninstrumented)
# code, so every one reads as a race on the event's arguments.
# tst_handoffqueue also runs on the epoll dispatcher: its threads use it.
"${tsan_env[@]}" ctest -L core -LE epoll -E '^tst_epolldispatcher$' \
    --output-on-failure --timeout 300 --parallel "$(nproc)" || status=$?
"${tsan_env[@]}" ctest -R '^tst_handoffqueue_epoll$' --output-on-failure --timeout 300 ||
    status=$?
end_stage "core tests (TSan)"
sanitizer_verdict

if command -v clang++ >/dev/null 2>&1; then
    "$ROOT/tests/fuzz/run.sh" 10 || status=$?
    end_stage "fuzzing (build + 6 x 10 s)"
elif [ "${PUSHCONSOLE_CI:-0}" = 1 ]; then
    echo "error: clang++ is not installed (Debian package clang); CI must fuzz" >&2
    status=1
else
    say "clang++ not found (Debian package clang): skipping fuzzing"
fi
print_timings
exit "$status"
