#!/usr/bin/env bash
# The console attached to a loaded gateway (docs/admin-stream.md, "Measured"):
# pushgatewayd with an API key, pushbench holding CLIENTS bound clients in a
# process of its own, then attach_latency (the console's RemoteGatewaySource)
# timing the snapshot from attach to Connected, and the latency from a push
# written on the push port to its event in the source at RATE pushes/s.
#
#   bench/attach.sh [--build-dir DIR] [--clients 19000] [--snapshots 3]
#                   [--pushes 2000] [--rate 200]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
clients=19000
snapshots=3
pushes=2000
rate=200
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --snapshots) snapshots=$2; shift 2 ;;
    --pushes) pushes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "attach.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

server_bin="$build/app/pushgatewayd"
bench_bin="$build/bench/pushbench"
attach_bin="$build/bench/attach_latency"
for b in "$server_bin" "$bench_bin" "$attach_bin"; do
    [[ -x $b ]] || { echo "attach.sh: $b is not built" >&2; exit 1; }
done

work=$(mktemp -d)
server_pid=
bench_pid=
cleanup() {
    [[ -n $bench_pid ]] && kill -TERM "$bench_pid" 2>/dev/null || true
    [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$work/api.key"

listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$1")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

read -r ws_port text_port < <("$bench_bin" --free-ports)
read -r http_port _ < <("$bench_bin" --free-ports)
taskset -c 0 "$server_bin" --no-gui --ws-bind 127.0.0.1 --ws-port "$ws_port" \
    --text-port "$text_port" --http-port "$http_port" --http-api-key-file "$work/api.key" \
    --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
    listening "$ws_port" && listening "$text_port" && listening "$http_port" && break
    sleep 0.05
done
listening "$http_port" || { cat "$work/server.log" >&2; exit 1; }

# The clients: bound, then held (reading) for the rest of the run.
taskset -c 1 "$bench_bin" --ws-port "$ws_port" --text-port "$text_port" --clients "$clients" \
    --uid-prefix held --pushes 0 --hold 3600 --duration 3700 --quiet >"$work/bench.log" 2>&1 &
bench_pid=$!

taskset -c 1 "$attach_bin" --url "http://127.0.0.1:$http_port" --api-key-file "$work/api.key" \
    --ws-port "$ws_port" --text-port "$text_port" --expect-uids "$clients" \
    --snapshots "$snapshots" --pushes "$pushes" --rate "$rate"
echo "server RSS: $(awk '/VmRSS/ { print $2, $3 }' "/proc/$server_pid/status")"
