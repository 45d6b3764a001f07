#!/usr/bin/env python3
"""hostile_server.py -- a server that does what a hostile one may (issue 19).

Listens on 127.0.0.1 (a free port, printed as "hostile_server listening on
URL"), over HTTPS when --cert and --key are given. The first path segment
picks the behaviour; the rest is the flag path the client appended:

  /gated/...   200, Content-Length 200,000: the first 64 KiB at once (more than
               the clients' 32 KiB write-behind buffer, so the body streams to
               its temporary file), then nothing until the file GATE exists
               (--gate; at most 30 s), then the rest. A test replaces the
               client's temporary file in between: case 1.
  /cut/...     200, no Content-Length, not chunked, Connection: close, 10,000
               bytes, then the TCP connection is closed WITHOUT a TLS
               close_notify: a truncation the client cannot tell from the end
               but by the missing close_notify (case 3).
  /clean/...   the same with a proper close_notify before the FIN: complete.
  anything else: 404.

Standard library only; one thread per connection; SIGTERM ends it.
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

GATED_SIZE = 200_000
GATED_FIRST = 64 * 1024
CUT_SIZE = 10_000


def body(n):
    """n bytes starting like a GIF, the rest a repeating pattern."""
    head = b'GIF89a'
    pattern = bytes(range(256)) * (n // 256 + 1)
    return (head + pattern)[:n]


def read_head(conn):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    line = data.split(b'\r\n', 1)[0].decode('latin-1')
    parts = line.split()
    return parts[1] if len(parts) >= 2 else None


def serve(conn, args):
    try:
        path = read_head(conn)
        if path is None:
            return
        if path.startswith('/gated/'):
            data = body(GATED_SIZE)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n'
                         b'Content-Length: %d\r\nConnection: close\r\n\r\n' % GATED_SIZE)
            conn.sendall(data[:GATED_FIRST])
            deadline = time.monotonic() + 30
            while not os.path.exists(args.gate) and time.monotonic() < deadline:
                time.sleep(0.01)
            conn.sendall(data[GATED_FIRST:])
        elif path.startswith('/cut/') or path.startswith('/clean/'):
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n'
                         b'Connection: close\r\n\r\n' + body(CUT_SIZE))
            if path.startswith('/clean/') and isinstance(conn, ssl.SSLSocket):
                conn = conn.unwrap()  # sends close_notify, waits for the peer's
        else:
            conn.sendall(b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n'
                         b'Connection: close\r\n\r\n')
    except (OSError, ValueError):
        pass
    finally:
        # SSLSocket.shutdown and close send no close_notify: a bare FIN.
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()


def accept_one(sock, args, ctx):
    conn, _ = sock.accept()

    def run():
        c = conn
        if ctx:
            try:
                c = ctx.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        serve(c, args)

    threading.Thread(target=run, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cert')
    ap.add_argument('--key')
    ap.add_argument('--gate', default='/nonexistent')
    args = ap.parse_args()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(128)
    scheme = 'https' if ctx else 'http'
    print(f'hostile_server listening on {scheme}://127.0.0.1:{sock.getsockname()[1]}',
          flush=True)
    while True:
        accept_one(sock, args, ctx)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
