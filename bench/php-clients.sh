#!/usr/bin/env bash
# Push rate of clients/php/PushClient.php against the seed's callback, on
# this machine and the same gateway.
#   bench/php-clients.sh [SECONDS] [ROUNDS]
# Starts the built `pushconsole --no-gui` on free ports, binds one WebSocket
# client that reads every push, then runs ROUNDS (default 3) alternated
# rounds of SECONDS (default 5) each:
#   many  PushClient::pushMany, 1000 pushes a call on one connection
#   push  PushClient::push, one call per push on one persistent connection
#   seed  the seed article's callback: connect, write, read, close per push
# and prints each rate, the medians and their ratios. Every push must be
# answered "ok". Nothing is written to the repository. Needs php-cli, python3.
# PIN=1 pins the gateway to core 0 and PHP to core 1 (taskset): steadier on a
# quiet machine, but on a busy one a request/response loop then waits for
# whatever else runs on those cores, so it is off by default.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

SECONDS_EACH="${1:-5}"
ROUNDS="${2:-3}"
BINARY="$BUILD_DIR/app/pushconsole"

ensure_packages php-cli python3
if [ ! -x "$BINARY" ]; then
    build_project Release
fi
pin() { # CPU COMMAND...
    local cpu=$1
    shift
    if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -gt 1 ]; then
        taskset -c "$cpu" "$@"
    else
        "$@"
    fi
}

WORK="$(mktemp -d)"
GATEWAY_PID=""
READER_PID=""
cleanup() {
    [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null || true
    [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Pushes are logged at debug level only, so info costs nothing per push. The
# reader below never answers pings: no pings, and a heartbeat longer than
# the run, so it is not dropped half-way.
pin 0 "$BINARY" --no-gui --ws-bind 127.0.0.1 --ws-port 0 --text-port 0 --http-port -1 \
    --log-level info --max-output 1G --ping-interval 0 --heartbeat 600m \
    >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
LISTENING=""
for _ in $(seq 100); do
    LISTENING="$(grep -m1 ' listening ' "$WORK/gateway.log" 2>/dev/null || true)"
    [ -n "$LISTENING" ] && break
    sleep 0.1
done
port_of() { sed -n "s/.* $1=[^ ]*:\([0-9]*\) .*/\1/p" <<<"$LISTENING"; }
WS_PORT="$(port_of ws)"
TEXT_PORT="$(port_of text)"
if [ -z "$WS_PORT" ] || [ -z "$TEXT_PORT" ]; then
    echo "error: the gateway did not start:" >&2
    cat "$WORK/gateway.log" >&2
    exit 1
fi
say "gateway pid $GATEWAY_PID: ws=$WS_PORT text=$TEXT_PORT; $ROUNDS rounds of ${SECONDS_EACH}s"

# One bound WebSocket client that reads every frame.
python3 - "$WS_PORT" <<'PY' &
import base64, os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
s.recv(1024)
s.sendall(bytes([0x81, 0x85, 0, 0, 0, 0]) + b"bench")
while s.recv(1 << 20):
    pass
PY
READER_PID=$!
for _ in $(seq 50); do
    grep -q ' bind .*uid=bench ' "$WORK/gateway.log" && break
    sleep 0.1
done

MODES=(many push seed)
declare -A RATES
for round in $(seq "$ROUNDS"); do
    for mode in "${MODES[@]}"; do
        rate="$(pin 1 php "$(dirname "${BASH_SOURCE[0]}")/php-clients.php" "$mode" "$TEXT_PORT" "$SECONDS_EACH")"
        if ! [[ "$rate" =~ ^[0-9]+$ ]]; then
            echo "error: $mode: $rate" >&2
            exit 1
        fi
        printf '    round %d  %-5s %8d pushes/s\n' "$round" "$mode" "$rate"
        RATES[$mode]+="$rate "
    done
    # Let the seed's TIME_WAIT connections from this round go before the next.
    sleep 1
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
MANY="$(median "${RATES[many]}")"
PUSH="$(median "${RATES[push]}")"
SEED="$(median "${RATES[seed]}")"
say "medians"
printf '    pushMany (pipelined, one connection)      %8d pushes/s\n' "$MANY"
printf '    push (one call per push, one connection)  %8d pushes/s\n' "$PUSH"
printf "    the seed's callback (a connection each)  %8d pushes/s\n" "$SEED"
awk -v m="$MANY" -v p="$PUSH" -v s="$SEED" 'BEGIN {
    printf "    ratios: pushMany/seed %.1fx, push/seed %.1fx, pushMany/push %.1fx\n", m / s, p / s, m / p }'
