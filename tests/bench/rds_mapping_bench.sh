#!/usr/bin/env bash
# Bench of scripts/rds_mapping.lua: source and target in two databases of one sandbox server, the
# large fixture (examples/rds_mapping/generate.sql), runs alternating in one bench (a b c, c b a, …):
#   a  mighost run scripts/rds_mapping.lua (JSON backup, rejects, fixups, checks included)
#   b  psql piping each table: psql -c "\copy (SELECT <the mapping>) TO STDOUT" | psql -c "\copy t FROM STDIN"
#      into the same target DDL, loaded as the script loads it (tables with keys, unique and CHECK
#      constraints; rows; then the secondary indexes and foreign keys; sequences). <the mapping> is
#      the query that gives the rows §3 says each table must hold (tests/bench/rds_mapping_anchor.lua)
#   c  python/psycopg2 doing the seed's approach, row by row (tests/bench/rds_mapping_rowbyrow.py)
# and one mighost run on a tenth of the fixture for the peak-RSS ratio. Not a test: nothing here
# runs in CI.
#   bash tests/bench/rds_mapping_bench.sh [--mighost PATH] [--scale S] [--rounds R] [--no-python] [-- RUN_ARGS…]
# Prints each run (mighost: load = phases + finalize, the whole run, backup, checks, peak RSS), the
# load average, the medians, a/b (target <= 1.3), c/a (target >= 10) and the RSS ratio (<= 1.2).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mighost=$root/build/mighost scale=1 rounds=2 python=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --mighost) mighost=$(realpath "$2"); shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-python) python=; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "rds_mapping_bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
run_args=("$@")
[[ -x $mighost ]] || { echo "no $mighost (build it, or --mighost PATH)" >&2; exit 1; }
PY=${PYTHON:-/usr/bin/python3}   # the Debian python3 has python3-psycopg2
[[ -z $python ]] || "$PY" -c "import psycopg2" || { echo "needs python3-psycopg2 (or --no-python)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
source "$here/lib.sh"
bench_sandbox "$mighost" mighost-rds-bench   # sets work, url; dburl NAME
mkdir -p "$work/scripts" "$work/anchor" && cp -r "$root/scripts/rds_mapping.lua" "$root/scripts/rds_mapping" "$work/scripts/"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

small=$(printf '%g' "$(echo "$scale / 10" | bc -l)")
for db in rds_src:$scale rds_small:$small; do
  name=${db%%:*} s=${db#*:}
  t0=$(date +%s.%N)
  q "$url" -c "CREATE DATABASE $name" >/dev/null
  q -v scale="$s" "$(dburl "$name")" -f "$root/examples/rds_mapping/generate.sql" >/dev/null
  bench_settle "$(dburl "$name")"
  printf "generated %s (scale %s) in %.1f s: %s bags, %s MB\n" "$name" "$s" "$(echo "$(date +%s.%N) - $t0" | bc)" \
    "$(q "$(dburl "$name")" -c "SELECT count(*) FROM bag")" "$(q "$(dburl "$name")" -c "SELECT pg_database_size(current_database()) / 1048576")"
done
src=$(dburl rds_src)
q "$url" -c "CREATE DATABASE rds_probe" >/dev/null
SRC=$src TGT=$(dburl rds_probe) "$mighost" run "$here/rds_mapping_anchor.lua" "$work/anchor" >/dev/null
TABLES="user bag bill scan link bill_bag promotionrequest audit_log"

mighost_run() {  # mighost_run SOURCE TARGET -> seconds; details in $work/r.json, $work/rss
  local t
  rm -rf "$work/bk"
  t=$(date +%s.%N)
  (cd "$work" && /usr/bin/time -o "$work/rss" -f "%M" "$mighost" run "$work/scripts/rds_mapping.lua" --source-db "$1" \
    --target-db "$2" --backup-dir "$work/bk" --report "$work/r.json" "${run_args[@]}") >"$work/a.out" 2>"$work/a.err" \
    || { tail -5 "$work/a.err" >&2; echo "mighost run failed" >&2; }
  grep -q '^RESULT .*"status":"ok"' "$work/a.out" || echo "mighost run: status not ok" >&2
  echo "$(date +%s.%N) - $t" | bc
}

run_one() {  # run_one a|b|c N -> seconds
  local which=$1 db="rds_tgt_$1_$2" t tgt
  q "$url" -c "CREATE DATABASE $db" >/dev/null
  tgt=$(dburl "$db")
  if [[ $which == a ]]; then
    t=$(mighost_run "$src" "$tgt")
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); d=r["durations"]; p=sum(d["phases"].values())
print("  mighost: load %.1f s (phases %.1f + finalize %.1f), backup %.1f s (%d MB), checks %.1f s, setup %.1f s" % (p + d.get("finalize",0), p, d.get("finalize",0), d.get("backup",0), r["backup"]["bytes"] / 1048576, d.get("checks",0), d.get("setup",0)))
print("  mighost phases: " + ", ".join("%s %.1f" % kv for kv in d["phases"].items()))' "$work/r.json" >&2
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["durations"]; print(sum(d["phases"].values()) + d.get("finalize",0))' \
      "$work/r.json" > "$work/load"
  elif [[ $which == b ]]; then
    t=$(date +%s.%N)
    q "$tgt" -f "$work/anchor/pre.sql" >/dev/null
    for tb in $TABLES; do
      PGOPTIONS='-c enable_nestloop=off' psql -X -q -v ON_ERROR_STOP=1 "$src" -c "\\copy ($(cat "$work/anchor/$tb.sql")) TO STDOUT" \
        | psql -X -q -v ON_ERROR_STOP=1 "$tgt" -c "\\copy \"$tb\" ($(cat "$work/anchor/$tb.cols")) FROM STDIN" \
        || echo "psql pipe of $tb failed" >&2
    done
    q "$tgt" -f "$work/anchor/post.sql" >/dev/null
    t=$(echo "$(date +%s.%N) - $t" | bc)
  else
    q "$tgt" -c "$(cat "$root/scripts/rds_mapping/ddl.lua" | sed -n '/^return \[\[/,/\]\]/p' | sed '1s/^return \[\[//; $s/\]\]$//')" >/dev/null
    t=$(date +%s.%N)
    "$PY" "$here/rds_mapping_rowbyrow.py" "$src" "$tgt" >"$work/c.out" 2>"$work/c.err" || { tail -5 "$work/c.err" >&2; echo "python run failed" >&2; }
    t=$(echo "$(date +%s.%N) - $t" | bc)
  fi
  q "$tgt" -c "SELECT concat_ws('/', (SELECT count(*) FROM \"user\"), (SELECT count(*) FROM bag), (SELECT count(*) FROM scan),
    (SELECT count(*) FROM link), (SELECT count(*) FROM bill), (SELECT count(*) FROM bill_bag))" > "$work/rows.$which"
  q "$url" -c "DROP DATABASE $db" >/dev/null
  echo "$t"
}

