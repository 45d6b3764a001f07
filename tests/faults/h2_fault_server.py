#!/usr/bin/python3
"""h2_fault_server.py -- a small HTTP/2 server that misbehaves, for the tests.

Test-only: listens on 127.0.0.1 alone, one listener per fault, over TLS with
ALPN "h2" (libcurl 7.88 multiplexes h2 over TLS; its h2c does not) and, with
--h2c, the same faults over h2c with prior knowledge on ports of their own.
It serves DIR/flags/cc/cc.gif as flagserver does, and stops on SIGTERM or
after --lifetime seconds, whichever comes first, so a test that forgets it
cannot leave it running. Prints one line per listener,
"h2_fault_server FAULT on https://127.0.0.1:PORT/flags" (h2c: "FAULT-h2c on
http://..."), then "h2_fault_server ready".

The faults (docs/faults.md, "HTTP/2"):
  ok       serves every request (SETTINGS_MAX_CONCURRENT_STREAMS 100)
  streams1 serves every request, but allows one stream at a time
  rst      answers 200 with a Content-Length, sends half the body, then
           RST_STREAM(INTERNAL_ERROR)
  goaway   serves two streams per connection, then sends GOAWAY naming the
           last one it served and closes: the streams above it were not
           processed, so a client may retry them (RFC 9113, 6.8)
  window0  advertises an initial window of 0 and never opens it; answers
           with HEADERS and then holds the DATA forever, as a sender whose
           window is held at zero does: the client ends at its timeout
  reset100 answers nothing; once 100 streams are open on a connection (or
           a second passed with some open), resets the TCP connection
Needs python3-h2 (Debian), standard library otherwise.
"""

import argparse
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

FAULTS = ('ok', 'streams1', 'rst', 'goaway', 'window0', 'reset100')
GOAWAY_AFTER = 2
RESET_AT = 100


def body_for(root, path):
    """The file a /flags/cc/cc.gif path names under root, or None."""
    parts = path.split('?', 1)[0].split('/')
    if (len(parts) != 4 or parts[0] != '' or parts[1] != 'flags' or len(parts[2]) != 2
            or not parts[2].isalpha() or parts[3] != parts[2] + '.gif'):
        return None
    try:
        with open(os.path.join(root, 'flags', parts[2], parts[3]), 'rb') as f:
            return f.read()
    except OSError:
        return None


class Conn:
    """One client connection, served on its own thread."""

    def __init__(self, sock, fault, root):
        self.sock = sock
        self.fault = fault
        self.root = root
        cfg = h2.config.H2Configuration(client_side=False, header_encoding='utf-8')
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.served = 0
        self.last_served = 0
        self.open_streams = set()
        self.first_open = None
        self.pending = {}  # stream id -> (body, offset): DATA still to send

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def respond(self, sid, path):
        body = body_for(self.root, path)
        status = '200' if body is not None else '404'
        body = body if body is not None else b'not found\n'
        headers = [(':status', status), ('content-length', str(len(body))),
                   ('content-type', 'image/gif' if status == '200' else 'text/plain')]
        self.h2.send_headers(sid, headers)
        if self.fault == 'window0':
            return  # the DATA never comes
        if self.fault == 'rst' and status == '200':
            self.h2.send_data(sid, body[:len(body) // 2])
            self.h2.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
            return
        self.pending[sid] = (body, 0)
        self.send_pending()

    def send_pending(self):
        """Sends what the flow-control windows allow of every pending body."""
        for sid in list(self.pending):
            body, off = self.pending[sid]
            while off < len(body):
                n = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size,
                        len(body) - off)
                if n <= 0:
                    break
                self.h2.send_data(sid, body[off:off + n])
                off += n
            if off == len(body):
                self.h2.end_stream(sid)
                del self.pending[sid]
            else:
                self.pending[sid] = (body, off)

    def on_request(self, ev):
        headers = dict(ev.headers)
        path = headers.get(':path', '/')
        sid = ev.stream_id
        if self.fault == 'reset100':
            self.open_streams.add(sid)
            if self.first_open is None:
                self.first_open = time.monotonic()
            return len(self.open_streams) >= RESET_AT
        if self.fault == 'goaway' and self.served >= GOAWAY_AFTER:
            self.h2.close_connection(error_code=h2.errors.ErrorCodes.NO_ERROR,
                                     last_stream_id=self.last_served)
            self.flush()
            return True
        self.served += 1
        self.last_served = max(self.last_served, sid)
        self.respond(sid, path)
        return False

    def linger(self):
        """After a GOAWAY: what the client still sends is read and dropped
        until it closes (or 2 s pass), so that closing does not reset the
        connection under the responses already sent."""
        try:
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                try:
                    if not self.sock.recv(65536):
                        return
                except socket.timeout:
                    continue
        except (OSError, ssl.SSLError):
            return

    def reset_tcp(self):
        # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))

    def run(self):
        settings = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS:
                    1 if self.fault == 'streams1' else 100}
        if self.fault == 'window0':
            settings[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] = 0
        self.h2.initiate_connection()
        self.h2.update_settings(settings)
        self.flush()
        self.sock.settimeout(0.2)
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    if (self.fault == 'reset100' and self.first_open is not None
                            and time.monotonic() - self.first_open > 1.0):
                        self.reset_tcp()
                        return
                    continue
                if not data:
                    return
                done = False
                for ev in self.h2.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        done = self.on_request(ev) or done
                    elif isinstance(ev, h2.events.WindowUpdated):
                        if self.fault != 'window0':
                            self.send_pending()
                    elif isinstance(ev, h2.events.StreamReset):
                        self.pending.pop(ev.stream_id, None)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        done = True
                if self.fault == 'reset100' and done:
                    self.reset_tcp()
                    return
                self.flush()
                if done:
                    self.linger()
                    return
        except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
            return
        finally:
            try:
                self.sock.close()
            except OSError:
                pass


def serve(listener, fault, root, tls_ctx):
    while True:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        try:
            sock = tls_ctx.wrap_socket(raw, server_side=True) if tls_ctx else raw
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=Conn(sock, fault, root).run, daemon=True).start()


def main():
    p = argparse.ArgumentParser(description='HTTP/2 fault server (tests only, 127.0.0.1)')
    p.add_argument('--dir', required=True, help='serves DIR/flags/cc/cc.gif')
    p.add_argument('--cert', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--h2c', action='store_true', help='also each fault over h2c')
    p.add_argument('--lifetime', type=float, default=300.0, help='seconds before it exits')
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(['h2'])
    for fault in FAULTS:
        for tls in ((ctx, None) if a.h2c else (ctx,)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', 0))
            s.listen(512)
            port = s.getsockname()[1]
            name = fault if tls else fault + '-h2c'
            scheme = 'https' if tls else 'http'
            print(f'h2_fault_server {name} on {scheme}://127.0.0.1:{port}/flags', flush=True)
            threading.Thread(target=serve, args=(s, fault, a.dir, tls), daemon=True).start()
    print('h2_fault_server ready', flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    time.sleep(a.lifetime)
    os._exit(0)


if __name__ == '__main__':
    sys.dont_write_bytecode = True
    main()
