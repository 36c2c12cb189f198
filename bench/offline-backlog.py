#!/usr/bin/env python3
# By hand: 24 x 1 MiB stored for a uid that is offline, then a client binds
# with a 64 KiB receive buffer and reads at most 256 KiB every 20 ms;
# prints how many stored messages it got, in what time, and whether the
# gateway dropped it as a slow consumer (--max-output 8M).
#   bench/offline-backlog.py build/app/pushconsole --offline-max-bytes-per-uid=32M
#   bench/offline-backlog.py build/app/pushconsole --offline-max-bytes-per-uid=32M \
#       --redis=redis://127.0.0.1:6379 --node-id=m        # the Redis store
# A gateway built before the backlog was paced takes no byte caps: leave the
# option out there (it delivered 0 of 24).
import os, re, socket, subprocess, sys, tempfile, time

binary, extra = sys.argv[1], sys.argv[2:]
db = tempfile.mktemp(suffix=".sqlite")
p = subprocess.Popen([binary, "--no-gui", "--ws-bind=127.0.0.1", "--ws-port=0", "--text-port=0",
                      "--http-port=0", "--offline-ttl=600", "--offline-db=" + db,
                      "--max-output=8M", "--max-line=2M"] + extra,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
line = p.stdout.readline()
ws, text = map(int, re.search(r"ws=127\.0\.0\.1:(\d+) text=127\.0\.0\.1:(\d+)", line).groups())

b = socket.create_connection(("127.0.0.1", text))
f = b.makefile("rb")
replies = []
for i in range(1, 25):
    b.sendall(b'{"uid":"m1","n":%d,"pad":"%s"}\n' % (i, b"x" * (1024 * 1024 - 64)))
    replies.append(f.readline().strip().decode())
print("replies:", " ".join(sorted(set(replies))), "x", len(replies))

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
s.connect(("127.0.0.1", ws))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf[buf.index(b"\r\n\r\n") + 4:]
s.sendall(bytes([0x81, 0x80 | 2]) + b"\0\0\0\0" + b"m1")
got, start, closed = [], time.time(), False
s.settimeout(0.5)
while len(got) < 24 and time.time() - start < 60:
    try:
        chunk = s.recv(256 * 1024)  # 256 KiB every 20 ms: about 12 MiB/s
    except socket.timeout:
        continue
    except ConnectionResetError:
        closed = True
        break
    if not chunk:
        closed = True
        break
    buf += chunk
    while len(buf) >= 2:
        n, h = buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4: break
            n, h = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10: break
            n, h = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < h + n: break
        if buf[0] & 0x0F == 1:
            got.append(int(re.match(rb'\{"uid":"m1","n":(\d+),', buf[h:h + 64]).group(1)))
        buf = buf[h + n:]
    time.sleep(0.02)
print("delivered: %d of 24 in %.1f s%s, in order: %s" % (len(got), time.time() - start,
      " (connection dropped)" if closed else "", got == list(range(1, len(got) + 1))))
p.terminate()
out = p.communicate()[0]
print("slow consumer drops logged:", out.count("slow consumer"))
if os.path.exists(db):
    os.unlink(db)
