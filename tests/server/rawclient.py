#!/usr/bin/env python3
"""rawclient.py -- raw-socket HTTP clients for flagserver's tests, loopback only.

  rawclient.py burst PORT PATH FILE N
      opens N connections to 127.0.0.1:PORT at once, sends "GET PATH" with
      Connection: close on each, reads each to EOF; prints how many answers
      were a 200 whose body is FILE's bytes, exactly. Gives up after 60 s.
  rawclient.py hold PORT PATH FILE N
      opens N connections that send nothing, waits 0.5 s, then sends one
      keep-alive GET of PATH on the first and prints its Connection header
      ("-" if none) and "ok" if it is a 200 whose body is FILE's bytes.
  rawclient.py halfclose PORT PATH FILE [K]
      one connection: K pipelined keep-alive GETs of PATH (default 1), then
      shutdown(SHUT_WR), then reads to EOF; prints one line per response,
      "ok" when it is a 200 whose body is FILE's bytes, else what it got.

Standard library only. Exit status 0 once it has printed its result, 2 on
bad arguments.
"""
import selectors
import socket
import sys
import time


def split_responses(data):
    """Splits DATA into (status, headers dict, body) tuples by Content-Length."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append((None, {}, data))
            break
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get(b"content-length", b"-1"))
        if n < 0:
            out.append((status, headers, rest))
            break
        out.append((status, headers, rest[:n]))
        data = rest[n:]
    return out


def request(path, close):
    conn = b"close" if close else b"keep-alive"
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + conn + b"\r\n\r\n"


def burst(port, path, want, n):
    sel = selectors.DefaultSelector()
    bufs = {}
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        bufs[s] = [request(path, True), b""]
        sel.register(s, selectors.EVENT_WRITE)
    ok = 0
    deadline = time.monotonic() + 60
    while bufs and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            st = bufs[s]
            try:
                if ev & selectors.EVENT_WRITE:
                    sent = s.send(st[0])
                    st[0] = st[0][sent:]
                    if not st[0]:
                        sel.modify(s, selectors.EVENT_READ)
                    continue
                chunk = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            if chunk:
                st[1] += chunk
                continue
            resp = split_responses(st[1])
            if len(resp) == 1 and resp[0][0] == 200 and resp[0][2] == want:
                ok += 1
            sel.unregister(s)
            s.close()
            del bufs[s]
    for s in bufs:
        s.close()
    print(ok)


def halfclose(port, path, want, k):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"".join(request(path, False) for _ in range(k)))
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    resp = split_responses(data)
    for status, _, body in resp:
        if status == 200 and body == want:
            print("ok")
        else:
            print("status %s, %d body bytes of %d" % (status, len(body), len(want)))
    if not resp:
        print("no response")


def read_response(s):
    """Reads one response with a Content-Length from blocking socket S."""
    data = b""
    while True:
        resp = split_responses(data)
        if resp and resp[0][0] is not None:
            n = int(resp[0][1].get(b"content-length", b"-1"))
            if n >= 0 and len(resp[0][2]) == n:
                return resp[0]
        chunk = s.recv(65536)
        if not chunk:
            return resp[0] if resp else (None, {}, b"")
        data += chunk


def hold(port, path, want, n):
    conns = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(n)]
    time.sleep(0.5)
    conns[0].sendall(request(path, False))
    status, headers, body = read_response(conns[0])
    print(headers.get(b"connection", b"-").decode(), "ok" if status == 200 and body == want else "bad")
    for s in conns:
        s.close()


def main(argv):
    try:
        cmd, port, path, file = argv[1], int(argv[2]), argv[3], argv[4]
        with open(file, "rb") as f:
            want = f.read()
        if cmd == "burst":
            burst(port, path, want, int(argv[5]))
        elif cmd == "hold":
            hold(port, path, want, int(argv[5]))
        elif cmd == "halfclose":
            halfclose(port, path, want, int(argv[5]) if len(argv) > 5 else 1)
        else:
            raise ValueError(cmd)
    except (IndexError, ValueError, OSError) as e:
        print("rawclient.py: %s (see the usage at the top of this file)" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
