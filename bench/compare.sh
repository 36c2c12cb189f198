#!/usr/bin/env bash
# Runs a matrix of pushbench scenarios several times, alternating them so
# that a slow spell of the machine hits every scenario alike, and prints the
# median of each figure.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bench/compare.sh [options] [-- extra pushbench options]

Runs every scenario RUNS times through bench/run.sh, in rounds (A B C D,
A B C D, ...), and prints one line per scenario with medians.

Options:
  --runs N              rounds (default 3)
  --scenario NAME=ARGS  a scenario (repeatable; replaces the default matrix),
                        e.g. --scenario "1k-pipe=--clients 1000 --pushes 200000"
  --quick               the default matrix with a tenth of the pushes
  --build-dir DIR       passed to run.sh
  --no-build            passed to run.sh
  --keep DIR            keep every run's JSON in DIR
  -h, --help            this text

Default matrix (each with --duration 300):
  1k-pipeline    --clients 1000  --pushes 200000 --mode pipeline
  1k-connect     --clients 1000  --pushes 50000  --mode connect
  19k-pipeline   --clients 19000 --pushes 200000 --mode pipeline
  19k-connect    --clients 19000 --pushes 10000  --mode connect

Columns: runs that passed / runs; connect+bind rate (clients/s); delivered
messages/s; delivery latency p50 and p99 (us); server CPU us per delivered
push; server RSS bytes per idle bound connection; CPU other processes took
during the push phase, in % of one core (high: a disturbed machine, distrust
the row).
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runs=3
quick=0
names=()
args=()
run_opts=()
extra=()
keep=

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --runs) runs=${2:?--runs needs a value}; shift 2 ;;
        --scenario)
            spec=${2:?--scenario needs NAME=ARGS}
            [[ $spec == *=* ]] || { echo "compare.sh: --scenario needs NAME=ARGS" >&2; exit 2; }
            names+=("${spec%%=*}"); args+=("${spec#*=}"); shift 2 ;;
        --quick) quick=1; shift ;;
        --build-dir) run_opts+=(--build-dir "${2:?--build-dir needs a value}"); shift 2 ;;
        --no-build) run_opts+=(--no-build); shift ;;
        --keep) keep=${2:?--keep needs a value}; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs needs a positive number" >&2; exit 2; }

if [[ ${#names[@]} -eq 0 ]]; then
    div=1
    [[ $quick == 1 ]] && div=10
    names=(1k-pipeline 1k-connect 19k-pipeline 19k-connect)
    args=("--clients 1000 --pushes $((200000 / div)) --mode pipeline"
          "--clients 1000 --pushes $((50000 / div)) --mode connect"
          "--clients 19000 --pushes $((200000 / div)) --mode pipeline"
          "--clients 19000 --pushes $((10000 / div)) --mode connect")
    for i in "${!args[@]}"; do args[i]+=" --duration 300"; done
fi

out=${keep:-$(mktemp -d "${TMPDIR:-/tmp}/pushbench-compare.XXXXXX")}
mkdir -p "$out"
[[ -n $keep ]] || trap 'rm -rf "$out"' EXIT

# Build once, then never again inside the loop.
if [[ " ${run_opts[*]-} " != *" --no-build "* ]]; then
    build_dir=
    for ((i = 0; i < ${#run_opts[@]}; ++i)); do
        [[ ${run_opts[i]} == --build-dir ]] && build_dir=${run_opts[i + 1]}
    done
    repo=$(dirname "$here")
    build_dir=${build_dir:-$repo/build}
    [[ -f "$build_dir/CMakeCache.txt" ]] ||
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build "$build_dir" --target pushconsole pushbench >&2
    run_opts+=(--no-build)
fi

for ((r = 1; r <= runs; ++r)); do
    for i in "${!names[@]}"; do
        echo "compare.sh: round $r/$runs: ${names[i]}" >&2
        # shellcheck disable=SC2086 # the scenario's arguments are meant to split
        "$here/run.sh" "${run_opts[@]}" ${args[i]} "${extra[@]}" --json --quiet \
            >"$out/${names[i]}.$r.json" 2>"$out/${names[i]}.$r.err" || true
    done
done

# One number from a flat or one-level nested key of pushbench's JSON.
field() {
    sed -n "s/.*\"$2\":\\([-0-9.]*\\).*/\\1/p" "$1"
}
nested() {
    sed -n "s/.*\"$2\":{[^}]*\"$3\":\\([-0-9.]*\\).*/\\1/p" "$1"
}
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f\n", m }'
}

printf '%-14s %5s %10s %11s %9s %9s %10s %9s %7s\n' scenario ok bind/s deliver/s \
    p50_us p99_us srv_us/msg B/conn other%
for i in "${!names[@]}"; do
    name=${names[i]}
    passed=0
    total=0
    cols=()
    for metric in connect_rate delivered_per_s lat50 lat99 server_cpu_us_per_push \
        server_rss_per_conn_bytes other; do
        for ((r = 1; r <= runs; ++r)); do
            f="$out/$name.$r.json"
            [[ -s $f ]] || continue
            case $metric in
                lat50) nested "$f" latency_us p50 ;;
                lat99) nested "$f" latency_us p99 ;;
                other)
                    # Other processes' CPU as a share of one core over the push phase.
                    o=$(field "$f" other_cpu_us); s=$(field "$f" push_s)
                    awk -v o="$o" -v s="$s" 'BEGIN { if (s > 0 && o >= 0) print o / 1e6 / s * 100 }' ;;
                *) field "$f" "$metric" ;;
            esac
        done | median >"$out/median"
        cols+=("$(cat "$out/median")")
    done
    for ((r = 1; r <= runs; ++r)); do
        f="$out/$name.$r.json"
        total=$((total + 1))
        grep -q '"ok":true' "$f" 2>/dev/null && passed=$((passed + 1))
    done
    printf '%-14s %5s %10s %11s %9s %9s %10s %9s %7s\n' "$name" "$passed/$total" "${cols[@]}"
done
if [[ -z $keep ]]; then
    echo "(run with --keep DIR to see each run's JSON and the reasons of failed runs)" >&2
fi
