#!/usr/bin/env bash
# Bench of scripts/stock_batches.lua (issue 5): `mighost run` on the large fixture
# (examples/stock_batches/generate.sql) against the anchor, psql's `INSERT INTO stock_batches
# SELECT <the same transform, rejects left out> FROM items` into the same target DDL (the
# script's TARGET_DDL: primary key, CHECK, 3 foreign keys, 3 indexes). Not a test: nothing here runs in CI.
#   bash tests/bench/stock_batches_bench.sh [--mighost PATH] [--scale S (1 = 1M items)] [--rounds R] [-- RUN_ARGS…]
# Each run gets a fresh copy (CREATE DATABASE … TEMPLATE) of one generated database; the two runs
# alternate and flip order (a b, b a, …). Per run: the anchor's INSERT time, mighost's items phase
# (durations.phases.items of its JSON report), mighost's whole run (setup + backup + phase +
# finalize + the spec's checks) and its checks alone, peak RSS (/usr/bin/time); then the medians
# and items phase / anchor (target <= 1.05).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mighost=$root/build-sb-rel/mighost scale=1 rounds=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --mighost) mighost=$(realpath "$2"); shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "stock_batches_bench.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
done
run_args=("$@")
[[ -x $mighost ]] || { echo "no $mighost (build it, or --mighost PATH)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
script=$root/scripts/stock_batches.lua

work=$(mktemp -d /tmp/mighost-sb-bench-XXXXXX)
sandbox_pid=
cleanup() {
  if [[ -n $sandbox_pid ]]; then kill -INT "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$mighost" sandbox >"$work/url" 2>"$work/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 1200); do [[ -s $work/url ]] && break; sleep 0.1; done
url=$(head -1 "$work/url")
[[ -n $url ]] || { cat "$work/sandbox.log" >&2; exit 1; }
dburl() { echo "$url" | sed "s#/mighost?#/$1?#"; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# The target DDL exactly as the script creates it (its TARGET_DDL long string).
sed -n '/^local TARGET_DDL = \[\[/,/\]\]/p' "$script" | sed '1d; s/\]\]$//' >"$work/ddl.sql"
grep -q 'CREATE TABLE "stock_batches"' "$work/ddl.sql" || { echo "cannot find TARGET_DDL in $script" >&2; exit 1; }
# The anchor: §3's transform in one statement, rejected items left out (same rule as the script).
cat >"$work/anchor.sql" <<'SQL'
INSERT INTO "stock_batches" ("id", "quantity", "status", "costPerUnitUSD", "freightCostUSD",
    "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes", "createdAt", "updatedAt",
    "itemId", "locationId", "assignedUserId")
SELECT 'mig_' || md5(i."id"), i."quantityInStock", COALESCE(i."status", 'ToOrder'),
       COALESCE(i."costPerUnitUSD", 0), COALESCE(i."freightCostUSD", 0),
       i."orderDate", i."expectedArrival", i."orderNumber", i."arrivedDate", i."notes", i."createdAt", i."updatedAt",
       i."id", l."id", u."id"
  FROM "items" i
  LEFT JOIN "locations" l ON l."id" = i."locationId"
  LEFT JOIN "users" u ON u."id" = i."assignedUserId"
 WHERE CASE WHEN i."quantityInStock" < 0
              OR i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0
              OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0 THEN 1 END IS NULL;
SQL

echo "generating the legacy database at scale $scale ..."
t0=$(date +%s.%N)
q "$url" -c "CREATE DATABASE sb_tpl"
EXAMPLES_SCALE=$scale q "$(dburl sb_tpl)" -f "$root/examples/stock_batches/generate.sql" >/dev/null
q "$(dburl sb_tpl)" -c "VACUUM ANALYZE"
printf "  loaded in %.1f s: %s items\n" "$(echo "$(date +%s.%N) - $t0" | bc)" \
  "$(psql -X -At "$(dburl sb_tpl)" -c "SELECT count(*) FROM items")"

# run_one a|b N -> "seconds rss_kb [phase_s checks_s rows]"
run_one() {
  local which=$1 n=$2 db="sb_run_$1_$2" t out
  q "$url" -c "CREATE DATABASE $db TEMPLATE sb_tpl"
  q "$url" -c "CHECKPOINT"
  if [[ $which == a ]]; then
    t=$(date +%s.%N)
    (cd "$work" && /usr/bin/time -f '%M' -o "$work/time.$db" "$mighost" run "$script" --db "$(dburl "$db")" \
       --report "$work/$db.json" "${run_args[@]}") >"$work/$db.out" 2>"$work/$db.err" \
      || { tail -5 "$work/$db.err" >&2; echo "mighost run failed" >&2; }
    out="$(echo "$(date +%s.%N) - $t" | bc) $(tail -1 "$work/time.$db") $(python3 - "$work/$db.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = r.get("durations", {})
c = r.get("counts", {}).get("items", {})
print(d.get("phases", {}).get("items", 0), d.get("checks", 0), c.get("written", c.get("migrated", "?")))
PY
)"
  else
    q "$(dburl "$db")" -f "$work/ddl.sql"
    t=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/time.$db" psql -X -q -v ON_ERROR_STOP=1 "$(dburl "$db")" -f "$work/anchor.sql" \
      >"$work/$db.out" 2>"$work/$db.err" || { tail -5 "$work/$db.err" >&2; echo "psql anchor failed" >&2; }
    out="$(echo "$(date +%s.%N) - $t" | bc) $(tail -1 "$work/time.$db") 0 0 \
$(psql -X -At "$(dburl "$db")" -c 'SELECT count(*) FROM stock_batches')"
  fi
  q "$url" -c "DROP DATABASE $db"
  echo "$out"
}

declare -a ta tb tp tc ra rb
for r in $(seq 1 "$rounds"); do
  if (( r % 2 )); then order="a b"; else order="b a"; fi
  for w in $order; do
    read -r s rss ph ck rows <<<"$(run_one "$w" "$r")"
    if [[ $w == a ]]; then
      ta+=("$s"); tp+=("$ph"); tc+=("$ck"); ra+=("$rss")
      printf "round %d  mighost run      whole %8.2f s  items phase %8.2f s  checks %7.2f s  rows %s  peak RSS %6.1f MB\n" \
        "$r" "$s" "$ph" "$ck" "$rows" "$(echo "$rss / 1024" | bc -l)"
    else
      tb+=("$s"); rb+=("$rss")
      printf "round %d  psql INSERT…SELECT     %8.2f s                                rows %s  peak RSS %6.1f MB\n" \
        "$r" "$s" "$rows" "$(echo "$rss / 1024" | bc -l)"
    fi
  done
done
# per round: items phase / anchor (the load can change between rounds; the ratio of medians hides that)
declare -a rr
for i in "${!tp[@]}"; do rr+=("$(echo "${tp[$i]} / ${tb[$i]}" | bc -l)"); done
printf "per round items phase / anchor:"; printf " %.2f" "${rr[@]}"; echo
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mp=$(median "${tp[@]}") ma=$(median "${ta[@]}") mb=$(median "${tb[@]}") mc=$(median "${tc[@]}")
ratio=$(echo "$mp / $mb" | bc -l) rmed=$(median "${rr[@]}")
printf "median: anchor %.2f s; mighost items phase %.2f s (%.3fx, target <= 1.05: %s), whole run %.2f s (%.2fx), checks %.2f s\n" \
  "$mb" "$mp" "$ratio" "$(echo "$ratio <= 1.05" | bc -l | sed 's/1/met/; s/0/missed/')" "$ma" "$(echo "$ma / $mb" | bc -l)" "$mc"
printf "median of the per-round ratios: %.3f\n" "$rmed"
printf "peak RSS (median): mighost %.1f MB, psql %.1f MB\n" "$(echo "$(median "${ra[@]}") / 1024" | bc -l)" \
  "$(echo "$(median "${rb[@]}") / 1024" | bc -l)"
