#!/usr/bin/env bash
# Bench of scripts/tasks_to_parts.lua: the script on the large fixture
# (examples/tasks_to_parts/generate.sql) against tests/bench/tasks_to_parts_rowbyrow.py, the seed
# runbook's row-by-row approach in psycopg2. Not a test: nothing here runs in CI.
#   bash tests/bench/tasks_to_parts_bench.sh [--mighost PATH] [--scale S (1 = 100k tasks, 1M timers)] [--rounds R]
# Each run gets a fresh copy (CREATE DATABASE … TEMPLATE) of one generated database; the runs
# alternate (a b c, c b a, …): a = mighost, b = python, c = the floor (psql running
# tests/bench/anchors/tasks_to_parts_floor.sql: the spec's writes as single set-based statements in
# one transaction, no backup, no checks: no script can beat it, so python/floor bounds the ratio).
# Prints each run's wall time (and mighost's peak RSS and phase times), the load average, the
# medians, python/mighost and python/floor. The script under test is copied at the start, so
# editing scripts/ during a long bench does not change what the later rounds run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mighost=$root/build-tp-rel/mighost scale=1 rounds=2
while [[ $# -gt 0 ]]; do
  case $1 in
    --mighost) mighost=$(realpath "$2"); shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "tasks_to_parts_bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
[[ -x $mighost ]] || { echo "no $mighost (build it, or --mighost PATH)" >&2; exit 1; }
PY=${PYTHON:-/usr/bin/python3}   # the Debian python3 has python3-psycopg2 (a pyenv shim may not)
"$PY" -c "import psycopg2" || { echo "needs python3-psycopg2" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
source "$here/lib.sh"
bench_sandbox "$mighost" mighost-t2p-bench   # sets work, url; dburl NAME
mkdir -p "$work/scripts" && cp -r "$root/scripts/tasks_to_parts.lua" "$root/scripts/tasks_to_parts" "$work/scripts/"

echo "generating the legacy database at scale $scale ..."
t0=$(date +%s.%N)
psql -X -q "$url" -c "CREATE DATABASE t2p_tpl" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v scale="$scale" "$(dburl t2p_tpl)" -f "$root/examples/tasks_to_parts/generate.sql" >/dev/null
bench_settle "$(dburl t2p_tpl)"
printf "  loaded in %.1f s: %s tasks, %s timers\n" "$(echo "$(date +%s.%N) - $t0" | bc)" \
  "$(psql -X -At "$(dburl t2p_tpl)" -c "SELECT count(*) FROM machining_task")" \
  "$(psql -X -At "$(dburl t2p_tpl)" -c "SELECT count(*) FROM tasks_timer")"

run_one() {  # run_one a|b N -> seconds
  local which=$1 n=$2 db="t2p_run_$1_$2" t
  psql -X -q "$url" -c "CREATE DATABASE $db TEMPLATE t2p_tpl" >/dev/null
  t=$(date +%s.%N)
  if [[ $which == c ]]; then
    psql -X -q -v ON_ERROR_STOP=1 "$(dburl "$db")" -f "$here/anchors/tasks_to_parts_floor.sql" >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "floor run failed" >&2; }
  elif [[ $which == a ]]; then
    (cd "$work" && /usr/bin/time -o "$work/rss" -f "%M" "$mighost" run "$work/scripts/tasks_to_parts.lua" \
      --db "$(dburl "$db")" --report "$work/r.json") >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "mighost run failed" >&2; }
    grep -q '^RESULT .*"status":"ok"' "$work/$db.out" || echo "mighost run: status not ok" >&2
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["durations"]; print("  mighost: setup %.1f s, tasks phase %.1f s, finalize %.1f s, checks %.1f s" % (d.get("setup",0), d["phases"].get("machining_task",0), d.get("finalize",0), d.get("checks",0)))' "$work/r.json" >&2
  else
    "$PY" "$here/tasks_to_parts_rowbyrow.py" "$(dburl "$db")" >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "python run failed" >&2; }
  fi
  echo "$(date +%s.%N) - $t" | bc
  psql -X -q "$url" -c "DROP DATABASE $db" >/dev/null
}

declare -a ta tb tc
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order="a b c"; else order="c b a"; fi
  for w in $order; do
    s=$(run_one "$w" "$r")
    case $w in
      a) ta+=("$s"); name="mighost tasks_to_parts.lua" ;;
      b) tb+=("$s"); name="python row-by-row" ;;
      c) tc+=("$s"); name="floor (set-based psql)" ;;
    esac
    extra=""
    [[ $w == a ]] && extra=$(printf "  peak RSS %.1f MB" "$(echo "$(tail -1 "$work/rss") / 1024" | bc -l)")
    printf "round %d  %-28s %8.2f s%s  (load %s)\n" "$r" "$name" "$s" "$extra" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ma=$(median "${ta[@]}") mb=$(median "${tb[@]}") mc=$(median "${tc[@]}")
printf "median: mighost %.2f s, python %.2f s, floor %.2f s\n" "$ma" "$mb" "$mc"
printf "python/mighost = %.2fx (target >= 10x); python/floor = %.2fx (the most any script could reach); mighost/floor = %.2fx\n" \
  "$(echo "$mb / $ma" | bc -l)" "$(echo "$mb / $mc" | bc -l)" "$(echo "$ma / $mc" | bc -l)"
