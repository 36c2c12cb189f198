#!/usr/bin/env bash
# Attacks a headless pushconsole (bench/attack_ws.py) and reports its memory:
# RSS before and after a ping flood from a client that never reads, a flood
# of silent connections, and a slow consumer; each next to the cap that is
# meant to bound it. Exits 1 when a growth is 2x its cap or more.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/attack-ws.sh [options]

Starts "pushconsole --no-gui" on free 127.0.0.1 ports once per scenario,
runs bench/attack_ws.py against it, stops it with SIGTERM and prints the
server's RSS before and after with the configured cap. Status 0 when every
growth stays under 2x its cap, 1 otherwise, 2 for bad usage.

Scenarios (all by default):
  pingflood   a client that never reads gets 6 pushes of 1 MiB (they fill
              the kernel's socket buffers), then sends --pings empty pings
              (500000); cap: --max-output (the most one connection may queue)
  silent      --connections TCP connections (10000) that never send a byte,
              then a real client binds; cap: --max-unbound x 10 KiB (what
              an unbound connection may hold: its object and at most an
              8 KiB half-sent handshake)
  slow        a client that never reads gets 1 MiB pushes until one is not
              answered "ok" (at most --pushes, 20); cap: --max-output

Options:
  --binary FILE       the pushconsole to attack (default: <build>/app/pushconsole)
  --build-dir DIR     CMake build directory (default: <repo>/build)
  --no-build          do not build pushconsole first
  --scenario NAME     run only this scenario (repeatable)
  --pings N, --connections N, --pushes N
  --server-arg ARG    extra pushconsole argument, repeatable
                      (e.g. --server-arg --max-output=4M)
  -h, --help          this text
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build="$repo/build"
binary=
do_build=1
scenarios=()
pings=500000
connections=10000
pushes=20
server_args=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --binary) binary=${2:?--binary needs a value}; shift 2 ;;
        --build-dir) build=${2:?--build-dir needs a value}; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --scenario) scenarios+=("${2:?--scenario needs a value}"); shift 2 ;;
        --pings) pings=${2:?}; shift 2 ;;
        --connections) connections=${2:?}; shift 2 ;;
        --pushes) pushes=${2:?}; shift 2 ;;
        --server-arg) server_args+=("${2:?--server-arg needs a value}"); shift 2 ;;
        *) echo "attack-ws.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(pingflood silent slow)
for s in "${scenarios[@]}"; do
    case "$s" in pingflood|silent|slow) ;; *) echo "attack-ws.sh: unknown scenario $s" >&2; exit 2 ;; esac
done

if [[ -z "$binary" ]]; then
    if [[ $do_build == 1 ]]; then
        cmake --build "$build" --target pushconsole -j2 >&2
    fi
    binary="$build/app/pushconsole"
fi
[[ -x "$binary" ]] || { echo "attack-ws.sh: $binary not found (build first)" >&2; exit 2; }

# The caps as the server will see them: its defaults unless an argument says
# otherwise (later arguments win, as in pushconsole).
size_bytes() {
    local v=${1,,} scale=1
    v=${v%ib}; v=${v%b}
    case "$v" in
        *k) scale=1024; v=${v%k} ;;
        *m) scale=$((1024 * 1024)); v=${v%m} ;;
        *g) scale=$((1024 * 1024 * 1024)); v=${v%g} ;;
    esac
    echo $((v * scale))
}
max_output=$((8 * 1024 * 1024))
max_unbound=10000
for arg in "${server_args[@]}"; do
    case "$arg" in
        --max-output=*) max_output=$(size_bytes "${arg#*=}") ;;
        --max-unbound=*) max_unbound=${arg#*=} ;;
    esac
done

log=$(mktemp "${TMPDIR:-/tmp}/attack-ws.XXXXXX.log")
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
    : >"$log"
    "$binary" --no-gui --ws-bind 127.0.0.1 --ws-port 0 --text-port 0 --http-port -1 \
        --log-level info "${server_args[@]}" >"$log" 2>&1 &
    server_pid=$!
    ws_port= text_port=
    for _ in $(seq 1 200); do
        if [[ $(head -n 5 "$log") =~ listening\ ws=127\.0\.0\.1:([0-9]+)\ text=127\.0\.0\.1:([0-9]+) ]]; then
            ws_port=${BASH_REMATCH[1]}
            text_port=${BASH_REMATCH[2]}
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "attack-ws.sh: the server did not start:" >&2
    cat "$log" >&2
    exit 1
}

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    return $status
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

failed=0
echo "pushconsole: $binary"
for scenario in "${scenarios[@]}"; do
    start_server
    case "$scenario" in
        pingflood) count=$pings; cap=$max_output; cap_text="--max-output $(mib $((max_output / 1024)))" ;;
        silent) count=$connections; cap=$((max_unbound * 10240))
            cap_text="--max-unbound $max_unbound x 10 KiB = $(mib $((cap / 1024)))" ;;
        slow) count=$pushes; cap=$max_output; cap_text="--max-output $(mib $((max_output / 1024)))" ;;
    esac
    out=$(python3 "$here/attack_ws.py" "$scenario" --ws-port "$ws_port" --text-port "$text_port" \
        --server-pid "$server_pid" --count "$count")
    get() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
    before=$(get rss_before_kib)
    after=$(get rss_after_kib)
    peak=$(get rss_peak_kib)
    [[ -n "$peak" ]] || peak=$after
    growth=$((peak - before))
    verdict=ok
    if ((growth * 1024 >= 2 * cap)); then verdict="OVER 2x CAP"; failed=1; fi
    echo
    echo "== $scenario"
    case "$scenario" in
        pingflood) filled=$(get rss_filled_kib)
            echo "   $(get fill_pushes) pushes of 1 MiB fill the kernel's buffers (RSS then $(mib "$filled")), then" \
            "$(get pings) pings from the client that never reads: $(mib $((after - filled))) for the pings alone;" \
            "connection still open: $(get connection_open)" ;;
        silent) echo "   $(get connections) silent connections, $(get server_fds_held) held by the server;" \
            "a real client then bound: $(get user_admitted)" ;;
        slow) echo "   $(get pushes) pushes of $(get push_bytes) bytes: $(get answered_ok) answered ok," \
            "first not ok: #$(get first_not_ok)" ;;
    esac
    echo "   RSS before $(mib "$before"), after $(mib "$after"), peak $(mib "$peak"):" \
        "growth $(mib "$growth"); cap $cap_text; $verdict"
    stop_server || echo "   server exit status $?"
    grep -E 'slow consumer|discarded|evict|shutdown|undelivered' "$log" | head -n 5 | sed 's/^/   log: /' || true
done
exit $failed
