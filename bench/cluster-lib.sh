# Shared by bench/cluster.sh and bench/cluster-nodes.sh (sourced, not run):
# the pieces both need to start gateways and Redis on free loopback ports
# and to summarise pushbench's JSON. Expects $bench, $keep, $out and the
# array pids to be set by the caller.

cleanup() {
    for p in "${pids[@]-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n $keep ]] || rm -rf "$out"
}

ports() { "$bench" --free-ports; }

wait_for() { # file pattern
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    echo "$(basename "$0"): timeout waiting for \"$2\" in $1" >&2
    return 1
}

# The first number under "key" in a one-line JSON file.
field() { sed -n "s/.*\"$2\":\\([-0-9.]*\\).*/\\1/p" "$1" | head -1; }

median() { # [decimals]: the median of the numbers on stdin, "-" for none
    sort -g | awk -v d="${1:-1}" '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.*f\n", d, m }'
}
