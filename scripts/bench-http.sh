#!/usr/bin/env bash
# Push rate of the HTTP API against the text push port, on this machine.
#   scripts/bench-http.sh [SECONDS] [HTTP_CONNECTIONS]
# Starts the built `pushconsole --no-gui` on free ports, binds one WebSocket
# client that reads every push, then measures for SECONDS each (default 10):
#   1. HTTP:  wrk with HTTP_CONNECTIONS (default 16) keep-alive connections
#             posting to /api/push;
#   2. text:  one connection, lines pipelined in batches of 100;
#   3. text:  HTTP_CONNECTIONS connections, one line in flight on each
#             (request/response, like the HTTP clients).
# Prints pushes per second for each and the ratios. Nothing is written to
# the repository. Needs wrk and python3 (wrk is installed when missing).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECONDS_EACH="${1:-10}"
CONNECTIONS="${2:-16}"
BINARY="$BUILD_DIR/app/pushconsole"

ensure_packages wrk python3
if [ ! -x "$BINARY" ]; then
    build_project Release
fi

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

# Pushes are logged at debug level only, so info costs nothing per push.
"$BINARY" --no-gui --ws-bind 127.0.0.1 --ws-port 0 --text-port 0 --http-port 0 \
    --log-level info --max-output 1G >"$WORK/gateway.log" 2>&1 &
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
HTTP_PORT="$(port_of http)"
if [ -z "$WS_PORT" ] || [ -z "$TEXT_PORT" ] || [ -z "$HTTP_PORT" ]; then
    echo "error: the gateway did not start:" >&2
    cat "$WORK/gateway.log" >&2
    exit 1
fi
say "gateway pid $GATEWAY_PID: ws=$WS_PORT text=$TEXT_PORT http=$HTTP_PORT"

# One bound WebSocket client that reads (and counts) every frame.
python3 - "$WS_PORT" >"$WORK/reader.out" <<'EOF' &
import base64, os, signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
s.recv(1024)
s.sendall(bytes([0x81, 0x85, 0, 0, 0, 0]) + b"bench")
total = 0
def done(*_):
    print(total); sys.stdout.flush(); os._exit(0)
signal.signal(signal.SIGTERM, done)
while True:
    data = s.recv(1 << 20)
    if not data:
        done()
    total += len(data)
EOF
READER_PID=$!
sleep 0.5

BODY='{"uid":"bench","msg":"lock closed","order":123456}'
cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
EOF

say "HTTP: wrk -t1 -c$CONNECTIONS -d${SECONDS_EACH}s POST /api/push"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -s "$WORK/post.lua" \
    "http://127.0.0.1:$HTTP_PORT/api/push" | tee "$WORK/wrk.out"
HTTP_RATE="$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")"
if grep -q 'Non-2xx' "$WORK/wrk.out"; then
    echo "error: some HTTP pushes were not delivered" >&2
    exit 1
fi

text_bench() { # CONNECTIONS BATCH
    python3 - "$TEXT_PORT" "$SECONDS_EACH" "$1" "$2" "$BODY" <<'EOF'
import socket, sys, threading, time
port, seconds, conns, batch, body = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].encode()
counts = [0] * conns
deadline = time.monotonic() + seconds
def worker(i):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    chunk = (body + b"\n") * batch
    f = s.makefile("rb")
    while time.monotonic() < deadline:
        s.sendall(chunk)
        for _ in range(batch):
            if f.readline() != b"ok\n":
                raise SystemExit("unexpected reply")
        counts[i] += batch
threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
start = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
print("%.0f" % (sum(counts) / (time.monotonic() - start)))
EOF
}

say "text: 1 connection, pipelined in batches of 100"
TEXT_PIPELINED="$(text_bench 1 100)"
echo "$TEXT_PIPELINED pushes/s"
say "text: $CONNECTIONS connections, one request in flight each"
TEXT_RR="$(text_bench "$CONNECTIONS" 1)"
echo "$TEXT_RR pushes/s"

kill "$READER_PID" 2>/dev/null && wait "$READER_PID" 2>/dev/null || true
READER_PID=""
say "the WebSocket reader received $(cat "$WORK/reader.out") bytes"

python3 - "$HTTP_RATE" "$TEXT_PIPELINED" "$TEXT_RR" <<'EOF'
import sys
http, pipelined, rr = map(float, sys.argv[1:])
print("==> HTTP %.0f/s, text pipelined %.0f/s, text request/response %.0f/s" % (http, pipelined, rr))
print("==> HTTP / text pipelined = %.2f ; HTTP / text request/response = %.2f" % (http / pipelined, http / rr))
EOF
