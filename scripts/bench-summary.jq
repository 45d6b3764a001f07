# bench-summary.jq -- one raw point of scripts/bench.sh -> its summary.
#
# Input: a raw point {backend, m, server_started, hyperfine_rc, timed_out,
# hyperfine (hyperfine's results[0]), records (the client's --json lines,
# warmup runs first), stats (flagserver /stats after the point)}.
# $scen[0]: the scenario (bench.sh write_scenario_json).
# Output: medians and min-max ranges over the timed runs, the ideal bound, and
# valid/reasons. A point is INVALID when the server did not start, a run failed,
# a run's ok + not_found + errors != requests, or peak_in_flight > m. A point
# the client refused to run on this machine (exit 2, too few file descriptors
# for that m) is `unsupported` instead: not valid, not broken, and said why.

def median:
  sort
  | if length == 0 then null
    elif length % 2 == 1 then .[(length - 1) / 2]
    else (.[length / 2 - 1] + .[length / 2]) / 2
    end;

# {median, min, max} of a list of numbers (nulls dropped); nulls when empty.
def spread:
  map(select(. != null))
  | if length == 0 then {median: null, min: null, max: null}
    else {median: median, min: min, max: max}
    end;

def ceil_div($a; $b): (($a + $b - 1) / $b | floor);

$scen[0] as $s
| . as $p
| ($s.warmup + $s.runs) as $nruns
| ($p.backend == "curl") as $is_curl
| ($p.records[$s.warmup:]) as $recs          # the timed runs only
| ($p.hyperfine // {}) as $hf
| ($p.stats // {}) as $st
# concurrency actually used: the client's record says; curl is capped at 300.
| (if $is_curl then [$p.m, $s.curl_max_parallel, $s.requests] | min
   else ([$p.records[].concur_req] | max) // ([$p.m, $s.requests] | min)
   end) as $m_eff
| (if $s.delay_s > 0 then ceil_div($s.requests; $m_eff) * $s.delay_s else null end) as $ideal
| [
    (if $p.server_started | not then "flagserver did not start" else empty end),
    (if $p.server_started and $p.timed_out then "timed out" else empty end),
    (if $p.server_started and ($p.timed_out | not) and $p.hyperfine_rc != 0
     then "hyperfine failed (exit \($p.hyperfine_rc)): "
          + ($p.hyperfine_log // "" | split(". Use the")[0] | ltrimstr("Error: "))
     else empty end),
    ([$p.records[].errors] | add // 0
     | if . > 0 and $s.ok_exits == [0] then "the client reported \(.) failed requests" else empty end),
    (if $p.server_started and $p.hyperfine_rc == 0 and ($hf.times | length) != $s.runs
     then "\($hf.times | length) timed runs, expected \($s.runs)" else empty end),
    ([($hf.exit_codes // [])[] | select(. as $c | $s.ok_exits | index($c) | not)]
     | if length > 0 then "run exit status \(unique | map(tostring) | join(","))" else empty end),
    (if $p.server_started and ($is_curl | not) and ($p.records | length) != $nruns
     then "\($p.records | length) --json records, expected \($nruns)" else empty end),
    ([$p.records[] | select(.ok + .not_found + .errors != .requests)]
     | if length > 0 then "ok + not_found + errors != requests in \(length) run(s)" else empty end),
    ([$p.records[] | select(.requests != $s.requests)]
     | if length > 0 then "a run made \(.[0].requests) requests, expected \($s.requests)" else empty end),
    (if $p.server_started and $p.stats == null then "no flagserver /stats" else empty end),
    (if ($st.peak_in_flight // 0) > $p.m
     then "peak_in_flight \($st.peak_in_flight) > m = \($p.m)" else empty end),
    (if $p.stats != null and $p.hyperfine_rc == 0 and $st.requests != $s.requests * $nruns
     then "flagserver counted \($st.requests) requests, expected \($s.requests * $nruns)"
     else empty end)
  ] as $reasons
| ($p.client_rc == 2 and (($p.client_err // "") | test("file descriptors"))) as $unsupported
| (if $unsupported then [$p.client_err | ltrimstr("*** ")] else $reasons end) as $reasons
# whole-process time from hyperfine; rates follow from it
| (if $unsupported then [] else $hf.times // [] end | spread) as $elapsed
| {
    backend: $p.backend,
    m: $p.m,
    concur_req: $m_eff,
    requests: $s.requests,
    runs: ($hf.times // [] | length),
    valid: ($reasons | length == 0),
    unsupported: $unsupported,
    reasons: $reasons,
    elapsed: $elapsed,
    requests_per_s: (if $elapsed.median == null then {median: null, min: null, max: null}
                  else {median: ($s.requests / $elapsed.median),
                        min: ($s.requests / $elapsed.max),
                        max: ($s.requests / $elapsed.min)} end),
    ideal_s: $ideal,
    efficiency: (if $ideal != null and $elapsed.median != null
                 then $ideal / $elapsed.median else null end),
    p50_ms: ([$recs[].latency_ms.p50] | spread),
    p99_ms: ([$recs[].latency_ms.p99] | spread),
    rss_kb: ([$recs[].max_rss_kb] | spread),
    cpu_s: (if $is_curl then [($hf.user // null), ($hf.system // null)]
                             | if any(. == null) then null else add end
                             | [.] | spread
            else [$recs[] | .cpu_user_s + .cpu_sys_s] | spread end),
    connections: ([$recs[].connections] | spread | .median),
    ok: (if $is_curl then (($st.by_status["200"] // 0) / $nruns)
         else ([$recs[].ok] | spread | .median) end),
    not_found: (if $is_curl then (($st.by_status["404"] // 0) / $nruns)
                else ([$recs[].not_found] | spread | .median) end),
    errors: (if $is_curl then ((($st.requests // 0) - ($st.by_status["200"] // 0)
                                - ($st.by_status["404"] // 0)) / $nruns)
             else ([$recs[].errors] | spread | .median) end),
    peak_in_flight: ($st.peak_in_flight // null),
    peak_connections: ($st.peak_connections // null),
    server_requests: ($st.requests // null)
  }
# CPU seconds per 1,000 requests, from the CPU spread
| .cpu_per_1k = (.cpu_s | with_entries(.value |= (if . == null then null
                                                   else . * 1000 / $s.requests end)))
