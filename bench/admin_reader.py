#!/usr/bin/env python3
"""An attached console for benchmarks: opens the admin stream
(GET /api/events, docs/admin-stream.md) on 127.0.0.1:PORT, reads everything
as fast as it comes, answers pings, and on SIGTERM prints what it read.

  admin_reader.py PORT [API_KEY]

Standard library only.
"""
import base64
import json
import os
import signal
import socket
import struct
import sys


def main():
    port = int(sys.argv[1])
    key = sys.argv[2] if len(sys.argv) > 2 else None
    s = socket.create_connection(("127.0.0.1", port))
    nonce = base64.b64encode(os.urandom(16)).decode()
    head = ("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Protocol: pushconsole.admin.v1\r\n")
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    s.sendall((head + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("admin_reader: closed during the handshake")
        buf += chunk
    status, buf = buf.split(b"\r\n\r\n", 1)
    if not status.startswith(b"HTTP/1.1 101"):
        sys.exit("admin_reader: refused: " + status.decode(errors="replace"))
    counts = {"messages": 0, "bytes": 0, "events": 0, "skipped": 0}
    done = []
    signal.signal(signal.SIGTERM, lambda *_: done.append(1))

    def pong(payload):
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        s.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + body)

    while not done:
        try:
            chunk = s.recv(1 << 20)
        except InterruptedError:
            continue
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2:
            opcode, n, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < at + n:
                break
            payload, buf = buf[at:at + n], buf[at + n:]
            if opcode == 0x9:
                pong(payload)
            elif opcode == 0x1:
                counts["messages"] += 1
                counts["bytes"] += n
                m = json.loads(payload)
                if m.get("t") == "events":
                    counts["events"] += len(m["events"])
                elif m.get("t") == "skipped":
                    counts["skipped"] += m["count"]
            elif opcode == 0x8:
                done.append(1)
                break
    print("admin_reader: " + json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
