# bench-verdict.jq -- a scenario's verdict, in sentences, from its points.
#
# Input: OUT/NAME/points.json (bench-summary.jq objects); $scen[0]: the
# scenario. Compares the median elapsed times of the two backends at each m
# where both are valid: within 5% is a tie. Everything said is computed here.

def r2: (. * 100 | round) / 100;
def pct: "\(. * 100 | round)%";
def num: if . >= 100 then (round | tostring) else (r2 | tostring) end;
def winner: if .r > 1.05 then "asyncloop" elif .r < (1 / 1.05) then "threadpool" else "tie" end;
def mrange: if (.[0] == .[-1]) then "m = \(.[0])" else "m = \(.[0])–\(.[-1])" end;
def xrange: (map(.) | min | r2) as $a | (map(.) | max | r2) as $b
  | if $a == $b then "\($a)×" else "\($a)–\($b)×" end;

$scen[0] as $s
| map(select(.valid)) as $v
| [$v[] | select(.backend == "threadpool")] as $tp
| [$v[] | select(.backend == "asyncloop")] as $al
| ([$tp[] as $t | $al[] | select(.m == $t.m)
    | {m, r: ($t.elapsed.median / .elapsed.median), t: $t, a: .}] | sort_by(.m)
   | map(. + {w: winner})) as $pairs
# consecutive m with the same winner
| (reduce $pairs[] as $p ([];
     if length > 0 and .[-1].w == $p.w then .[-1].ps += [$p] else . + [{w: $p.w, ps: [$p]}] end)
  ) as $segs
| ([$pairs[] | select(.w != "tie")]) as $decided
| [
    (if ($pairs | length) == 0 then
       "No m has a valid point for both backends, so there is no comparison."
     else
       ($segs | map(
          if .w == "tie" then
            "at \([.ps[].m] | mrange) the two backends are within 5% of each other"
          else
            "at \([.ps[].m] | mrange) \(.w) is faster by " +
            ([.ps[] | if .w == "asyncloop" then .r else 1 / .r end] | xrange)
          end) | join("; ")
        | (.[:1] | ascii_upcase) + .[1:] + " (ratio of median elapsed times).")
     end),
    (if ($decided | length) >= 2 then
       ([range(1; $decided | length) as $i
         | select($decided[$i].w != $decided[$i - 1].w)
         | "between m = \($decided[$i - 1].m) and m = \($decided[$i].m)"]) as $x
       | if ($x | length) == 0 then "No crossover in this range of m."
         elif ($x | length) == 1 then
           "Crossover \($x[0]): below it \($decided[0].w) wins, above it \($decided[-1].w)."
         else
           ([range(1; $decided | length) | select($decided[.].w != $decided[. - 1].w)]
            | $decided[.[-1]].m) as $from
           | "The faster backend changes \($x | length) times (\($x | join("; "))), so there is"
             + " no single crossover; from m = \($from) up \($decided[-1].w) wins at every m."
         end
     else empty end),
    ("Best throughput: " + ([["threadpool", "asyncloop", "curl"][] as $b
        | [$v[] | select(.backend == $b)] | max_by(.requests_per_s.median)
        | select(. != null) | "\(.backend) \(.requests_per_s.median | round) requests/s at m = \(.m)"]
        | join(", ")) + "."),
    (if $s.delay_s > 0 and ($pairs | length) > 0 then
       ($pairs[-1]) as $p
       | "At m = \($p.m) threadpool reaches \($p.t.efficiency | pct) of the ideal bound"
         + " (\($p.t.ideal_s | num) s), asyncloop \($p.a.efficiency | pct)."
     else empty end),
    (if ($pairs | length) > 0 and $pairs[-1].t.rss_kb.median != null
        and $pairs[-1].a.rss_kb.median != null then
       ($pairs[-1]) as $p
       | "At m = \($p.m) peak RSS is \($p.t.rss_kb.median / 1024 | num) MiB for threadpool and"
         + " \($p.a.rss_kb.median / 1024 | num) MiB for asyncloop"
         + " (\($p.t.rss_kb.median / $p.a.rss_kb.median | r2)×), CPU per 1,000 requests"
         + " \($p.t.cpu_per_1k.median | r2 ) s and \($p.a.cpu_per_1k.median | r2) s."
     else empty end),
    (if $s.ok_exits != [0] then
       ([$v[] | select(.backend != "curl") | .errors] | select(length > 0)) as $e
       | "Injected errors were counted, not lost: \($e | min | round)–\($e | max | round)"
         + " errors per run of \($s.requests) requests, with ok + not found + errors ="
         + " requests in every valid run."
     else empty end),
    (map(select(.unsupported)) | .[]
     | "\(.backend) did not run m = \(.m) on this machine: \(.reasons[0])."),
    ((map(select((.valid or .unsupported) | not)) | length) as $n
     | if $n > 0 then "**\($n) point(s) INVALID** (see the table); they are not plotted."
       else empty end)
  ]
| join(" ")
