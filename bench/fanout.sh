#!/usr/bin/env bash
# Fair fan-out, by hand: the latency of a paced unicast stream while the
# server broadcasts to every client once a second.
#
#   bench/fanout.sh [--server BIN] [--receivers 18000] [--clients 1000]
#                   [--rate 1000] [--seconds 20]
#
# Three processes besides the server (pinned to core 0): pushbench holding
# the broadcast-only receivers (uids a0…), pushbench with the measured
# clients (uids b0…) pushing --rate unicasts/s, and a small broadcaster that
# writes {"uid":"*","bcast":N,"t":T} to the push port once a second. All of
# them on core 1; each process stays under the 20 000 descriptor limit.
# Prints the unicast latency (pushbench's "latency us delivery" line) and the
# broadcasts' own latency to their last receiver.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server_bin="$here/../build/app/pushconsole"
bench_bin="$here/../build/bench/pushbench"
receivers=18000
clients=1000
rate=1000
seconds=20
while [[ $# -gt 0 ]]; do
    case $1 in
        --server) server_bin=$2; shift 2 ;;
        --receivers) receivers=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "fanout.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
read -r ws_port text_port < <("$bench_bin" --free-ports)
taskset -c 0 "$server_bin" --no-gui --ws-bind 127.0.0.1 --http-port -1 --ws-port "$ws_port" \
    --text-port "$text_port" --log-level warning --max-conns-per-ip 100000 >/tmp/fanout-server.log 2>&1 &
server_pid=$!
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; kill "$server_pid" 2>/dev/null || true' EXIT
sleep 1
hold=$((seconds + 15))
taskset -c 1 "$bench_bin" --ws-port "$ws_port" --text-port "$text_port" --clients "$receivers" \
    --uid-prefix a --pushes 0 --hold "$hold" --duration $((hold + 60)) --quiet \
    >/tmp/fanout-receivers.log 2>&1 &
pids+=($!)
# Bound once the server counts them (its RSS settles); give them time.
sleep 6
python3 - "$text_port" $((seconds + 8)) <<'PY' >/tmp/fanout-broadcaster.log 2>&1 &
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
start = time.monotonic()
for n in range(count):
    time.sleep(max(0.0, start + n - time.monotonic()))
    t0 = time.monotonic_ns()
    s.sendall(b'{"uid":"*","bcast":%d,"t":%d}\n' % (n, t0))
    reply = f.readline()
    print(n, reply.strip().decode(), "reply after %.1f ms" % ((time.monotonic_ns() - t0) / 1e6))
PY
pids+=($!)
taskset -c 1 "$bench_bin" --ws-port "$ws_port" --text-port "$text_port" --clients "$clients" \
    --uid-prefix b --pushes $((rate * seconds)) --rate "$rate" --conns 1 --depth 64 \
    --server-pid "$server_pid" --duration $((seconds + 30)) --quiet
wait "${pids[0]}" || true
grep -E "broadcasts" /tmp/fanout-receivers.log || true
tail -n 3 /tmp/fanout-broadcaster.log
