#!/usr/bin/env python3
"""gdb_abuse.py - a hostile gdb remote-protocol client for gdb_abuse.sh.

Usage: gdb_abuse.py SOCKET_PATH
Connects to rrvm's gdb stub on a Unix socket and, in order: reads the
registers (g), sends malformed packets, a 1 MB packet, half packets then
disconnects, 50 rapid connect/disconnect cycles, a burst of non-blocking
connects while one client is connected (each must be accepted and refused
at once with an E. reply), and finally reads the registers again. Prints
one "ok"/"not ok" line per check (TAP body, no plan) and "regs-before" /
"regs-after" lines with the two g replies.
"""
import errno
import socket
import sys
import time

path = sys.argv[1]
TIMEOUT = 20.0          # generous: the machine may be loaded
results = []


def check(cond, desc, detail=""):
    results.append(cond)
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


def connect(blocking=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if blocking:
        s.settimeout(TIMEOUT)
        s.connect(path)
    else:
        s.setblocking(False)
        s.connect(path)          # raises BlockingIOError on EAGAIN
        s.settimeout(TIMEOUT)
    return s


def frame(data):
    if isinstance(data, str):
        data = data.encode()
    return b"$" + data + b"#" + b"%02x" % (sum(data) & 0xFF)


class Client:
    def __init__(self):
        self.s = connect()
        self.buf = b""

    def send(self, raw):
        self.s.sendall(raw)

    def packet(self):
        """The next $...#xx packet's data, acking it; None on EOF."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    data = self.buf[start + 1:end]
                    self.buf = self.buf[end + 3:]
                    self.s.sendall(b"+")
                    return data
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def call(self, data):
        self.send(frame(data))
        while True:
            p = self.packet()
            if p is None or not p.startswith(b"O") or p == b"OK":
                return p

    def sync(self, data, want):
        """Send data, then read replies (earlier ones included) until one
        satisfies want; returns it, or None at EOF."""
        self.send(frame(data))
        while True:
            p = self.packet()
            if p is None or want(p):
                return p

    def close(self):
        self.s.close()


def session_regs():
    c = Client()
    c.send(b"+")
    c.call("qSupported:swbreak+;hwbreak+")
    regs = c.call("g")
    return c, regs


# 1. Registers of the stopped guest.
first, regs_before = session_regs()
print("regs-before " + (regs_before or b"").decode(errors="replace"))
check(regs_before is not None and len(regs_before) > 100, "g reply from the first client")

# 2. Malformed packets: each gets an error or empty reply (or a nak), and
#    the session still answers afterwards.
bad = [b"$g#00", b"$#00", b"$m#6d", frame("m"), frame("mzz,4"), frame("m0,ffffffffffffffff"),
       frame("M100000,2:zz"), frame("Z9,0,0"), frame("p9999"), frame("P10=zz"),
       frame("vCont;q"), frame("qXfer:features:read:nope.xml:0,ffff"),
       frame("X100000,4:\x90"), b"$" + b"}" * 10 + b"#00", frame("Gzz"),
       frame("qRcmd,zz"), b"\x03\x03", b"-" * 5, b"garbage without a dollar\n",
       frame("M" + "1" * 5000 + ",1:00")]
for raw in bad:
    first.send(raw)
def is_regs(p):
    return len(p) == len(regs_before) and all(c in b"0123456789abcdefx" for c in p)


alive = first.sync("?", lambda p: p.startswith(b"T"))
check(alive is not None, "the session survives %d malformed packets" % len(bad))
alive = first.sync("g", is_regs)
check(alive == regs_before, "after them the registers read the same")

# 3. A 1 MB packet (larger than PacketSize): refused, the session goes on.
big = b"M100000,80000:" + b"90" * (512 * 1024)
first.send(b"$" + big + b"#00")
first.send(frame(big))
alive = first.sync("g", is_regs)
check(alive == regs_before, "after two 1 MB packets the registers read the same")

# 4. While this client is connected: a burst of non-blocking connects must
#    all be accepted (no EAGAIN) and refused at once with an E. reply.
burst, eagain = [], 0
for i in range(20):
    try:
        burst.append(connect(blocking=False))
    except BlockingIOError:
        eagain += 1
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            eagain += 1
        else:
            raise
check(eagain == 0, "20 rapid non-blocking connects while a client is served: none fails with EAGAIN",
      "%d failed with EAGAIN" % eagain)
refused = 0
for s in burst:
    s.settimeout(TIMEOUT)
    try:
        s.sendall(frame("qSupported"))
    except OSError:
        pass    # told and closed already, without waiting for a packet
    try:
        got = b""
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            at = got.find(b"$E.")
            if at >= 0 and got.find(b"#", at) >= 0 and len(got) >= got.find(b"#", at) + 3:
                break
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        if b"$E.rrvm: another gdb is already connected" in got:
            refused += 1
    except OSError:
        pass
    s.close()
check(refused == len(burst) and len(burst) > 0,
      "every second client got the E. refusal (%d of %d)" % (refused, len(burst)))
alive = first.sync("g", is_regs)
check(alive == regs_before, "the first client is still served, registers unchanged")

# 5. Half packets, then disconnect (the first client included).
first.send(b"$m100000,4")
first.close()
half = 0
for i in range(10):
    c = Client()
    try:
        c.send(b"+$qSupported:swbre" if i % 2 else b"$g#6")
        half += 1
    except OSError:
        pass    # a refused client may be closed before it sends
    c.close()
check(half > 0, "half packets then disconnects (%d of 10 sent before the server closed)" % half)

# 6. 50 rapid connect/disconnect cycles, some sending a byte.
fails = 0
for i in range(50):
    try:
        s = connect()
        if i % 3 == 0:
            s.sendall(b"+")
        s.close()
    except OSError as e:
        fails += 1
check(fails == 0, "50 rapid connect/disconnect cycles all connect", "%d failed" % fails)

# 7. A client afterwards sees the same registers.
last, regs_after = session_regs()
print("regs-after " + (regs_after or b"").decode(errors="replace"))
check(regs_after == regs_before, "a client after the abuse reads the same registers")
last.close()
sys.exit(0 if all(results) else 1)
