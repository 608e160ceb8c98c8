#!/usr/bin/env bash
# Bench of a set-based migration script: `mighost run scripts/<M>.lua` on the large
# fixture (examples/<M>/generate.sql) against the anchor, psql running tests/bench/anchors/<M>.sql:
# one `INSERT INTO <target> SELECT <the same transform, rejects left out>` into the same target
# DDL (the script's TARGET_DDL: keys, CHECKs, foreign keys, indexes). M: stock_batches (1M items at
# scale 1), assignments (200k parts) or one_off (examples/one_off: 500k orders). Not a test:
# nothing here runs in CI.
#   bash tests/bench/migration_bench.sh [--migration M] [--mighost PATH] [--scale S] [--rounds R] [-- RUN_ARGS…]
# Each run gets a fresh copy (CREATE DATABASE … TEMPLATE) of one generated database; the two runs
# alternate and flip order (a b, b a, …). Per run: the anchor's INSERT time; mighost's load =
# main phase + online + finalize (durations.phases.<phase> + durations.online + durations.finalize of
# its JSON report: the framework validates a new table's foreign keys in online and builds its
# secondary indexes in finalize, after the rows, so the
# load is what reaches the anchor's end state), the phase alone, the whole run (setup + backup +
# load + the spec's checks) and the checks alone; peak RSS (/usr/bin/time); then the medians and
# load / anchor (stock_batches' target: <= 1.05). For stock_batches a third run, c, is psql doing
# what the script does: the CREATE TABLE alone, the same INSERT … SELECT, then the DDL's indexes
# and foreign keys (timed together): what a hand-written runbook could reach with the same order;
# d is c with the primary key also added after the rows (pg_restore's order).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mighost=$root/build-bench/mighost scale=1 rounds=3 migration=stock_batches
while [[ $# -gt 0 ]]; do
  case $1 in
    --migration) migration=$2; shift 2 ;;
    --mighost) mighost=$(realpath "$2"); shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "migration_bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
run_args=("$@")
[[ -x $mighost ]] || { echo "no $mighost (build it, or --mighost PATH)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
case $migration in   # the main phase (its source set's counts) and the table it fills
  stock_batches) phase=items target=stock_batches legacy=items ;;
  assignments) phase=parts target=job_assignments legacy=parts ;;
  one_off) phase=orders target=orders legacy=orders_legacy ;;
  *) echo "migration_bench.sh: --migration must be stock_batches, assignments or one_off" >&2; exit 64 ;;
esac
script=$root/scripts/$migration.lua examples=$root/examples/$migration
[[ $migration == one_off ]] && script=$examples/one_off.lua

source "$here/lib.sh"
bench_sandbox "$mighost" mighost-migration-bench   # sets work, url; dburl NAME
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# The target DDL exactly as the script creates it (its TARGET_DDL long string).
sed -n '/^local TARGET_DDL = \[\[/,/\]\]/p' "$script" | sed '1d; s/\]\]$//' >"$work/ddl.sql"
grep -q 'CREATE TABLE' "$work/ddl.sql" || { echo "cannot find TARGET_DDL in $script" >&2; exit 1; }
anchor=$here/anchors/$migration.sql
# c and d: the DDL's first statement (the table) and the rest, split at its first ");" line
awk 'done {print > "'"$work"'/ddl_later.sql"; next} {print > "'"$work"'/ddl_table.sql"} /\);$/ {done = 1}' "$work/ddl.sql"
runners="a b"
[[ -s $work/ddl_later.sql ]] && runners="$runners c d"

echo "generating the legacy database at scale $scale ..."
t0=$(date +%s.%N)
q "$url" -c "CREATE DATABASE mb_tpl"
EXAMPLES_SCALE=$scale q "$(dburl mb_tpl)" -f "$examples/generate.sql" >/dev/null
bench_settle "$(dburl mb_tpl)"
printf "  loaded in %.1f s: %s $phase\n" "$(echo "$(date +%s.%N) - $t0" | bc)" \
  "$(psql -X -At "$(dburl mb_tpl)" -c "SELECT count(*) FROM $legacy")"

