#!/usr/bin/env python3
"""h2client.py -- a misbehaving HTTP/2 client with hand-built frames, for
tests/server/h2.sh: what curl, nghttp and h2load never do. Standard library
only; talks h2c with prior knowledge to 127.0.0.1 and nothing else.

Usage: h2client.py CASE PORT
Cases (each prints one line that h2.sh checks, and exits 0 unless the
connection to 127.0.0.1 could not be made):
  rapid-reset     HEADERS + RST_STREAM for up to 3,000 streams   -> "goaway N"
  ping-flood      PINGs without reading, up to 40 MB             -> "closed" / "open"
  settings-flood  empty SETTINGS without reading, up to 40 MB    -> "closed" / "open"
  many-settings   one SETTINGS frame with 40 entries             -> "goaway N"
  big-header      a 9,000-byte header, then a normal request      -> "reset N then STATUS"
  hpack-bomb      a 4,000-byte header indexed once, then sent as
                  three 1-byte references (12 KB decoded)        -> "reset N then STATUS"
  zero-window     SETTINGS_INITIAL_WINDOW_SIZE 0, one GET         -> "headers, reset N after the timeout"
  slow-request    HEADERS without END_STREAM, then nothing        -> "reset N after the timeout"
  garbage         an HTTP/1.1 request on the h2c port            -> "closed"
"""
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
DEADLINE_S = 20


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, first=0):
    """RFC 7541 5.1 integer with a PREFIX_BITS prefix, FIRST the high bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def literal(name, value, indexing=False):
    """A literal field with a new name (without or with incremental indexing)."""
    head = hpack_int(0, 6, 0x40) if indexing else hpack_int(0, 4, 0x00)
    return head + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_block(path=b"/flags/br/br.gif", extra=b""):
    # :method GET (static 2), :scheme http (6), :path (name 4), :authority (name 1)
    return (b"\x82\x86" + hpack_int(4, 4) + hpack_int(len(path), 7) + path
            + hpack_int(1, 4) + hpack_int(9, 7) + b"127.0.0.1" + extra)


class Conn:
    def __init__(self, port, rcvbuf=None, settings=b""):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(DEADLINE_S)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, settings))

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        """Returns (type, flags, stream, payload), or None at EOF."""
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk
        n = int.from_bytes(self.buf[:3], "big")
        f = (self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF, self.buf[9:9 + n])
        self.buf = self.buf[9 + n:]
        if f[0] == SETTINGS and not f[1] & ACK:
            try:
                self.send(frame(SETTINGS, ACK, 0))
            except OSError:
                pass  # the server may have closed already; what it sent is still read
        return f

    def until(self, pred):
        """Reads frames until PRED(frame) holds; returns it, or None at EOF."""
        while True:
            f = self.read_frame()
            if f is None or pred(f):
                return f


def flood(port, one):
    """Sends ONE again and again without reading; returns whether the server
    closed the connection before 40 MB went out."""
    c = Conn(port, rcvbuf=4096)
    batch = one * 1000
    sent = 0
    try:
        while sent < 40 * 1024 * 1024:
            c.send(batch)
            sent += len(batch)
    except (BrokenPipeError, ConnectionResetError):
        return "closed"
    except socket.timeout:
        return "stuck"
    return "open"


def when(elapsed):
    """Gross bounds for a server timeout of 2 s on a loaded machine."""
    return "after the timeout" if 1.5 <= elapsed <= 6 else "after %.1f s" % elapsed


def status_of(c, stream):
    f = c.until(lambda f: f[2] == stream and f[0] in (HEADERS, RST_STREAM))
    if f is None:
        return "eof"
    if f[0] == RST_STREAM:
        return "reset %d" % int.from_bytes(f[3][:4], "big")
    # The server's :status is a static-table index (0x88 = 200) or a literal.
    return {0x88: "200", 0x8D: "404", 0x8C: "400"}.get(f[3][0], "other")


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    if case == "rapid-reset":
        c = Conn(port)
        out = bytearray()
        for i in range(3000):
            sid = 2 * i + 1
            out += frame(HEADERS, END_STREAM | END_HEADERS, sid, request_block())
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))  # CANCEL
        try:
            c.send(bytes(out))
        except (BrokenPipeError, ConnectionResetError):
            pass
        f = c.until(lambda f: f[0] == GOAWAY)
        print("goaway %d" % int.from_bytes(f[3][4:8], "big") if f else "no goaway")
    elif case == "ping-flood":
        print(flood(port, frame(PING, 0, 0, b"12345678")))
    elif case == "settings-flood":
        print(flood(port, frame(SETTINGS, 0, 0)))
    elif case == "many-settings":
        c = Conn(port)
        entries = b"".join(struct.pack(">HI", 4, 65535) for _ in range(40))  # INITIAL_WINDOW_SIZE
        c.send(frame(SETTINGS, 0, 0, entries))
        f = c.until(lambda f: f[0] == GOAWAY)
        print("goaway %d" % int.from_bytes(f[3][4:8], "big") if f else "no goaway")
    elif case in ("big-header", "hpack-bomb"):
        c = Conn(port)
        if case == "big-header":
            block = request_block(extra=literal(b"x-big", b"a" * 9000))
            c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, block))
        else:
            # Stream 1 indexes a 4,000-byte field (4,040 bytes of list: fine);
            # stream 3 refers to it three times in three bytes (12 KB decoded).
            block = request_block(extra=literal(b"x-bomb", b"b" * 4000, indexing=True))
            c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, block))
            first = status_of(c, 1)
            if first != "200":
                print("first request: " + first)
                return 0
            block = request_block(extra=b"\xbe\xbe\xbe")
            c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, block))
        bad = 1 if case == "big-header" else 3
        got = status_of(c, bad)
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, bad + 2, request_block()))
        print("%s then %s" % (got, status_of(c, bad + 2)))
    elif case == "zero-window":
        c = Conn(port, settings=struct.pack(">HI", 4, 0))
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1, request_block()))
        f = c.until(lambda f: f[2] == 1)
        if f is None or f[0] != HEADERS:
            print("no headers")
            return 0
        t0 = time.monotonic()
        f = c.until(lambda f: f[2] == 1)
        if f is None:
            print("headers, then eof")
        elif f[0] == RST_STREAM:
            print("headers, reset %d %s" % (int.from_bytes(f[3][:4], "big"), when(time.monotonic() - t0)))
        else:
            print("headers, then frame type %d" % f[0])
    elif case == "slow-request":
        c = Conn(port)
        c.send(frame(HEADERS, END_HEADERS, 1, request_block()))
        t0 = time.monotonic()
        f = c.until(lambda f: f[2] == 1)
        if f is not None and f[0] == RST_STREAM:
            print("reset %d %s" % (int.from_bytes(f[3][:4], "big"), when(time.monotonic() - t0)))
        else:
            print("no reset" if f is None else "frame type %d" % f[0])
    elif case == "garbage":
        s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        s.sendall(b"GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            while s.recv(65536):
                pass
            print("closed")
        except ConnectionResetError:
            print("closed")
        except socket.timeout:
            print("open")
    else:
        print("unknown case " + case, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
