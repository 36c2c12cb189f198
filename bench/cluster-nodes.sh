#!/usr/bin/env bash
# Cluster mode with 1, 2, 3, 4 ... nodes (and a gateway without Redis) on one Redis: what presence costs
# (a bind announced to every node), what a node's replica of the others
# holds, and what a cross-node push costs as nodes are added. Medians of
# alternated rounds. All servers share --server-cpu: this measures cost per
# operation, not the capacity of N machines.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/cluster-nodes.sh [options]

For each node count N (rounds alternate: 0 1 2 3 4, 0 1 2 3 4, ...): a
fresh redis-server and gateways n1..nN (all with --redis, so N=1 is a
one-node cluster; N=0 is one gateway without --redis, the baseline). Then:
  bind   --clients clients bind on nN (probes to nN's own push port), are
         held 2 s and close: each bind and unbind is announced on the
         presence channel that every node reads.
  push   1 000 other clients on nN; --pushes pipelined pushes to n1's push
         port (crossing Redis when N > 1).

Options:
  --runs N          rounds (default 3)
  --nodes "0 1 2 3 4" node counts (0: one gateway without --redis)
  --clients N       clients of the bind phase (default 19000; needs that many
                    descriptors in one pushbench process)
  --pushes N        pushes of the push phase (default 100000)
  --server-cpu N    core(s) for redis-server and the gateways (default 0)
  --bench-cpu N     core for pushbench (default 1)
  --build-dir DIR   where app/pushgatewayd and bench/pushbench are (default
                    <repo>/build; not built here)
  --keep DIR        keep every run's JSON and logs
  -h, --help

Columns (medians): bind_s: all clients bound; holder/other/redis us: CPU per
client (bind + unbind) of nN, of each other node (mean), of Redis;
replica_B: growth of n1's RSS per uid held on nN (N > 1); redis_B: growth
of Redis's used_memory per uid; slab_B: growth of the kernel's slab
memory (system-wide, so only on a quiet machine) per TCP socket, both ends
of each loopback connection counted; push/s and us/push: the push phase,
delivered per second, CPU of all servers per delivered push, and Redis's
part of it.
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
runs=3 nodes="0 1 2 3 4" clients=19000 pushes=100000 scpu=0 bcpu=1
build_dir=$repo/build keep=
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --runs) runs=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --pushes) pushes=$2; shift 2 ;;
        --server-cpu) scpu=$2; shift 2 ;;
        --bench-cpu) bcpu=$2; shift 2 ;;
        --build-dir) build_dir=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "cluster-nodes.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
command -v redis-server >/dev/null || { echo "cluster-nodes.sh: needs redis-server" >&2; exit 2; }
gw=$build_dir/app/pushgatewayd
bench=$build_dir/bench/pushbench
[[ -x $gw && -x $bench ]] || {
    echo "cluster-nodes.sh: build pushgatewayd and pushbench in $build_dir first" >&2
    exit 2
}

out=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/pushbench-nodes.XXXXXX")}
mkdir -p "$out"
pids=()
source "$here/cluster-lib.sh"
trap cleanup EXIT

ticks() { # utime + stime of one pid, in microseconds
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
redis_mem() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '/^used_memory:/ { print $2 }'; }

