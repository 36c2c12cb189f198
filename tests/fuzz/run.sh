#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each one
# for SECONDS (default 20), then prints how many inputs each executed.
#   tests/fuzz/run.sh [SECONDS]
# Fails on any crash, sanitizer report, broken invariant, leak or timeout;
# the offending input is kept in build-fuzz/run/<target>/artifacts/.
# Runs start from a copy of tests/fuzz/corpus/<target>/, so the repository's
# seed corpus is never written to. Needs clang and libclang-rt-14-dev
# (scripts/test.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ_DIR="$ROOT/tests/fuzz"
BUILD_DIR="${PUSHCONSOLE_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_EACH="${1:-20}"
JOBS="${PUSHCONSOLE_JOBS:-$(nproc)}"

if ! [[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS]   (a whole number of seconds per target)" >&2
    exit 2
fi
if ! command -v clang++ >/dev/null 2>&1; then
    echo "error: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi

echo "==> building fuzz targets (clang, ASan+UBSan+libFuzzer) in $BUILD_DIR"
cmake -S "$FUZZ_DIR" -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --parallel "$JOBS"

# target  max_len: long enough to cross each parser's own size limit
TARGETS=(
    "pushrequest 16384"
    "firstmessage 5000"
    "wsframe 512"
    "wshandshake 9000"
    "proxyheader 4200"
    "httpparser 8192"
)

failed=0
summary=()
for entry in "${TARGETS[@]}"; do
    read -r name max_len <<<"$entry"
    work="$BUILD_DIR/run/$name"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "$FUZZ_DIR/corpus/$name/"* "$work/corpus/"
    seeds=$(find "$work/corpus" -type f | wc -l)
    args=(
        -max_total_time="$SECONDS_EACH"
        -max_len="$max_len"
        -timeout=10
        -rss_limit_mb=2048
        -print_final_stats=1
        -artifact_prefix="$work/artifacts/"
    )
    if [ -f "$FUZZ_DIR/$name.dict" ]; then
        args+=(-dict="$FUZZ_DIR/$name.dict")
    fi
    echo "==> fuzzing $name for ${SECONDS_EACH}s"
    status=0
    # halt_on_error etc. are libFuzzer's defaults; abort_on_error keeps the
    # exit status non-zero whatever the sanitizer.
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}" \
        "$BUILD_DIR/fuzz_$name" "${args[@]}" "$work/corpus" >"$work/log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/log" | tail -1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$work/log" | tail -1)
    fi
    corpus=$(find "$work/corpus" -type f | wc -l)
    artifacts=$(find "$work/artifacts" -type f | wc -l)
    if [ "$status" -ne 0 ] || [ "$artifacts" -ne 0 ] \
        || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant broken' "$work/log"; then
        failed=1
        echo "FAILED: fuzz_$name (exit $status); the end of its log ($work/log):" >&2
        tail -n 60 "$work/log" >&2
        find "$work/artifacts" -type f -printf '  input kept: %p\n' >&2
        summary+=("$(printf '%-13s FAILED after %s executions' "$name" "${execs:-?}")")
    else
        summary+=("$(printf '%-13s %12s executions in %ss, corpus %s -> %s' \
            "$name" "${execs:-?}" "$SECONDS_EACH" "$seeds" "$corpus")")
    fi
done

echo "==> fuzzing summary"
printf '  %s\n' "${summary[@]}"
exit "$failed"
