#!/usr/bin/env bash
# Runs a migration's previous hand-written script (tests/bench/previous/NAME.lua) and the
# declared one (scripts/NAME.lua) on copies of the same fixtures and compares the results: every
# relation, every table's rows (mig_meta's rejects and fixups without their run ids), all equal.
#   bash tests/bench/compare_previous.sh build/mighost stock_batches examples/stock_batches/small.sql
#   SCALE=0.1 bash tests/bench/compare_previous.sh build/mighost stock_batches examples/stock_batches/generate.sql
# Several fixture files are loaded in order into one database. Exit 0 when the exit codes and
# the fingerprints are identical. ARGS: options of the run (e.g. ARGS=--recompute); THEN: options
# of a second run on the same database (THEN=--recompute: the migration, then the recompute);
# VOLATILE: columns left out of every row because they hold the time of the run, or `table.column`
# for one table only (VOLATILE="enqueued_at updated_at tasks_partcostagguser.id").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mighost=$(realpath "$1"); name=$2; shift 2
source "$root/tests/bench/lib.sh"
bench_sandbox "$mighost" "mighost-compare-$name"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

fingerprint() {  # every relation and table, rows as sorted jsonb text; run bookkeeping left out
  local u=$1 t
  sql "$u" -c "SELECT string_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind), ','
                        ORDER BY format('%s.%s:%s', n.nspname, c.relname, c.relkind))
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname !~ '^pg_temp'
                  AND c.relkind <> 'S'"
  for t in $(sql "$u" -c "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
               WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
                 AND format('%s.%s', schemaname, tablename) NOT IN ('mig_meta.runs', 'mig_meta.checks') ORDER BY 1"); do
    echo "$t $(sql "$u" -c "SELECT COALESCE(md5(string_agg(x::text, ',' ORDER BY x::text)), 'empty')
                           FROM (SELECT to_jsonb(r) - 'run_id' - 'created_at'$(volatile "$t") AS x FROM $t r) y")"
  done
}

volatile() {  # volatile SCHEMA.TABLE: " - 'col'" for each VOLATILE column of that table
  local c out=""
  for c in ${VOLATILE:-}; do
    if [[ $c != *.* ]]; then out="$out - '$c'"
    elif [[ ${1#*.} == "${c%.*}" ]]; then out="$out - '${c#*.}'"; fi
  done
  echo "$out"
}

for variant in previous declared; do
  sql "$url" -c "CREATE DATABASE $variant" >/dev/null
  for f in "$@"; do sql -v scale="${SCALE:-1}" -d "$(dburl "$variant")" -f "$f" >/dev/null; done
done
for variant in previous declared; do
  script=$root/scripts/$name.lua
  [[ $variant == previous ]] && script=$root/tests/bench/previous/$name.lua
  start=$(date +%s.%N)
  rc=0
  # shellcheck disable=SC2086  # ARGS / THEN are lists of options
  (cd "$work" && "$mighost" run "$script" --db "$(dburl "$variant")" --report "$work/$variant.json" ${ARGS:-} >"$work/$variant.out" 2>&1) || rc=$?
  if [[ -n ${THEN:-} ]]; then
    rc2=0
    (cd "$work" && "$mighost" run "$script" --db "$(dburl "$variant")" --report "$work/$variant.2.json" $THEN >>"$work/$variant.out" 2>&1) || rc2=$?
    rc="$rc, then $rc2"
  fi
  echo "$variant: exit $rc, $(grep '^RESULT' "$work/$variant.out" | tail -1 | cut -c1-150) ($(echo "$(date +%s.%N) - $start" | bc) s)"
  for r in "$work/$variant.json" "$work/$variant.2.json"; do   # where the time went
    [[ -s $r ]] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["durations"]
print("  durations: phases %s, setup %s, finalize %s, checks %s, total %s" % (d.get("phases"), d.get("setup"),
      d.get("finalize"), d.get("checks"), d.get("total")))' "$r"
  done
  { echo "exit $rc"; fingerprint "$(dburl "$variant")"; } >"$work/$variant.fp"
done
if diff "$work/previous.fp" "$work/declared.fp"; then
  echo "$name: identical ($(wc -l <"$work/declared.fp") relations and tables compared)"
else
  echo "$name: DIFFERENT"; exit 1
fi
