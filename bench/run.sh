#!/usr/bin/env bash
# Builds pushconsole and pushbench, starts a headless server pinned to one
# core, runs pushbench pinned to another against it, stops the server.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/run.sh [run.sh options] [--] [pushbench options]

Builds the pushconsole and pushbench targets, starts
"pushconsole --no-gui" on two free 127.0.0.1 ports pinned with taskset to
the server core, runs pushbench pinned to the bench core with
--ws-port/--text-port/--server-pid filled in, stops the server with SIGTERM
and exits with pushbench's status (0: nothing lost or wrong).

run.sh options:
  --build-dir DIR         CMake build directory (default: <repo>/build)
  --no-build              use the binaries already built
  --server-cpu N          core for the server (default 0)
  --bench-cpu N           core for pushbench (default 1)
  --server-log-level L    pushconsole --log-level (default warning)
  --server-arg ARG        extra pushconsole argument, repeatable
  --admin-stream          attach a console: open the HTTP API and read its
                          admin stream (bench/admin_reader.py) during the run
                          (e.g. --server-arg --ping-interval=1s)
  --server-log FILE       keep the server's output in FILE
                          (default: a temporary file, shown on failure)
  --check-server-exit     also fail (status 1) when the server does not exit
                          with status 0 after SIGTERM, or dies before it
  -h, --help              this text

Every other argument goes to pushbench; see "pushbench --help".
Examples:
  bench/run.sh --clients 1000 --pushes 200000
  bench/run.sh --clients 19000 --pushes 200000 --mode pipeline --json
  bench/run.sh --clients 1000 --pushes 50000 --mode connect --concurrency 32
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build="$repo/build"
do_build=1
server_cpu=0
bench_cpu=1
log_level=warning
server_args=()
server_log=
check_server_exit=0
admin_stream=0
bench_args=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --build-dir) build=${2:?--build-dir needs a value}; shift 2 ;;
        --no-build) do_build=0; shift ;;
        --server-cpu) server_cpu=${2:?--server-cpu needs a value}; shift 2 ;;
        --bench-cpu) bench_cpu=${2:?--bench-cpu needs a value}; shift 2 ;;
        --server-log-level) log_level=${2:?--server-log-level needs a value}; shift 2 ;;
        --server-arg) server_args+=("${2:?--server-arg needs a value}"); shift 2 ;;
        --server-log) server_log=${2:?--server-log needs a value}; shift 2 ;;
        --check-server-exit) check_server_exit=1; shift ;;
        --admin-stream) admin_stream=1; shift ;;
        --) shift; bench_args+=("$@"); break ;;
        *) bench_args+=("$1"); shift ;;
    esac
done

for arg in "${bench_args[@]}"; do
    case "$arg" in
        --ws-port*|--text-port*|--server-pid*)
            echo "run.sh: $arg is filled in by run.sh" >&2; exit 2 ;;
    esac
done

if [[ $do_build == 1 ]]; then
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
        cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    fi
    cmake --build "$build" --target pushconsole pushbench -j"$(nproc)" >&2
fi
server_bin="$build/app/pushconsole"
bench_bin="$build/bench/pushbench"
for bin in "$server_bin" "$bench_bin"; do
    [[ -x "$bin" ]] || { echo "run.sh: $bin not found (build first)" >&2; exit 2; }
done

keep_log=1
if [[ -z "$server_log" ]]; then
    server_log=$(mktemp "${TMPDIR:-/tmp}/pushconsole.XXXXXX.log")
    keep_log=0
fi
server_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ $keep_log == 0 ]]; then rm -f "$server_log"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# True when 127.0.0.1:$1 has a listening socket (state 0A in /proc/net/tcp).
listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# The listening line is logged at info level, so with --log-level warning the
# ports cannot be read back from the server's output: pick two free ports,
# and retry with others if one was taken in between.
started=0
for attempt in 1 2 3 4 5; do
    read -r ws_port text_port < <("$bench_bin" --free-ports)
    http_port=-1
    if [[ $admin_stream == 1 ]]; then
        read -r http_port _ < <("$bench_bin" --free-ports)
    fi
    taskset -c "$server_cpu" "$server_bin" --no-gui --ws-bind 127.0.0.1 --http-port "$http_port" --ws-port "$ws_port" \
        --text-port "$text_port" --log-level "$log_level" "${server_args[@]}" \
        >"$server_log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 200); do
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        if listening "$ws_port" && listening "$text_port"; then started=1; break; fi
        sleep 0.05
    done
    [[ $started == 1 ]] && break
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server did not listen within 10 s" >&2
        cat "$server_log" >&2
        exit 1
    fi
    wait "$server_pid" || true
    echo "run.sh: server start failed (attempt $attempt): $(tail -n 1 "$server_log")" >&2
done
[[ $started == 1 ]] || { echo "run.sh: could not start pushconsole" >&2; exit 1; }
echo "run.sh: pushconsole pid $server_pid (cpu $server_cpu) ws=127.0.0.1:$ws_port" \
    "text=127.0.0.1:$text_port; pushbench on cpu $bench_cpu" >&2

reader_pid=
if [[ $admin_stream == 1 ]]; then
    for _ in $(seq 1 100); do listening "$http_port" && break; sleep 0.05; done
    taskset -c "$bench_cpu" python3 "$(dirname "${BASH_SOURCE[0]}")/admin_reader.py" "$http_port" &
    reader_pid=$!
fi

status=0
taskset -c "$bench_cpu" "$bench_bin" --ws-port "$ws_port" --text-port "$text_port" \
    --server-pid "$server_pid" "${bench_args[@]}" || status=$?
if [[ -n $reader_pid ]]; then
    kill -TERM "$reader_pid" 2>/dev/null || true
    wait "$reader_pid" || true
fi

if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    for _ in $(seq 1 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: the server did not exit 10 s after SIGTERM; killing it" >&2
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    server_status=0
    wait "$server_pid" || server_status=$?
    if [[ $server_status != 0 ]]; then
        echo "run.sh: pushconsole exited with status $server_status" >&2
    fi
else
    server_status=0
    wait "$server_pid" || server_status=$?
    echo "run.sh: pushconsole was gone before the end (status $server_status)" >&2
    [[ $server_status != 0 ]] || server_status=1 # gone early is a failure too
fi
server_pid=
if [[ $check_server_exit == 1 && $status == 0 && $server_status != 0 ]]; then
    status=1
fi
if [[ $status != 0 && -s "$server_log" ]]; then
    echo "run.sh: last lines of the server's output:" >&2
    tail -n 20 "$server_log" >&2
fi
exit "$status"
