#!/usr/bin/env bash
# Offline store and the event loop, by hand: does storing pushes for offline
# uids make the gateway wait for the disk?
#
#   bench/offline-stall.sh [--server BIN] [--pushes 30000] [--size 1000]
#
# Starts the server (core 0) with --offline-ttl and a fresh SQLite file,
# pushes --pushes messages of --size bytes to offline uids one at a time
# from bench/offline_stall.py (core 1), and traces fdatasync/fsync with
# strace: how many the event loop's thread made and how long they held it,
# against the other threads' (the checkpoint thread). Prints the reply
# latency and the two lines of syncs. strace slows every system call it
# sees, so the latencies are for comparing runs, not absolute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server_bin="$here/../build/app/pushgatewayd"
pushes=30000
size=1000
while [[ $# -gt 0 ]]; do
    case $1 in
        --server) server_bin=$2; shift 2 ;;
        --pushes) pushes=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        *) echo "offline-stall.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v strace >/dev/null || { echo "offline-stall.sh: needs strace (apt-get install strace)" >&2; exit 2; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c 0 "$server_bin" --ws-port 0 --http-port -1 --text-port "$port" --offline-ttl 60m \
    --offline-db "$work/offline.sqlite" --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
trace_pid=
trap 'kill $trace_pid $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1
strace -f -e trace=fdatasync,fsync -T -p "$server_pid" -o "$work/syncs.txt" 2>/dev/null &
trace_pid=$!
sleep 0.5
taskset -c 1 python3 "$here/offline_stall.py" "$port" "$pushes" "$size"
kill "$trace_pid"
wait "$trace_pid" 2>/dev/null || true
# strace -f lines: "TID syscall(...) = 0 <seconds>"; the main thread's TID is the pid.
awk -v main="$server_pid" '
    /fsync|fdatasync/ {
        d = $NF; gsub(/[<>]/, "", d); d += 0
        who = ($1 == main) ? "event loop thread" : "other threads"
        n[who]++; total[who] += d; if (d > worst[who]) worst[who] = d
    }
    END {
        split("event loop thread,other threads", order, ",")
        for (i = 1; i <= 2; i++) {
            w = order[i]
            printf "%-18s %5d syncs, %7.1f ms in all, longest %6.1f ms\n", w, n[w], total[w] * 1000, worst[w] * 1000
        }
    }' "$work/syncs.txt"
