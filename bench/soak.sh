#!/usr/bin/env bash
# The soak test: builds, starts a headless pushconsole with timeouts short
# enough for churn to exercise them, runs "pushbench --soak" against it
# (thousands of clients leaving and rebinding while pushes flow), stops the
# server with SIGTERM and exits with the soak's status. Bounded in time.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/soak.sh [options] [--] [more pushbench options]

Builds pushconsole and pushbench, starts "pushconsole --no-gui" (through
bench/run.sh: pinned cores, free ports), runs "pushbench --soak" and exits
with its status: 0 when no "ok" push was lost or misrouted, the server's RSS
came back to within --max-rss-growth of its warm-up level and its descriptor
count came back to the baseline; 1 otherwise (or when the server did not
exit cleanly on SIGTERM); 2 for bad usage.

Options (defaults in brackets):
  --duration S        seconds of churn [180]; the whole run is capped at
                      S + 300 s (build excluded)
  --clients N         WebSocket clients (uids) [5000]
  --churn R           clients leaving and rebinding per second [200]
  --rate R            pushes per second [2000]
  --unbound N         connections kept open that never send a uid [50]
  --bind-timeout S    the server's --bind-timeout, in seconds [2]
  --max-output SIZE   the server's --max-output, so that stalled clients
                      can be dropped [256K]
  --max-rss-growth P  allowed RSS growth from warm-up to end, in % [5]
  --jobs N            build parallelism [2]
  --build-dir DIR, --no-build, --server-cpu N, --bench-cpu N,
  --server-log-level L, --server-arg ARG, --server-log FILE
                      as for bench/run.sh
  -h, --help          this text

Any other option goes to pushbench (see "pushbench --help", Soak), e.g.
--stall-rate 2 --stall 5 --stall-bytes 4194304 --drain-timeout 5 --json.
The server also gets --ping-interval 5s and --heartbeat 30s, so that pings
and pongs flow during the soak while stalls (5 s) stay below the heartbeat.

Examples:
  bench/soak.sh                                   # 5000 clients, 3 minutes
  bench/soak.sh --duration 600 --clients 10000    # 10 minutes
  bench/soak.sh --duration 30 --clients 500 --churn 50 --rate 500   # quick
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build="$repo/build"
do_build=1
jobs=2
duration=180
clients=5000
churn=200
rate=2000
unbound=50
bind_timeout=2
max_output=256K
max_rss_growth=5
run_args=()
bench_args=()

need() { [[ $# -ge 2 && -n "$2" ]] || { echo "soak.sh: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --duration) need "$@"; duration=$2; shift 2 ;;
        --clients) need "$@"; clients=$2; shift 2 ;;
        --churn) need "$@"; churn=$2; shift 2 ;;
        --rate) need "$@"; rate=$2; shift 2 ;;
        --unbound) need "$@"; unbound=$2; shift 2 ;;
        --bind-timeout) need "$@"; bind_timeout=$2; shift 2 ;;
        --max-output) need "$@"; max_output=$2; shift 2 ;;
        --max-rss-growth) need "$@"; max_rss_growth=$2; shift 2 ;;
        --jobs) need "$@"; jobs=$2; shift 2 ;;
        --build-dir) need "$@"; build=$2; run_args+=("$1" "$2"); shift 2 ;;
        --no-build) do_build=0; shift ;;
        --server-cpu|--bench-cpu|--server-log-level|--server-arg|--server-log)
            need "$@"; run_args+=("$1" "$2"); shift 2 ;;
        --) shift; bench_args+=("$@"); break ;;
        *) bench_args+=("$1"); shift ;;
    esac
done

# Whole seconds keep the time bound below simple arithmetic.
for pair in "duration:$duration" "clients:$clients" "unbound:$unbound" "jobs:$jobs"; do
    [[ ${pair#*:} =~ ^[0-9]+$ ]] || { echo "soak.sh: --${pair%%:*} expects a whole number" >&2; exit 2; }
done
[[ $bind_timeout =~ ^[0-9]+(\.[0-9]+)?$ ]] \
    || { echo "soak.sh: --bind-timeout expects seconds" >&2; exit 2; }
[[ $duration -ge 1 ]] || { echo "soak.sh: --duration must be at least 1" >&2; exit 2; }

if [[ $do_build == 1 ]]; then
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
        cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    fi
    cmake --build "$build" --target pushconsole pushbench -j"$jobs" >&2
fi

# pushbench caps itself at --soak + 120 s; the outer limit only guards
# against a hang around it (server start, SIGTERM) and stays well above.
limit=$((duration + 300))
echo "soak.sh: $clients clients, ${duration} s of churn at $churn/s, $rate pushes/s," \
    "$unbound unbound (server bind timeout ${bind_timeout}s, max output $max_output)" >&2
status=0
timeout --signal=TERM --kill-after=30 "$limit" "$here/run.sh" --no-build --check-server-exit \
    "${run_args[@]}" \
    --server-arg "--bind-timeout=${bind_timeout}s" \
    --server-arg "--max-output=$max_output" \
    --server-arg "--ping-interval=5s" \
    --server-arg "--heartbeat=30s" \
    -- --soak "$duration" --clients "$clients" --churn "$churn" --rate "$rate" \
    --unbound "$unbound" --bind-timeout "$bind_timeout" --max-rss-growth "$max_rss_growth" \
    "${bench_args[@]}" || status=$?
if [[ $status == 124 ]]; then
    echo "soak.sh: gave up after $limit s" >&2
    status=1
fi
exit "$status"
