#!/usr/bin/env python3
"""measure.py -- the network lab's measurement tools, standard library only.

netlab.sh runs each half inside its namespace (ip netns exec) and prints what
they report as key=value lines. One tool per quantity:

  rtt-server ADDR PORT              accept TCP connections and close them
  rtt ADDR PORT N GAP_MS            N TCP connects, each timed (SYN to SYN-ACK
                                    is one round trip), GAP_MS apart: median,
                                    p10, p90, min, max
  udp-sink ADDR PORT N WAIT_S       count datagrams 0..N-1, their losses and
                                    reorders; stop WAIT_S after the last one
  udp-send ADDR PORT N PPS          send N numbered datagrams, paced at PPS
  bulk-server ADDR PORT SECONDS     accept one TCP connection and send for
                                    SECONDS
  bulk ADDR PORT                    receive until EOF: goodput from first to
                                    last byte
  interval N P LEVEL                the two-sided binomial LEVEL interval of the
                                    number of losses in N packets at probability P

Exit status: 0 measured; 1 the measurement failed (no peer, timeout);
2 usage error.
"""
import math
import socket
import struct
import sys
import time

USAGE = __doc__.split("\n\n")[2]


def fail(msg):
    print("measure: " + msg, file=sys.stderr)
    sys.exit(1)


def percentile(sorted_values, q):
    """Linear interpolation between closest ranks (as numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def rtt_server(addr, port):
    srv = socket.create_server((addr, port), backlog=512)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        conn.close()


def rtt(addr, port, n, gap_ms):
    samples = []
    deadline = time.monotonic() + 60
    while len(samples) < n:
        if time.monotonic() > deadline:
            fail("rtt: fewer than %d connects in 60 s" % n)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        t0 = time.perf_counter()
        try:
            s.connect((addr, port))
        except OSError as e:
            s.close()
            fail("rtt: connect to %s:%d: %s" % (addr, port, e))
        t1 = time.perf_counter()
        s.close()
        samples.append((t1 - t0) * 1000.0)
        # Apart, so the samples see the wandering jitter at different times
        # and no SYN queues behind the last close's FIN in the delay line.
        time.sleep(gap_ms / 1000.0)
    samples.sort()
    print("rtt_samples=%d rtt_median_ms=%.3f rtt_p10_ms=%.3f rtt_p90_ms=%.3f "
          "rtt_min_ms=%.3f rtt_max_ms=%.3f"
          % (n, percentile(samples, 0.5), percentile(samples, 0.1),
             percentile(samples, 0.9), samples[0], samples[-1]))


def udp_sink(addr, port, n, wait_s):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    print("ready", flush=True)
    seen = bytearray(n)
    received = reorders = duplicates = 0
    highest = -1
    s.settimeout(60)  # for the first datagram
    while True:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        s.settimeout(wait_s)
        if len(data) < 4:
            continue
        (seq,) = struct.unpack_from("!I", data)
        if seq >= n:
            continue
        if seen[seq]:
            duplicates += 1
            continue
        seen[seq] = 1
        received += 1
        if seq < highest:
            reorders += 1
        highest = max(highest, seq)
        if received == n:
            break
    if received == 0:
        fail("udp-sink: nothing received")
    print("packets=%d received=%d lost=%d reorders=%d duplicates=%d"
          % (n, received, n - received, reorders, duplicates))


def udp_send(addr, port, n, pps):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytes(60)
    start = time.monotonic()
    for seq in range(n):
        due = start + seq / pps
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        while True:
            try:
                s.sendto(struct.pack("!I", seq) + payload, (addr, port))
                break
            except (BlockingIOError, ConnectionRefusedError):
                time.sleep(0.0005)
            except OSError as e:
                fail("udp-send: %s" % e)
    print("sent=%d seconds=%.3f" % (n, time.monotonic() - start))


def bulk_server(addr, port, seconds):
    srv = socket.create_server((addr, port))
    print("ready", flush=True)
    conn, _ = srv.accept()
    chunk = bytes(65536)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn.sendall(chunk)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)  # until the peer closes: everything was delivered
    conn.close()


def bulk(addr, port):
    s = socket.create_connection((addr, port), timeout=120)
    first = s.recv(65536)
    if not first:
        fail("bulk: connection closed before any byte")
    t0 = time.perf_counter()
    total = 0  # bytes after the first read: they arrived within [t0, t1]
    while True:
        data = s.recv(1 << 20)
        if not data:
            break
        total += len(data)
    t1 = time.perf_counter()
    s.close()
    secs = t1 - t0
    if secs <= 0 or total == 0:
        fail("bulk: transfer too short to time")
    print("bulk_bytes=%d bulk_seconds=%.3f goodput_mbit=%.3f"
          % (total + len(first), secs, total * 8 / secs / 1e6))


def log_binom_pmf(k, n, p):
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def interval(n, p, level):
    """Smallest lo and largest hi with P(X < lo) <= a/2 and P(X > hi) <= a/2."""
    if p <= 0:
        return 0, 0
    tail = (1 - level) / 2
    cdf, lo = 0.0, 0
    pmf = [math.exp(log_binom_pmf(k, n, p)) for k in range(n + 1)]
    for k in range(n + 1):
        if cdf + pmf[k] > tail:
            lo = k
            break
        cdf += pmf[k]
    cdf, hi = 0.0, n
    for k in range(n, -1, -1):
        if cdf + pmf[k] > tail:
            hi = k
            break
        cdf += pmf[k]
    return lo, hi


def main(argv):
    try:
        cmd, args = argv[1], argv[2:]
        if cmd == "rtt-server" and len(args) == 2:
            rtt_server(args[0], int(args[1]))
        elif cmd == "rtt" and len(args) == 4:
            rtt(args[0], int(args[1]), int(args[2]), float(args[3]))
        elif cmd == "udp-sink" and len(args) == 4:
            udp_sink(args[0], int(args[1]), int(args[2]), float(args[3]))
        elif cmd == "udp-send" and len(args) == 4:
            udp_send(args[0], int(args[1]), int(args[2]), float(args[3]))
        elif cmd == "bulk-server" and len(args) == 3:
            bulk_server(args[0], int(args[1]), float(args[2]))
        elif cmd == "bulk" and len(args) == 2:
            bulk(args[0], int(args[1]))
        elif cmd == "interval" and len(args) == 3:
            lo, hi = interval(int(args[0]), float(args[1]), float(args[2]))
            print("%d %d" % (lo, hi))
        else:
            raise IndexError
    except (IndexError, ValueError):
        print("usage: measure.py " + USAGE.strip().replace("\n", "\n  "), file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        fail(str(e))


if __name__ == "__main__":
    main(sys.argv)
