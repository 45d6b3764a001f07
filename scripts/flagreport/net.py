"""Scenarios over the network lab (issue 21): the lab's self-measurement
(OUT/NAME/raw/netlab.txt, written by `netlab/netlab.sh measure`), the rules
that make a point INVALID when the lab was not what the scenario set, and
the ideal bound with the round trips a design must pay.

The ideal bound of a networked scenario (docs/netlab.md, docs/bench.md): N
requests, at most m in flight, round trip R (the setting), server delay D,
k TLS round trips per handshake (0 for HTTP, 1 for TLS 1.3, flagserver's
version), rate C, B bytes of responses in one run:

- keep-alive (and HTTP/2, one connection): each connection pays its TCP and
  TLS handshakes once, then a round trip and the delay per request:
  T = (1 + k)·R + ceil(N/m)·(R + D);
- a new connection per request: every request pays them:
  T = ceil(N/m)·((2 + k)·R + D);
- a rate limit: no design beats the bytes over the rate: max(T, 8·B/C).

Loss has no term: what a lost segment costs is what LOSSY measures."""

import math

from .ranges import is_number

# The lab is INVALID when its measured round trip is off the setting by more
# than this fraction, or by more than RTT_SLACK_MS, whichever is larger.
RTT_TOLERANCE = 0.10
RTT_SLACK_MS = 2.0
# ... or its wire rate is off the setting by more than this fraction.
RATE_TOLERANCE = 0.10
# The level of the binomial interval a loss count must lie in.
LOSS_LEVEL = 0.99
# TLS round trips of one handshake: flagserver speaks TLS 1.3 (OpenSSL 3).
TLS_ROUND_TRIPS = 1


def loss_of(s):
    """The random loss each way of scenario S's lab (0 over loopback)."""
    net = s.get("net") or {}
    return net.get("loss") or 0


