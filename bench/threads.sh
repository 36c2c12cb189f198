#!/usr/bin/env bash
# --threads 1 against --threads 2 (and more where there are more cores), in
# alternated rounds through compare.sh: CPU per delivered push, throughput,
# latency flat out and paced, memory per idle connection.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/threads.sh [options] [-- extra pushbench options]

Runs each scenario with --threads 1 and with --threads N for every N given,
alternated round by round (compare.sh), and prints compare.sh's medians.
The server may run on every core listed in --server-cpus; pushbench is
pinned to --bench-cpu, which on a small machine is one of them: the load
generator then shares the server's cores, and the figures say so.

Options:
  --runs N             rounds (default 3)
  --threads "2 4"      thread counts compared with 1 (default: 2)
  --server-cpus LIST   cores the server may use (default: all, 0-$(nproc)-1)
  --bench-cpu N        core for pushbench (default: the last core)
  --quick              a tenth of the pushes
  --keep DIR           keep every run's JSON in DIR
  -h, --help           this text

Scenarios, each for every thread count:
  1k    --clients 1000  --pushes 200000 (pipelined, flat out)
  19k   --clients 19000 --pushes 200000 (pipelined, flat out)
  paced --clients 1000  --pushes 500000 --rate 50000 (50 000 pushes/s)
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=3
counts="2"
cores=$(nproc)
server_cpus="0-$((cores - 1))"
bench_cpu=$((cores - 1))
div=1
keep=()
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --runs) runs=${2:?--runs needs a value}; shift 2 ;;
        --threads) counts=${2:?--threads needs a value}; shift 2 ;;
        --server-cpus) server_cpus=${2:?--server-cpus needs a value}; shift 2 ;;
        --bench-cpu) bench_cpu=${2:?--bench-cpu needs a value}; shift 2 ;;
        --quick) div=10; shift ;;
        --keep) keep=(--keep "${2:?--keep needs a value}"); shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "threads.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

pin="--server-cpu $server_cpus --bench-cpu $bench_cpu"
scenarios=()
for t in 1 $counts; do
    common="$pin --server-arg --threads=$t --duration 300"
    scenarios+=(--scenario "1k-t$t=$common --clients 1000 --pushes $((200000 / div))")
    scenarios+=(--scenario "19k-t$t=$common --clients 19000 --pushes $((200000 / div))")
    scenarios+=(--scenario "paced-t$t=$common --clients 1000 --pushes $((500000 / div)) --rate 50000")
done
echo "threads.sh: server on cores $server_cpus, pushbench on core $bench_cpu" >&2
exec "$here/compare.sh" --runs "$runs" "${keep[@]}" "${scenarios[@]}" -- "${extra[@]}"