declare -a ta tl tb tc ra
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order="a b c"; else order="c b a"; fi
  for w in $order; do
    [[ $w == c && -z $python ]] && continue
    s=$(run_one "$w" "$r")
    extra=""
    case $w in
      a) ta+=("$s"); tl+=("$(cat "$work/load")"); ra+=("$(tail -1 "$work/rss")"); name="mighost rds_mapping.lua"
         extra=$(printf "  (load %.2f s) peak RSS %.1f MB" "$(cat "$work/load")" "$(echo "$(tail -1 "$work/rss") / 1024" | bc -l)") ;;
      b) tb+=("$s"); name="psql \\copy | psql \\copy" ;;
      c) tc+=("$s"); name="python row-by-row" ;;
    esac
    printf "round %d  %-26s %8.2f s%s  rows user/bag/scan/link/bill/bill_bag %s  (load %s)\n" "$r" "$name" "$s" "$extra" "$(cat "$work/rows.$w")" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
q "$url" -c "CREATE DATABASE rds_tgt_small" >/dev/null
ts=$(mighost_run "$(dburl rds_small)" "$(dburl rds_tgt_small)")
rss_small=$(tail -1 "$work/rss")
printf "mighost at scale %s: %.2f s, peak RSS %.1f MB\n" "$small" "$ts" "$(echo "$rss_small / 1024" | bc -l)"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ma=$(median "${ta[@]}") ml=$(median "${tl[@]}") mb=$(median "${tb[@]}") mr=$(median "${ra[@]}")
printf "median: mighost whole run %.2f s, load %.2f s; psql pipes %.2f s\n" "$ma" "$ml" "$mb"
printf "mighost load / psql = %.2fx, whole run / psql = %.2fx (target <= 1.3x)\n" "$(echo "$ml / $mb" | bc -l)" "$(echo "$ma / $mb" | bc -l)"
if [[ -n $python ]]; then
  mc=$(median "${tc[@]}")
  printf "python row-by-row %.2f s: python / mighost whole run = %.2fx (target >= 10x)\n" "$mc" "$(echo "$mc / $ma" | bc -l)"
fi
printf "peak RSS at scale %s / at scale %s = %.1f MB / %.1f MB = %.2f (target <= 1.2)\n" "$scale" "$small" \
  "$(echo "$mr / 1024" | bc -l)" "$(echo "$rss_small / 1024" | bc -l)" "$(echo "$mr / $rss_small" | bc -l)"
