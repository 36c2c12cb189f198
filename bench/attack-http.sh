#!/usr/bin/env bash
# Attacks on the HTTP API, reproduced by hand against a real binary:
#   bench/attack-http.sh [BINARY] [SLOWLORIS_LIMIT_SECONDS]
# BINARY defaults to build/app/pushconsole; give the binary of another
# commit to compare (see bench/README.md). Starts it headless on free
# loopback ports and reports, each against a fresh gateway:
#   1. pipelined: one client writes 8000 pipelined "GET /" (the test page,
#      with --http-test-page where the binary has it) and never reads; the
#      server's RSS growth once it stops changing, and how many requests
#      the server read;
#   2. idle: 1000 connections that send nothing (the binary's own
#      connection cap, if any, applies); RSS growth and how many stayed open;
#   3. slowloris: a request head sent one byte a second; the time until the
#      server closes the connection (given up after SLOWLORIS_LIMIT_SECONDS,
#      default 40).
# Needs python3 only (standard library). Nothing is written to the repository.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARY="${1:-$ROOT/build/app/pushconsole}"
SLOWLORIS_LIMIT="${2:-40}"
if [ ! -x "$BINARY" ]; then
    echo "error: $BINARY is not an executable; build it first (cmake --build build)" >&2
    exit 1
fi

exec python3 - "$BINARY" "$SLOWLORIS_LIMIT" <<'EOF'
import atexit, os, re, select, socket, subprocess, sys, threading, time

binary, slowloris_limit = sys.argv[1], float(sys.argv[2])
help_text = subprocess.run([binary, "--help", "--lang=en"], capture_output=True,
                           text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen")).stdout
extra = ["--http-test-page"] if "--http-test-page" in help_text else []

gateways = []
@atexit.register
def cleanup():
    for p in gateways:
        if p.poll() is None:
            p.kill()

def start():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LC_ALL="C")
    p = subprocess.Popen([binary, "--no-gui", "--ws-bind=127.0.0.1", "--ws-port=0",
                          "--text-port=0", "--http-port=0", "--log-level=info"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    gateways.append(p)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = p.stdout.readline().decode(errors="replace")
        m = re.search(r" http=[^ ]*:(\d+)", line)
        if m:
            # Keep draining the log so the server never blocks on it.
            threading.Thread(target=lambda: p.stdout.read(), daemon=True).start()
            return p, int(m.group(1))
    p.kill()
    sys.exit("the gateway did not start")

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def settle(pid, quiet=1.5, limit=20.0):
    """RSS once it has not changed by more than 64 KiB for `quiet` seconds."""
    last, since, end = rss_kib(pid), time.monotonic(), time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(0.1)
        now = rss_kib(pid)
        if abs(now - last) > 64:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return rss_kib(pid)

def server_queues(server_port, client_port):
    """(unread, unsent) bytes in the kernel on the server's end of a connection."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (int(local.split(":")[1], 16) == server_port
                    and int(remote.split(":")[1], 16) == client_port):
                tx, rx = fields[4].split(":")
                return int(rx, 16), int(tx, 16)
    return 0, 0

def answers_sent(port):
    """200 answers so far, from the gateway's own /metrics."""
    m = socket.create_connection(("127.0.0.1", port))
    m.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    out = b""
    m.settimeout(10)
    while True:
        d = m.recv(65536)
        if not d:
            break
        out += d
    m.close()
    found = re.search(rb'pushconsole_http_responses_total\{code="200"\} (\d+)', out)
    return int(found.group(1)) if found else -1

def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()

def pipelined():
    p, port = start()
    base = settle(p.pid, 0.5)
    s = socket.socket()
    # A small receive buffer (set before the connection, so it holds): the
    # answers pile up in the server, not here.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    data = request * 8000
    sent = [0]
    def writer():
        view = memoryview(data)
        try:
            while sent[0] < len(data):
                sent[0] += s.send(view[sent[0]:])
        except OSError:
            pass
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    peak = settle(p.pid)
    answered = answers_sent(port)
    # What the kernel holds for the server's end: unread requests, unsent answers.
    rx, tx = server_queues(port, s.getsockname()[1])
    print("pipelined: 8000 unread GET / (%d bytes): server RSS %d -> %d KiB (+%.1f MiB); "
          "%d answered; kernel queues of the server's socket: %d KiB in, %d KiB out"
          % (len(data), base, peak, (peak - base) / 1024.0, answered, rx // 1024, tx // 1024))
    s.close()
    stop(p)

def idle():
    p, port = start()
    base = settle(p.pid, 0.5)
    conns = []
    for _ in range(1000):
        c = socket.socket()
        c.connect(("127.0.0.1", port))
        conns.append(c)
    peak = settle(p.pid, 1.0, 10)
    # A refused connection was reset at once: readable, with an error or EOF.
    open_count = 0
    for c in conns:
        r, _, _ = select.select([c], [], [], 0)
        if not r:
            open_count += 1
            continue
        try:
            if c.recv(1, socket.MSG_PEEK):
                open_count += 1
        except OSError:
            pass
    print("idle: 1000 silent connections: %d still open, %d refused; server RSS %d -> %d KiB "
          "(+%.1f MiB)" % (open_count, 1000 - open_count, base, peak, (peak - base) / 1024.0))
    for c in conns:
        c.close()
    stop(p)

def slowloris():
    p, port = start()
    s = socket.create_connection(("127.0.0.1", port))
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10000
    started = time.monotonic()
    closed_at, sent, answer = None, 0, b""
    while time.monotonic() - started < slowloris_limit:
        try:
            s.send(head[sent:sent + 1])
            sent += 1
        except OSError:
            closed_at = time.monotonic()
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            answer += chunk
            if not chunk:
                closed_at = time.monotonic()
                break
    if closed_at is None:
        print("slowloris: one byte a second: still open after %.0f s (%d bytes sent)"
              % (slowloris_limit, sent))
    else:
        status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "no answer"
        print("slowloris: one byte a second: closed after %.1f s (%d bytes sent; %s)"
              % (closed_at - started, sent, status))
    s.close()
    stop(p)

print("binary: %s %s" % (binary, " ".join(extra)))
pipelined()
idle()
slowloris()
EOF