def read_netlab(path):
    """netlab.txt: key=value lines, values as text. None when the file is
    missing; a line without "=" is left out."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, eq, v = line.strip().partition("=")
                if eq and k:
                    out[k] = v
    except OSError:
        return None
    except UnicodeDecodeError:
        return {}
    return out


def _num(lab, key):
    try:
        v = float(lab.get(key, ""))
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _log_pmf(k, n, p):
    if p <= 0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1:
        return 0.0 if k == n else -math.inf
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_interval(n, p, level=LOSS_LEVEL):
    """(lo, hi): the central interval holding at least LEVEL of Binomial(n, p),
    each tail at most (1 - level) / 2."""
    tail = (1 - level) / 2
    pmf = [math.exp(_log_pmf(k, n, p)) for k in range(n + 1)]
    lo, acc = 0, 0.0
    while lo < n and acc + pmf[lo] <= tail:
        acc += pmf[lo]
        lo += 1
    hi, acc = n, 0.0
    while hi > 0 and acc + pmf[hi] <= tail:
        acc += pmf[hi]
        hi -= 1
    return lo, hi


def lab_problems(net, lab):
    """The sentences that say how the measured lab LAB (read_netlab) differs
    from the scenario's "net" settings NET beyond the rules' tolerances; []
    when it is as set."""
    if lab is None:
        return ["the network lab was not measured (no raw/netlab.txt)"]
    out = []
    rtt = _num(lab, "rtt_median_ms")
    want = net["rtt_ms"]
    allow = max(RTT_TOLERANCE * want, RTT_SLACK_MS)
    if rtt is None:
        out.append("the lab's round trip was not measured")
    elif abs(rtt - want) > allow:
        out.append("the lab's measured round trip %.3g ms is off the setting %g ms by more than %.3g ms "
                   "(10%% or 2 ms)" % (rtt, want, allow))
    for side, words in (("c2s", "client to server"), ("s2c", "server to client")):
        lost, sent = _num(lab, side + "_lost"), _num(lab, side + "_packets")
        if lost is None or sent is None or sent < 1:
            out.append("the lab's loss %s was not measured" % words)
            continue
        lo, hi = binomial_interval(int(sent), net["loss"])
        if not lo <= lost <= hi:
            out.append("the lab lost %d of %d datagrams %s, outside the 99%% interval %d–%d of the "
                       "setting %g" % (lost, sent, words, lo, hi, net["loss"]))
    if net["rate_mbit"] > 0:
        wire = _num(lab, "wire_mbit")
        if wire is None:
            out.append("the lab's rate was not measured")
        elif abs(wire - net["rate_mbit"]) > RATE_TOLERANCE * net["rate_mbit"]:
            out.append("the lab's measured rate %.4g Mbit/s is off the setting %g Mbit/s by more than 10%%"
                       % (wire, net["rate_mbit"]))
    if net.get("cc"):
        for key, side in (("tcp_congestion_control", "client"), ("tcp_congestion_control_server", "server")):
            got = lab.get(key)
            if got != net["cc"]:
                out.append("the lab's %s namespace ran congestion control %s, not the setting %s"
                           % (side, got or "(not read)", net["cc"]))
    return out


def rule_net_lab_as_set(s, c):
    """(a networked scenario) the lab measured before the scenario is what
    its "net" settings say: round trip within 10% (or 2 ms), each
    direction's loss count inside its binomial 99% interval, wire rate
    within 10%, and the congestion control set (if any) in both
    namespaces."""
    if not s.get("net") or c["not_run"] is not None:
        return []
    return s.get("_net_problems", [])


def ideal_s(s, m):
    """The ideal bound of S at M in flight, in seconds, or None when there
    is none (no delay and no network)."""
    n, d = s["requests"], s.get("delay_s", 0) or 0
    net = s.get("net")
    if not net:
        return math.ceil(n / m) * d if d > 0 else None
    r = net["rtt_ms"] / 1000
    k = TLS_ROUND_TRIPS if s.get("tls") else 0
    rounds = math.ceil(n / m)
    if s.get("fresh_connect"):
        t = rounds * ((2 + k) * r + d)
    else:
        t = (1 + k) * r + rounds * (r + d)
    b = s.get("_expect_bytes")
    if net["rate_mbit"] > 0 and is_number(b) and b > 0:
        # No response byte leaves the server before a handshake, half a round
        # trip and the delay; the last one arrives half a round trip after it
        # crossed the bottleneck, wherever the bottleneck sits on the path.
        t = max(t, (2 + k) * r + d + 8 * b / (net["rate_mbit"] * 1e6))
    return t if t > 0 else None


def ideal_formula(s):
    """The ideal bound of S in words, for REPORT.md."""
    net = s.get("net")
    if not net:
        return ("ceil(N / m) × %g s" % s["delay_s"]) if s["delay_s"] > 0 else None
    k = TLS_ROUND_TRIPS if s.get("tls") else 0
    r, d = net["rtt_ms"] / 1000, s.get("delay_s", 0)
    if s.get("fresh_connect"):
        f = "ceil(N / m) × ((2 + %d) × %g s + %g s): every request pays its TCP%s handshake" % (
            k, r, d, " and TLS" if k else "")
    else:
        f = "(1 + %d) × %g s + ceil(N / m) × (%g s + %g s): each connection pays its handshake%s once" % (
            k, r, r, d, "s" if k else "")
    if net["rate_mbit"] > 0:
        f = ("max(%s; (2 + %d) × %g s + %g s + 8 × B / %g Mbit/s: no response byte before a handshake, "
             "a round trip and the delay, then all of them through the bottleneck)"
             % (f, k, r, d, net["rate_mbit"]))
    return f


def lab_lines(s):
    """REPORT.md lines: the lab's settings against what was measured, and
    the delayers' own CPU per packet."""
    net, lab = s.get("net"), s.get("_netlab")
    if not net:
        return []
    where = {"receiver": " (its queue on the receiver's way in: a drop is a loss to TCP)",
             "sender": " (its queue on the sender's way out, where TCP takes a drop for local congestion:"
                       " no ifb driver here)"}
    out = ["- network lab: set RTT %g ms, jitter ±%g ms, loss %g each way, rate %s%s, congestion control %s"
           % (net["rtt_ms"], net["jitter_ms"], net["loss"],
              "%g Mbit/s" % net["rate_mbit"] if net["rate_mbit"] > 0 else "unlimited",
              where.get((lab or {}).get("rate_at"), "") if net["rate_mbit"] > 0 else "",
              net.get("cc") or "the host's")]
    if lab is None:
        out.append("- network lab measured: nothing (no raw/netlab.txt): every point is INVALID")
        return out

    def v(key, fmt="%s"):
        x = _num(lab, key)
        return fmt % x if x is not None else "?"

    out.append("- network lab measured: RTT median %s ms (p10 %s, p90 %s, %s connects); lost %s of %s "
               "client→server and %s of %s server→client (99%% interval %s); %s"
               % (v("rtt_median_ms", "%.3g"), v("rtt_p10_ms", "%.3g"), v("rtt_p90_ms", "%.3g"),
                  v("rtt_samples", "%d"), v("c2s_lost", "%d"), v("c2s_packets", "%d"), v("s2c_lost", "%d"),
                  v("s2c_packets", "%d"), lab.get("c2s_loss_interval99", "?"),
                  ("wire rate %s Mbit/s (payload %s)" % (v("wire_mbit", "%.4g"), v("goodput_mbit", "%.4g")))
                  if net["rate_mbit"] > 0 else "bulk TCP %s Mbit/s" % v("goodput_mbit", "%.4g")))
    out.append("- the lab's delayers (not the clients): %s µs CPU per packet client→server, %s server→client; "
               "released late by %s / %s µs on average; congestion control %s"
               % (v("delayer_c2s_cpu_ns_per_packet", "%.0f") if _num(lab, "delayer_c2s_cpu_ns_per_packet") is None
                  else "%.1f" % (_num(lab, "delayer_c2s_cpu_ns_per_packet") / 1000),
                  "?" if _num(lab, "delayer_s2c_cpu_ns_per_packet") is None
                  else "%.1f" % (_num(lab, "delayer_s2c_cpu_ns_per_packet") / 1000),
                  v("delayer_c2s_late_us_mean", "%.0f"), v("delayer_s2c_late_us_mean", "%.0f"),
                  lab.get("tcp_congestion_control", "?")))
    probs = s.get("_net_problems") or []
    out.append("- the lab as set: %s" % ("yes" if not probs else "NO (" + "; ".join(probs) + ")"))
    return out