# run_one a|b N -> "seconds rss_kb phase_s finalize_s checks_s rows"
run_one() {
  local which=$1 n=$2 db="mb_run_$1_$2" t out
  q "$url" -c "CREATE DATABASE $db TEMPLATE mb_tpl"
  # Each run starts with no dirty page of the one before, neither the server's nor the kernel's
  # (the server runs with fsync = off: its checkpoint alone leaves the writing to the kernel).
  q "$url" -c "CHECKPOINT"
  sync
  if [[ $which == a ]]; then
    t=$(date +%s.%N)
    (cd "$work" && /usr/bin/time -f '%M' -o "$work/time.$db" "$mighost" run "$script" --db "$(dburl "$db")" \
       --report "$work/$db.json" "${run_args[@]}") >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "mighost run failed" >&2; }
    out="$(echo "$(date +%s.%N) - $t" | bc) $(tail -1 "$work/time.$db") $(python3 - "$work/$db.json" "$phase" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r.get("durations", {})
c = r.get("counts", {}).get(sys.argv[2], {})
print(d.get("phases", {}).get(sys.argv[2], 0), d.get("finalize", 0) + d.get("online", 0), d.get("checks", 0),
      c.get("written", c.get("migrated", "?")))
PY
)"
  elif [[ $which == c || $which == d ]]; then
    q "$(dburl "$db")" -f "$work/ddl_table.sql"
    local key=/dev/null
    if [[ $which == d ]]; then   # the table without its primary key, added back after the rows
      key=$work/key.$db.sql
      psql -X -At "$(dburl "$db")" -c "SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s;', conrelid::regclass,
          conname, pg_get_constraintdef(oid)) FROM pg_constraint WHERE conrelid = '$target'::regclass AND contype = 'p'" >"$key"
      psql -X -At "$(dburl "$db")" -c "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I;', conrelid::regclass, conname)
          FROM pg_constraint WHERE conrelid = '$target'::regclass AND contype = 'p'" | q "$(dburl "$db")"
    fi
    t=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/time.$db" psql -X -q -v ON_ERROR_STOP=1 "$(dburl "$db")" -f "$anchor" \
      -f "$key" -f "$work/ddl_later.sql" >"$work/$db.out" 2>"$work/$db.err" || { tail -5 "$work/$db.err" >&2; echo "psql $which failed" >&2; }
    out="$(echo "$(date +%s.%N) - $t" | bc) $(tail -1 "$work/time.$db") 0 0 0 \
$(psql -X -At "$(dburl "$db")" -c "SELECT count(*) FROM $target")"
  else
    q "$(dburl "$db")" -f "$work/ddl.sql"
    t=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/time.$db" psql -X -q -v ON_ERROR_STOP=1 "$(dburl "$db")" -f "$anchor" \
      >"$work/$db.out" 2>"$work/$db.err" || { tail -5 "$work/$db.err" >&2; echo "psql anchor failed" >&2; }
    out="$(echo "$(date +%s.%N) - $t" | bc) $(tail -1 "$work/time.$db") 0 0 0 \
$(psql -X -At "$(dburl "$db")" -c "SELECT count(*) FROM $target")"
  fi
  q "$url" -c "DROP DATABASE $db"
  echo "$out"
}