run() { # nodes round
    local n=$1 r=$2 tag="n$1.$2" i
    pids=()
    local rp ws=() text=() gws=()
    read -r rp _ < <(ports)
    taskset -c "$scpu" redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no \
        >"$out/$tag.redis.log" 2>&1 &
    local redis=$!
    pids+=("$redis")
    for _ in $(seq 100); do redis-cli -p "$rp" ping >/dev/null 2>&1 && break; sleep 0.05; done
    # N=0: one gateway without --redis (Redis idles beside it).
    local g=$((n > 0 ? n : 1)) cluster=()
    for ((i = 1; i <= g; ++i)); do
        read -r w t < <(ports)
        ws+=("$w") text+=("$t")
        ((n > 0)) && cluster=(--redis "redis://127.0.0.1:$rp" --node-id "n$i")
        taskset -c "$scpu" "$gw" --no-gui --ws-bind 127.0.0.1 --http-port -1 --log-level info \
            --ws-port "$w" --text-port "$t" "${cluster[@]}" >"$out/$tag.n$i.log" 2>&1 &
        pids+=($!) gws+=($!)
    done
    for ((i = 1; i <= g; ++i)); do
        wait_for "$out/$tag.n$i.log" "$( ((n > 0)) && echo "cluster state=up" || echo "listening ws=")"
    done
    sleep 0.5
    local holder=${gws[g - 1]} first=${gws[0]}
    local before=() rss0 mem0 rss_max mem_max slab0 slab_max
    for p in "${gws[@]}" "$redis"; do before+=("$(ticks "$p")"); done
    rss0=$(rss_kb "$first") mem0=$(redis_mem "$rp")
    slab0=$(slab_kb)
    rss_max=$rss0 mem_max=$mem0 slab_max=$slab0
    taskset -c "$bcpu" "$bench" --ws-port "${ws[g - 1]}" --text-port "${text[g - 1]}" \
        --clients "$clients" --uid-prefix c --pushes 0 --hold 2 --duration 120 --json --quiet \
        >"$out/$tag.bind.json" 2>"$out/$tag.bind.err" &
    local pb=$!
    while kill -0 "$pb" 2>/dev/null; do
        local x
        x=$(rss_kb "$first"); ((x > rss_max)) && rss_max=$x
        x=$(redis_mem "$rp"); ((x > mem_max)) && mem_max=$x
        x=$(slab_kb); ((x > slab_max)) && slab_max=$x
        sleep 0.2
    done
    wait "$pb" || true
    sleep 1 # the unbinds' announcements
    local k=0 cpu_holder cpu_other=0 cpu_redis
    for p in "${gws[@]}" "$redis"; do
        local d
        d=$(awk -v a="$(ticks "$p")" -v b="${before[k]}" 'BEGIN { print a - b }')
        if [[ $p == "$redis" ]]; then cpu_redis=$d
        elif [[ $p == "$holder" ]]; then cpu_holder=$d
        else cpu_other=$(awk -v a="$cpu_other" -v d="$d" 'BEGIN { print a + d }'); fi
        k=$((k + 1))
    done
    awk -v c="$clients" -v h="$cpu_holder" -v o="$cpu_other" -v n="$n" -v rd="$cpu_redis" \
        -v r0="$rss0" -v r1="$rss_max" -v m0="$mem0" -v m1="$mem_max" \
        -v s0="$slab0" -v s1="$slab_max" 'BEGIN {
            printf "%f %f %f %f %f %f\n", h / c, (n > 1 ? o / (n - 1) / c : 0), rd / c,
                (n > 1 ? (r1 - r0) * 1024 / c : 0), (n > 0 ? (m1 - m0) / c : 0),
                (s1 - s0) * 1024 / c / 2 }' >"$out/$tag.bind.cols"

    local all0=0 all1=0 red0
    for p in "${gws[@]}" "$redis"; do all0=$(awk -v a="$all0" -v b="$(ticks "$p")" 'BEGIN { print a + b }'); done
    red0=$(ticks "$redis")
    taskset -c "$bcpu" "$bench" --ws-port "${ws[g - 1]}" --text-port "${text[0]}" \
        --clients 1000 --uid-prefix p --pushes "$pushes" --duration 120 --json --quiet \
        >"$out/$tag.push.json" 2>"$out/$tag.push.err" || true
    for p in "${gws[@]}" "$redis"; do all1=$(awk -v a="$all1" -v b="$(ticks "$p")" 'BEGIN { print a + b }'); done
    echo "$((${all1%.*} - ${all0%.*}))" >"$out/$tag.push.cpu"
    awk -v a="$(ticks "$redis")" -v b="$red0" 'BEGIN { print a - b }' >"$out/$tag.push.redis"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

for ((r = 1; r <= runs; ++r)); do
    for n in $nodes; do
        echo "cluster-nodes.sh: round $r/$runs: $n node(s)" >&2
        run "$n" "$r"
    done
done

printf '%-5s %5s %7s %9s %8s %8s %9s %8s %7s %9s %8s %10s\n' nodes ok bind_s holder_us other_us \
    redis_us replica_B redis_B slab_B push/s us/push redis/push
for n in $nodes; do
    cols=() passed=0
    for ((r = 1; r <= runs; ++r)); do
        grep -q '"ok":true' "$out/n$n.$r.bind.json" 2>/dev/null &&
            grep -q '"ok":true' "$out/n$n.$r.push.json" 2>/dev/null && passed=$((passed + 1))
    done
    cols+=("$(for ((r = 1; r <= runs; ++r)); do field "$out/n$n.$r.bind.json" bind_s; done | median 2)")
    for c in 1 2 3 4 5 6; do
        cols+=("$(for ((r = 1; r <= runs; ++r)); do
            [[ -s $out/n$n.$r.bind.cols ]] && cut -d' ' -f"$c" "$out/n$n.$r.bind.cols"; done | median 2)")
    done
    cols+=("$(for ((r = 1; r <= runs; ++r)); do field "$out/n$n.$r.push.json" delivered_per_s; done | median 2)")
    cols+=("$(for ((r = 1; r <= runs; ++r)); do
        d=$(field "$out/n$n.$r.push.json" delivered)
        awk -v c="$(cat "$out/n$n.$r.push.cpu" 2>/dev/null || echo 0)" -v d="${d:-0}" \
            'BEGIN { if (d > 0) print c / d }'; done | median 2)")
    cols+=("$(for ((r = 1; r <= runs; ++r)); do
        d=$(field "$out/n$n.$r.push.json" delivered)
        awk -v c="$(cat "$out/n$n.$r.push.redis" 2>/dev/null || echo 0)" -v d="${d:-0}" \
            'BEGIN { if (d > 0) print c / d }'; done | median 2)")
    printf '%-5s %5s %7s %9s %8s %8s %9s %8s %7s %9s %8s %10s\n' "$n" "$passed/$runs" "${cols[@]}"
done
