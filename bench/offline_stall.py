#!/usr/bin/env python3
"""One backend pushing to offline uids, one push at a time (send, wait for
the reply): every reply's latency, so that a stall of the gateway's event
loop shows as a slow reply. Usage: offline_stall.py PORT COUNT SIZE"""
import json
import socket
import sys
import time

port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection(("127.0.0.1", port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
payload = "x" * size
latencies = []
pending = b""
started = time.time()
for i in range(count):
    line = (json.dumps({"uid": "offline%d" % (i % 50000), "msg": payload}) + "\n").encode()
    sent = time.perf_counter()
    sock.sendall(line)
    while b"\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("the gateway closed the connection")
        pending += chunk
    reply, pending = pending.split(b"\n", 1)
    latencies.append(time.perf_counter() - sent)
    if reply != b"queued":
        sys.exit("unexpected reply %r" % reply)
latencies.sort()


def at(q):
    return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e3


print("pushes %d of %d bytes in %.1f s: reply p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.1f ms"
      % (count, size, time.time() - started, at(0.5), at(0.99), at(0.999), latencies[-1] * 1e3))
