#!/usr/bin/env bash
# Bench of scripts/lot_traceability.lua on the large fixture (examples/lot_traceability/generate.sql:
# 1M production runs, 1.2M pallets, 100k legacy ingredients at scale 1) against its anchor, psql
# running tests/bench/anchors/lot_traceability.sql (the same migration as a plain SQL script in
# its best order, each statement in autocommit). Not a test: nothing here runs in CI.
#   bash tests/bench/lot_traceability_bench.sh [--mighost PATH] [--scale S] [--rounds R]
# Each run gets a fresh copy (CREATE DATABASE … TEMPLATE) of one generated database; the two runs
# alternate and flip order. Per run: wall time; for mighost also its report's durations (setup,
# phases, online, finalize, checks) and its own lock report; peak RSS (/usr/bin/time). For both,
# a poller in another database samples pg_locks every 10 ms and gives the longest time a lock
# that blocks writes (SHARE or stronger) was held on production_runs (resolution: the interval).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mighost=$root/build/mighost scale=1 rounds=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --mighost) mighost=$(realpath "$2"); shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "lot_traceability_bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
[[ -x $mighost ]] || { echo "no $mighost (build it, or --mighost PATH)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
source "$here/lib.sh"
bench_sandbox "$mighost" mighost-lot-bench   # sets work, url; dburl NAME
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "generating the legacy database at scale $scale ..."
t0=$(date +%s.%N)
q "$url" -c "CREATE DATABASE lt_tpl"
EXAMPLES_SCALE=$scale q "$(dburl lt_tpl)" -f "$root/examples/lot_traceability/generate.sql" >/dev/null
bench_settle "$(dburl lt_tpl)"
printf "  loaded in %.1f s\n" "$(echo "$(date +%s.%N) - $t0" | bc)"
q "$url" -c "CREATE UNLOGGED TABLE lock_samples (db text, at timestamptz, pid int, rel oid, mode text);
             CREATE TABLE poll_stop (db text)"

# poll DB APP_PATTERN: samples the relation locks of the run's backends until poll_stop names DB
poll() {
  q "$url" -c "DO \$\$ BEGIN LOOP
      INSERT INTO lock_samples SELECT '$1', clock_timestamp(), l.pid, l.relation, l.mode FROM pg_locks l
        JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE a.datname = '$1' AND a.application_name LIKE '$2' AND l.locktype = 'relation' AND l.granted;
      EXIT WHEN EXISTS (SELECT 1 FROM poll_stop WHERE db = '$1');
      PERFORM pg_stat_clear_snapshot();   -- pg_stat_activity is read once per transaction otherwise
      PERFORM pg_sleep(0.01);
    END LOOP; END \$\$"
}
# blocking DB: the longest write-blocking hold on production_runs (islands of consecutive samples)
blocking() {
  local oid; oid=$(psql -X -At "$(dburl "$1")" -c "SELECT 'production_runs'::regclass::oid")
  psql -X -At "$url" -c "WITH s AS (SELECT at, pid, mode FROM lock_samples WHERE db = '$1' AND rel = $oid
        AND mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')),
      g AS (SELECT *, CASE WHEN at - lag(at) OVER (PARTITION BY pid, mode ORDER BY at) > interval '50 ms' THEN 1 ELSE 0 END AS brk FROM s),
      i AS (SELECT *, sum(brk) OVER (PARTITION BY pid, mode ORDER BY at) AS island FROM g)
      SELECT COALESCE(max(d)::text, '0') || ' ' || COALESCE((array_agg(mode ORDER BY d DESC))[1], '-') FROM (
        SELECT mode, round(extract(epoch FROM max(at) - min(at))::numeric + 0.01, 3) AS d FROM i GROUP BY pid, mode, island) x"
}

# run_one a|b N -> "seconds rss_kb blocking_s blocking_mode [setup phases online finalize checks]"
run_one() {
  local which=$1 n=$2 db="lt_run_$1_$2" t wall poller
  q "$url" -c "CREATE DATABASE $db TEMPLATE lt_tpl"
  q "$url" -c "CHECKPOINT"
  if [[ $which == a ]]; then
    poll "$db" 'mighost:lot_traceability%' & poller=$!
    t=$(date +%s.%N)
    (cd "$work" && /usr/bin/time -f '%M' -o "$work/time.$db" "$mighost" run "$root/scripts/lot_traceability.lua" \
       --db "$(dburl "$db")" --report "$work/$db.json") >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "mighost run failed" >&2; }
  else
    poll "$db" 'lot_anchor' & poller=$!
    t=$(date +%s.%N)
    PGAPPNAME=lot_anchor /usr/bin/time -f '%M' -o "$work/time.$db" psql -X -q -v ON_ERROR_STOP=1 -d "$(dburl "$db")" \
      -f "$here/anchors/lot_traceability.sql" >"$work/$db.out" 2>"$work/$db.err" || { tail -5 "$work/$db.err" >&2; echo "anchor failed" >&2; }
  fi
  wall=$(echo "$(date +%s.%N) - $t" | bc)
  q "$url" -c "INSERT INTO poll_stop VALUES ('$db')"; wait "$poller"
  echo "$wall $(tail -1 "$work/time.$db") $(blocking "$db")$( [[ $which == a ]] && python3 - "$work/$db.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r.get("durations", {})
print("", d.get("setup", 0), sum(d.get("phases", {}).values()), d.get("online", 0), d.get("finalize", 0), d.get("checks", 0), r.get("status"))
PY
)"
  [[ $which == a ]] && grep '^  lock ' "$work/$db.out" | sed 's/^/    /' >&2
  q "$url" -c "DROP DATABASE $db" >/dev/null
}

declare -a A B
for ((n = 1; n <= rounds; n++)); do
  order="a b"; (( n % 2 == 0 )) && order="b a"
  for w in $order; do
    r=$(run_one "$w" "$n")
    echo "round $n $w: $r"
    if [[ $w == a ]]; then A+=("$r"); else B+=("$r"); fi
  done
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ma=$(printf '%s\n' "${A[@]}" | cut -d' ' -f1 | median); mb=$(printf '%s\n' "${B[@]}" | cut -d' ' -f1 | median)
mc=$(printf '%s\n' "${A[@]}" | cut -d' ' -f9 | median)
echo "median wall: mighost $ma s (checks $mc s), anchor $mb s; ratio $(echo "scale=2; $ma / $mb" | bc), without the checks $(echo "scale=2; ($ma - $mc) / $mb" | bc)"
echo "peak RSS: mighost $(printf '%s\n' "${A[@]}" | cut -d' ' -f2 | median) kB, psql $(printf '%s\n' "${B[@]}" | cut -d' ' -f2 | median) kB"
echo "longest write-blocking lock on production_runs (sampled): mighost $(printf '%s\n' "${A[@]}" | cut -d' ' -f3 | median) s, anchor $(printf '%s\n' "${B[@]}" | cut -d' ' -f3 | median) s"
