#!/usr/bin/env python3
"""tlsclient.py -- misbehaving TLS clients for flagserver's tests, loopback only.

  tlsclient.py garbage PORT
      sends bytes that are not TLS, reads to EOF (5 s at most); prints "closed".
  tlsclient.py reset PORT CAFILE
      sends a real ClientHello, waits for the first bytes of the server's
      answer (so the server is mid-handshake), then resets the connection
      (SO_LINGER 0); prints "reset".
  tlsclient.py stall PORT LIMIT
      connects and sends nothing; prints "closed after S" (seconds, one
      decimal) when the server closes, or "open after LIMIT" if it has not
      after LIMIT seconds.
  tlsclient.py halfclose PORT CAFILE PATH FILE
      one TLS connection: GET PATH (keep-alive), then shutdown(SHUT_WR) of
      the TCP socket, then reads to EOF; prints "ok" when the answer is a 200
      whose body is FILE's bytes, else what it got.

Standard library only. Exit 0 once it has printed its result, 2 on bad usage.
"""
import os
import socket
import ssl
import struct
import sys
import time


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def garbage(port):
    s = connect(port)
    s.sendall(b"\x16\x03\x01\x00\x05hello" + b"not tls at all\r\n" * 8)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    print("closed")


def reset(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s = connect(port)
    s.sendall(out.read())
    s.recv(1)  # the server has answered: it is mid-handshake
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset")


def stall(port, limit):
    s = connect(port)
    s.settimeout(limit)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
        print("closed after %.1f" % (time.monotonic() - t0) if not data else "got data")
    except socket.timeout:
        print("open after %g" % limit)
    except OSError:
        print("closed after %.1f" % (time.monotonic() - t0))


def halfclose(port, cafile, path, file):
    want = open(file, "rb").read()
    ctx = ssl.create_default_context(cafile=cafile)
    raw = connect(port)
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())
    # TCP only, through a duplicate descriptor: SSLSocket.shutdown would drop
    # the TLS session, which must stay up for reading the answer.
    dup = socket.socket(fileno=os.dup(s.fileno()))
    dup.shutdown(socket.SHUT_WR)
    dup.close()
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ssl.SSLError, OSError) as e:
        data += b"<%s>" % str(e).encode()
    head, _, body = data.partition(b"\r\n\r\n")
    print("ok" if head.startswith(b"HTTP/1.1 200") and body == want else
          "got %d bytes: %r ... %r" % (len(data), head[:40], data[-40:]))


def main(argv):
    try:
        cmd, port = argv[1], int(argv[2])
        if cmd == "garbage" and len(argv) == 3:
            garbage(port)
        elif cmd == "reset" and len(argv) == 4:
            reset(port, argv[3])
        elif cmd == "stall" and len(argv) == 4:
            stall(port, float(argv[3]))
        elif cmd == "halfclose" and len(argv) == 6:
            halfclose(port, argv[3], argv[4], argv[5])
        else:
            raise ValueError
    except (IndexError, ValueError):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
