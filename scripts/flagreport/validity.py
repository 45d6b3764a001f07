"""Every INVALID rule in one place. Each rule is a small function named
rule_*; it returns the reasons (sentences) a point broke it, and the report
names the rule beside them."""

from .scenarios import tls_resume


# The handshakes of bench.sh's own /stats read after a batch: its connection's
# handshake completes before the server answers, so the batch's counters
# include it (the reset's own handshake is zeroed by the reset).
STATS_HANDSHAKES = 1


def tls_point(s, batches, m):
    """The server's TLS counters of a point, summed over its batches with
    bench.sh's own /stats handshake taken out, per run (warmup runs
    included: the server cannot tell them apart), and the INVALID reasons
    they give. ({} , []) for a plain-HTTP scenario."""
    if not s.get("tls"):
        return {}, []
    reasons = []
    tot = {"handshakes": 0, "resumed": 0, "failed": 0}
    nruns = 0
    missing = False
    for b in batches:
        st = b["stats"]
        if st is None or b["rc"] != 0 or b["timed_out"]:
            continue  # reported elsewhere (no /stats, failed batch)
        if not all(k in st for k in ("tls_handshakes", "tls_resumed", "tls_failed")):
            missing = True
            continue
        n = b["warmup"] + b["runs"]
        want = s["requests"] * n  # the requests of the batch
        hs = max(0, st["tls_handshakes"] - STATS_HANDSHAKES)
        res, fail = st["tls_resumed"], st["tls_failed"]
        tot["handshakes"] += hs
        tot["resumed"] += res
        tot["failed"] += fail
        nruns += n
        if fail > 0:
            reasons.append("flagserver counted %d failed TLS handshake(s) in batch %d" % (fail, b["batch"]))
        if s.get("fresh_connect") and hs < want:
            reasons.append("%d TLS handshakes for %d requests in batch %d: not one per request "
                           "(--fresh-connect)" % (hs, want, b["batch"]))
        if not s.get("fresh_connect"):
            if hs == 0 and want > 0:
                reasons.append("no TLS handshake counted in batch %d" % b["batch"])
            elif s["requests"] > m and hs >= want:
                reasons.append("%d TLS handshakes for %d requests in batch %d: a handshake per "
                               "request, not keep-alive" % (hs, want, b["batch"]))
        if not tls_resume(s["server"]) and res > 0:
            reasons.append("%d resumed TLS handshake(s) in batch %d although the server has "
                           "resumption off" % (res, b["batch"]))
    if missing:
        reasons.append("no TLS counters in flagserver's /stats")
    per_run = {k: (v / nruns if nruns else None) for k, v in tot.items()}
    return {"total": tot, "per_run": per_run, "runs_counted": nruns}, reasons
