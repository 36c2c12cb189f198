#!/usr/bin/env python3
"""Attacks a running pushconsole the way bench/attack-ws.sh asks and reports
the server's memory (RSS from /proc/PID/status) before and after.

Scenarios (one per run, on a fresh server):
  pingflood  one WebSocket client that never reads sends N empty pings
  silent     N TCP connections to the WebSocket port that never say a word,
             then one real client that binds and gets a push
  slow       one client binds and never reads while 1 MiB pushes arrive on
             the push port until one is not answered "ok"

Standard library only. Prints "key value" lines that attack-ws.sh tabulates.
"""

import argparse
import base64
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import time

HOST = "127.0.0.1"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid, quiet=0.5, limit=60.0):
    """Waits until the server has used no CPU for `quiet` seconds."""
    deadline = time.monotonic() + limit
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now - last < 0.01:
            return True
        last = now
    return False


def frame(opcode, payload=b""):
    """A masked client frame."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def ws_connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        # Set before connect: the window the kernel offers is fixed then.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((HOST, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("handshake: connection closed")
        response += chunk
    if not response.startswith(b"HTTP/1.1 101"):
        raise RuntimeError("handshake refused: " + response.split(b"\r\n")[0].decode())
    return s


def push(text_port, line, timeout=30):
    """One push on its own connection, the seed's PHP way; the reply line."""
    with socket.create_connection((HOST, text_port), timeout=timeout) as t:
        t.sendall(line + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = t.recv(8192)
            if not chunk:
                break
            reply += chunk
        return reply.decode().strip()


def wait_bound(text_port, uid, limit=10.0):
    """The bind is not acknowledged: a probe push says when it took."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if push(text_port, b'{"uid":"%s","probe":1}' % uid.encode()) == "ok":
            return True
        time.sleep(0.02)
    return False


def outq(sock):
    return fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")


def unsent(sock):
    return struct.unpack("i", outq(sock))[0]


def pingflood(a):
    s = ws_connect(a.ws_port, rcvbuf=4096)
    s.sendall(frame(0x1, b"attacker"))
    if not wait_bound(a.text_port, "attacker"):
        raise RuntimeError("attacker never bound")
    settle(a.server_pid)
    before = rss_kib(a.server_pid)
    # Pushes it does not read fill the kernel's send buffer first (a few
    # MiB on loopback), so that the server itself has to queue the pongs.
    fill = b'{"uid":"attacker","pad":"' + b"f" * ((1 << 20) - 30) + b'"}'
    for _ in range(a.fill):
        if push(a.text_port, fill) != "ok":
            raise RuntimeError("fill push not answered ok")
    settle(a.server_pid)
    filled = rss_kib(a.server_pid)
    batch = frame(0x9) * 10000
    sent = 0
    while sent < a.count:
        n = min(10000, a.count - sent)
        s.sendall(batch if n == 10000 else frame(0x9) * n)
        sent += n
    # Everything sent was taken by the server's kernel; then the server
    # itself has read it once it uses no more CPU.
    deadline = time.monotonic() + 60
    while unsent(s) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    settle(a.server_pid)
    after = rss_kib(a.server_pid)
    alive = True
    try:
        s.setblocking(False)
        s.send(frame(0x9))
    except OSError:
        alive = False
    print(f"pings {sent}")
    print(f"fill_pushes {a.fill}")
    print(f"rss_before_kib {before}")
    print(f"rss_filled_kib {filled}")
    print(f"rss_after_kib {after}")
    print(f"connection_open {int(alive)}")
    s.close()


def silent(a):
    settle(a.server_pid)
    before = rss_kib(a.server_pid)
    fds_before = fd_count(a.server_pid)
    socks = []
    for _ in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((HOST, a.ws_port))
        if err not in (0, errno.EINPROGRESS):
            raise RuntimeError(f"connect: {os.strerror(err)}")
        socks.append(s)
        if len(socks) % 500 == 0:
            time.sleep(0.05)  # under the listen backlog
    settle(a.server_pid)
    after = rss_kib(a.server_pid)
    held = fd_count(a.server_pid) - fds_before
    # Now a real user: does it get in, bind, and receive a push?
    user_ok = 0
    try:
        u = ws_connect(a.ws_port)
        u.sendall(frame(0x1, b"rider"))
        if wait_bound(a.text_port, "rider", limit=5.0):
            user_ok = 1
        u.close()
    except (OSError, RuntimeError) as e:
        print(f"user_error {e}")
    print(f"connections {a.count}")
    print(f"server_fds_held {held}")
    print(f"rss_before_kib {before}")
    print(f"rss_after_kib {after}")
    print(f"user_admitted {user_ok}")
    for s in socks:
        s.close()


def slow(a):
    s = ws_connect(a.ws_port, rcvbuf=4096)
    s.sendall(frame(0x1, b"slow"))
    if not wait_bound(a.text_port, "slow"):
        raise RuntimeError("slow client never bound")
    settle(a.server_pid)
    before = rss_kib(a.server_pid)
    line = b'{"uid":"slow","pad":"' + b"p" * (a.size - 30) + b'"}'
    replies = []
    peak = before
    for _ in range(a.count):
        r = push(a.text_port, line)
        replies.append(r)
        peak = max(peak, rss_kib(a.server_pid))
        if r != "ok":
            break
    settle(a.server_pid)
    after = rss_kib(a.server_pid)
    print(f"push_bytes {len(line) + 1}")
    print(f"pushes {len(replies)}")
    print(f"answered_ok {replies.count('ok')}")
    print(f"first_not_ok {next((i + 1 for i, r in enumerate(replies) if r != 'ok'), 0)}")
    print(f"rss_before_kib {before}")
    print(f"rss_peak_kib {peak}")
    print(f"rss_after_kib {after}")
    s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("scenario", choices=["pingflood", "silent", "slow"])
    p.add_argument("--ws-port", type=int, required=True)
    p.add_argument("--text-port", type=int, required=True)
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--count", type=int, help="pings, connections or pushes")
    p.add_argument("--size", type=int, default=1 << 20, help="slow: bytes per push line")
    p.add_argument("--fill", type=int, default=6, help="pingflood: 1 MiB pushes sent first")
    a = p.parse_args()
    defaults = {"pingflood": 500000, "silent": 10000, "slow": 20}
    if a.count is None:
        a.count = defaults[a.scenario]
    globals()[a.scenario](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
