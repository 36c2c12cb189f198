#!/usr/bin/env bash
# Cross-node pushes against single-node pushes on the same machine: starts a
# redis-server and gateways on free loopback ports for every run, runs
# pushbench, and prints medians of alternated runs.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/cluster.sh [options] [-- extra pushbench options]

Scenarios, run in rounds (single cross local, single cross local, ...):
  single   one gateway, no Redis: clients and pushes on it
  cross    two gateways a and b on one Redis: clients on b, pushes to a's
           push port (every push crosses Redis pub/sub)
  local    the same cluster, pushes to b's own port (cluster mode, local path)
Each scenario runs twice per round: "thr" (as fast as possible, pipelined)
and "lat" (paced at --rate, one request in flight per connection).

Options:
  --runs N          rounds (default 3)
  --clients N       WebSocket clients (default 1000)
  --pushes N        pushes of a throughput run (default 100000)
  --rate R          pushes/s of a latency run (default 2000; 5 s of pushes)
  --server-cpu N    core for redis-server and the gateways (default 0)
  --bench-cpu N     core for pushbench (default 1)
  --build-dir DIR   (default <repo>/build; built if needed)
  --keep DIR        keep every run's JSON and logs
  -h, --help

Columns: runs that passed / runs, delivered/s, delivery latency p50 and p99
(us), and the CPU time of all server processes (gateways and Redis) per
delivered push (us), whole run.
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=3 clients=1000 pushes=100000 rate=2000 scpu=0 bcpu=1
build_dir=$repo/build keep= extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --runs) runs=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --pushes) pushes=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --server-cpu) scpu=$2; shift 2 ;;
        --bench-cpu) bcpu=$2; shift 2 ;;
        --build-dir) build_dir=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
command -v redis-server >/dev/null || { echo "cluster.sh: needs redis-server" >&2; exit 2; }
[[ -f "$build_dir/CMakeCache.txt" ]] ||
    cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build_dir" --target pushconsole pushbench >&2
gw=$build_dir/app/pushconsole
bench=$build_dir/bench/pushbench

out=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/pushbench-cluster.XXXXXX")}
mkdir -p "$out"
pids=()
source "$here/cluster-lib.sh"
trap cleanup EXIT

# Server CPU (utime + stime, in clock ticks) of the given pids, summed.
ticks() {
    local sum=0 p
    for p in "$@"; do
        [[ -r /proc/$p/stat ]] || continue
        sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo "$sum"
}
start_gateway() { # log args...
    local log=$1; shift
    taskset -c "$scpu" "$gw" --no-gui --ws-bind 127.0.0.1 --http-port -1 --log-level info "$@" >"$log" 2>&1 &
    pids+=($!)
    wait_for "$log" "listening ws="
}

run() { # scenario kind round
    local scenario=$1 kind=$2 r=$3 tag="$1-$2.$3"
    pids=()
    read -r wa ta < <(ports)
    local servers=() ws text
    if [[ $scenario == single ]]; then
        start_gateway "$out/$tag.a.log" --ws-port "$wa" --text-port "$ta"
        servers=("${pids[@]}")
        ws=$wa text=$ta
    else
        read -r wb tb < <(ports)
        read -r rp _ < <(ports)
        taskset -c "$scpu" redis-server --port "$rp" --bind 127.0.0.1 --save '' \
            --appendonly no >"$out/$tag.redis.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 100); do redis-cli -p "$rp" ping >/dev/null 2>&1 && break; sleep 0.05; done
        local url=redis://127.0.0.1:$rp
        start_gateway "$out/$tag.a.log" --ws-port "$wa" --text-port "$ta" --redis "$url" --node-id a
        start_gateway "$out/$tag.b.log" --ws-port "$wb" --text-port "$tb" --redis "$url" --node-id b
        wait_for "$out/$tag.a.log" "cluster state=up"
        wait_for "$out/$tag.b.log" "cluster state=up"
        servers=("${pids[@]}")
        ws=$wb
        [[ $scenario == cross ]] && text=$ta || text=$tb
    fi
    local load=(--pushes "$pushes")
    [[ $kind == lat ]] && load=(--pushes $((rate * 5)) --rate "$rate" --conns 4 --depth 1)
    local before after
    before=$(ticks "${servers[@]}")
    taskset -c "$bcpu" "$bench" --ws-port "$ws" --text-port "$text" --clients "$clients" \
        "${load[@]}" --duration 120 --json --quiet "${extra[@]}" >"$out/$tag.json" \
        2>"$out/$tag.err" || true
    after=$(ticks "${servers[@]}")
    echo $(( (after - before) * 1000000 / $(getconf CLK_TCK) )) >"$out/$tag.cpu_us"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

scenarios=(single cross local)
for ((r = 1; r <= runs; ++r)); do
    for s in "${scenarios[@]}"; do
        for k in thr lat; do
            echo "cluster.sh: round $r/$runs: $s $k" >&2
            run "$s" "$k" "$r"
        done
    done
done

nested() { sed -n "s/.*\"$2\":{[^}]*\"$3\":\\([-0-9.]*\\).*/\\1/p" "$1"; }
printf '%-12s %5s %11s %9s %9s %12s\n' scenario ok deliver/s p50_us p99_us srv_us/msg
for s in "${scenarios[@]}"; do
    for k in thr lat; do
        passed=0 cols=()
        for metric in delivered_per_s lat50 lat99 cpu; do
            for ((r = 1; r <= runs; ++r)); do
                f="$out/$s-$k.$r.json"
                [[ -s $f ]] || continue
                case $metric in
                    lat50) nested "$f" latency_us p50 ;;
                    lat99) nested "$f" latency_us p99 ;;
                    cpu)
                        d=$(field "$f" delivered)
                        awk -v c="$(cat "$out/$s-$k.$r.cpu_us")" -v d="${d:-0}" \
                            'BEGIN { if (d > 0) print c / d }' ;;
                    *) field "$f" "$metric" ;;
                esac
            done | median >"$out/median"
            cols+=("$(cat "$out/median")")
        done
        for ((r = 1; r <= runs; ++r)); do
            grep -q '"ok":true' "$out/$s-$k.$r.json" 2>/dev/null && passed=$((passed + 1))
        done
        printf '%-12s %5s %11s %9s %9s %12s\n' "$s-$k" "$passed/$runs" "${cols[@]}"
    done
done