def network_sentence(s, pts):
    """One sentence on what the network changed compared with loopback: at
    the m where both designs have a valid point (the largest), the ideal
    bound without the lab's round trips against with them, and how close
    each design came to the latter. None for a loopback scenario."""
    if not s.get("net"):
        return None
    by = {(p["line"], p["m"]): p for p in pts if p["valid"] and p.get("efficiency")}
    ms = sorted({m for (line, m) in by if ("threadpool", m) in by and ("asyncloop", m) in by})
    net = s["net"]
    what = "a %g ms round trip%s%s%s" % (
        net["rtt_ms"], ", ±%g ms of jitter" % net["jitter_ms"] if net["jitter_ms"] else "",
        ", %g%% loss each way" % (net["loss"] * 100) if net["loss"] else "",
        ", a %g Mbit/s bottleneck" % net["rate_mbit"] if net["rate_mbit"] else "")
    if not ms:
        return "Over the lab (%s) no m has a valid point of both designs, so nothing can be said of it." % what
    m = ms[-1]
    tp, al = by[("threadpool", m)], by[("asyncloop", m)]
    loop = math.ceil(s["requests"] / min(m, s["requests"])) * s.get("delay_s", 0)
    return ("What the network changed: over loopback the ideal bound at m = %d is %s; %s raises it to "
            "%.3g s (the handshakes' and each request's round trips%s), and there threadpool reached %.0f%% "
            "of it (%.3g s), asyncloop %.0f%% (%.3g s)."
            % (m, "%.3g s (ceil(N / m) × the delay)" % loop if loop > 0 else "nothing (no delay)", what,
               tp["ideal_s"], ", or the bytes over the rate after the first round trips" if net["rate_mbit"] else "",
               100 * tp["efficiency"], tp["elapsed"]["median"], 100 * al["efficiency"], al["elapsed"]["median"]))