declare -a ta=() tb=() tp=() tl=() tc=() ra=() rb=() tcc=() tdd=()
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order=$runners; else order=$(echo "$runners" | rev); fi
  for w in $order; do
    read -r s rss ph fin ck rows <<<"$(run_one "$w" "$r")"
    if [[ $w == a ]]; then
      ta+=("$s"); tp+=("$ph"); tl+=("$(echo "$ph + $fin" | bc -l)"); tc+=("$ck"); ra+=("$rss")
      printf "round %d  mighost run      whole %8.2f s  load %8.2f s (%s phase %.2f + online/finalize %.2f)  checks %7.2f s  rows %s  peak RSS %6.1f MB\n" \
        "$r" "$s" "${tl[-1]}" "$phase" "$ph" "$fin" "$ck" "$rows" "$(echo "$rss / 1024" | bc -l)"
    elif [[ $w == c ]]; then
      tcc+=("$s")
      printf "round %d  psql table, INSERT…SELECT, then indexes + keys  %8.2f s   rows %s\n" "$r" "$s" "$rows"
    elif [[ $w == d ]]; then
      tdd+=("$s")
      printf "round %d  psql table without its primary key, INSERT…SELECT, then key, indexes + keys  %8.2f s   rows %s\n" "$r" "$s" "$rows"
    else
      tb+=("$s"); rb+=("$rss")
      printf "round %d  psql INSERT…SELECT     %8.2f s                                rows %s  peak RSS %6.1f MB\n" \
        "$r" "$s" "$rows" "$(echo "$rss / 1024" | bc -l)"
    fi
  done
done
# per round: load / anchor (the machine's load can change between rounds; the ratio of medians hides that)
# ratios TIMES…: mighost's load over each round's TIMES, one per line
ratios() { local t=("$@") i; for i in "${!tl[@]}"; do echo "${tl[$i]} / ${t[$i]}" | bc -l; done; }
mapfile -t rr < <(ratios "${tb[@]}")
printf "per round load / anchor:"; printf " %.2f" "${rr[@]}"; echo
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mp=$(median "${tp[@]}") ml=$(median "${tl[@]}") ma=$(median "${ta[@]}") mb=$(median "${tb[@]}") mc=$(median "${tc[@]}")
ratio=$(echo "$ml / $mb" | bc -l) rmed=$(median "${rr[@]}")
printf "median: anchor %.2f s; mighost load %.2f s (%.3fx; stock_batches target <= 1.05: %s; %s phase alone %.2f s), whole run %.2f s (%.2fx), checks %.2f s\n" \
  "$mb" "$ml" "$ratio" "$(echo "$ratio <= 1.05" | bc -l | sed 's/1/met/; s/0/missed/')" "$phase" "$mp" "$ma" "$(echo "$ma / $mb" | bc -l)" "$mc"
printf "median of the per-round ratios: %.3f\n" "$rmed"
# per_round NAME TIMES…: the ratios against TIMES, and their median
per_round() {
  local name=$1 q; shift
  mapfile -t q < <(ratios "$@")
  printf "  per round load / %s:" "$name"; printf " %.2f" "${q[@]}"; printf " (median %.2fx)\n" "$(median "${q[@]}")"
}
if (( ${#tcc[@]} > 0 )); then
  mcc=$(median "${tcc[@]}")
  printf "c: psql with the script's order (table, rows, then indexes + keys): %.2f s; mighost load / c = %.2fx\n" \
    "$mcc" "$(echo "$ml / $mcc" | bc -l)"
  per_round c "${tcc[@]}"
fi
if (( ${#tdd[@]} > 0 )); then
  mdd=$(median "${tdd[@]}")
  printf "d: psql in pg_restore's order (table without its primary key, rows, then key, indexes + keys): %.2f s; mighost load / d = %.2fx\n" \
    "$mdd" "$(echo "$ml / $mdd" | bc -l)"
  per_round d "${tdd[@]}"
fi
if (( ${#tcc[@]} > 0 )); then
  printf "whole run / c = %.2fx, whole run / d = %.2fx\n" "$(echo "$ma / $mcc" | bc -l)" "$(echo "$ma / $mdd" | bc -l)"
fi
printf "peak RSS (median): mighost %.1f MB, psql %.1f MB\n" "$(echo "$(median "${ra[@]}") / 1024" | bc -l)" \
  "$(echo "$(median "${rb[@]}") / 1024" | bc -l)"
