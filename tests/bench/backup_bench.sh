#!/usr/bin/env bash
# Backup/restore speed against the anchors, on the legacy `items` table of
# docs/stock_batches.md (plus its parent `companies`).
#
#   tests/bench/backup_bench.sh [MIGHOST_BINARY] [ROWS]      (defaults: build/mighost, 1000000)
#   ROUNDS=3 (default) alternating rounds; the order of contestants flips every round.
#
# Measures, median of ROUNDS:
#   backup:  mighost backup (default, uncompressed), mighost backup --compress zstd,
#            pg_dump -Fc -t items -t companies
#   restore: mighost restore of the default backup into an empty database, pg_restore of the dump
#            into an empty database
# Targets: backup ≤ 0.5× pg_dump, restore ≤ 1.0× pg_restore. Peak RSS of the client process by
# /usr/bin/time (else from /proc/PID/status while it runs). Starts its own `mighost sandbox`.
set -euo pipefail

MIGHOST=$(realpath "${1:-build/mighost}")
ROWS=${2:-1000000}
ROUNDS=${ROUNDS:-3}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_sandbox "$MIGHOST" mighost-backup-bench   # sets work, url
WORK=$work URL=$url
chmod 755 "$WORK"
url_for() { sed -E "s#(postgresql://[^/]*/)[^?]*#\1$1#" <<<"$URL"; }
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

echo "generating $ROWS items rows..."
"${PSQL[@]}" "$URL" <<SQL
CREATE TYPE "Status" AS ENUM ('ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued');
CREATE TABLE "companies" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "companies_pkey" PRIMARY KEY ("id"));
CREATE TABLE "items" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL, "sku" TEXT, "description" TEXT, "status" "Status",
  "quantityInStock" INTEGER NOT NULL DEFAULT 0, "costPerUnitUSD" DOUBLE PRECISION,
  "freightCostUSD" DOUBLE PRECISION DEFAULT 0, "orderDate" TIMESTAMP(3), "expectedArrival" TIMESTAMP(3),
  "orderNumber" TEXT, "arrivedDate" TIMESTAMP(3), "notes" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  "locationId" TEXT, "assignedUserId" TEXT, "companyId" TEXT,
  CONSTRAINT "items_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "items_sku_key" ON "items"("sku");
CREATE INDEX "items_locationId_idx" ON "items"("locationId");
ALTER TABLE "items" ADD CONSTRAINT "items_companyId_fkey" FOREIGN KEY ("companyId")
  REFERENCES "companies"("id") ON DELETE SET NULL ON UPDATE CASCADE;
INSERT INTO companies SELECT 'cmp_' || g, 'Company ' || g, now(), now() FROM generate_series(1, 100) g;
INSERT INTO items
SELECT 'clx' || md5(g::text), 'Item ' || g || ' ' || substr(md5((g * 7)::text), 1, 12),
       CASE WHEN g % 50 = 0 THEN NULL ELSE 'SKU-' || lpad(g::text, 8, '0') END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Description of item ' || g || ': ' || md5((g * 13)::text) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE (enum_range(NULL::"Status"))[1 + g % 6] END,
       g % 500,
       CASE WHEN g % 1000 = 0 THEN 'NaN'::float8 WHEN g % 11 = 0 THEN NULL ELSE round((g % 10000) * 0.37, 2) END,
       (g % 40) * 1.25,
       timestamp '2023-01-01' + (g % 700) * interval '1 day' + (g % 86400) * interval '1 second',
       CASE WHEN g % 4 = 0 THEN NULL ELSE timestamp '2023-02-01' + (g % 700) * interval '1 day' END,
       'PO-' || (g / 10), CASE WHEN g % 5 = 0 THEN timestamp '2023-03-01' + (g % 600) * interval '1 day' END,
       CASE WHEN g % 9 = 0 THEN 'note ' || repeat('x', g % 40) END,
       timestamp '2022-06-01 12:00:00.123' + g * interval '1 second', now(),
       'loc_' || (g % 300), CASE WHEN g % 2 = 0 THEN 'usr_' || (g % 50) END, 'cmp_' || (1 + g % 100)
  FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE;
CHECKPOINT;
-- The restore targets: an empty database that has the enum type (pg_dump -t does not dump
-- types, so pg_restore needs it; mighost would create it, but gets it too, for the same work).
CREATE DATABASE bench_empty;
SQL
"${PSQL[@]}" "$(url_for bench_empty)" -c \
  "CREATE TYPE \"Status\" AS ENUM ('ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued')"

HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

# run NAME CMD...: appends "seconds rss_kb" to $WORK/NAME.times
run() {
  local name=$1; shift
  local t0 t1 rss
  t0=$(date +%s.%N)
  if (( HAVE_TIME )); then
    /usr/bin/time -f "%M" -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/$name.err" || { cat "$WORK/$name.err"; exit 1; }
    rss=$(tail -n1 "$WORK/rss")
  else
    "$@" >/dev/null 2>"$WORK/$name.err" & local pid=$!; rss=0
    while kill -0 "$pid" 2>/dev/null; do
      local r; r=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      (( ${r:-0} > rss )) && rss=$r; sleep 0.02
    done
    wait "$pid" || { cat "$WORK/$name.err"; exit 1; }
  fi
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc -l) $rss" >>"$WORK/$name.times"
}

median() { sort -n "$WORK/$1.times" | awk '{a[NR]=$1; r[NR]=$2} END {m=int((NR+1)/2); printf "%.3f %d", a[m], r[m]}'; }
maxrss() { sort -n -k2 "$WORK/$1.times" | tail -n1 | awk '{print $2}'; }

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  backup_ours()  { run ours_none "$MIGHOST" backup --db "$URL" --tables items,companies --out "$WORK/ours_$r"; }
  backup_zstd()  { run ours_zstd "$MIGHOST" backup --db "$URL" --tables items,companies --out "$WORK/zstd_$r" --compress zstd; }
  backup_dump()  { run pg_dump pg_dump -Fc -t items -t companies -f "$WORK/dump_$r.fc" -d "$URL"; }
  if (( r % 2 )); then backup_ours; backup_dump; backup_zstd; else backup_zstd; backup_dump; backup_ours; fi

  "${PSQL[@]}" "$URL" -c "CREATE DATABASE r_ours_$r TEMPLATE bench_empty" -c "CREATE DATABASE r_dump_$r TEMPLATE bench_empty"
  restore_ours() { run restore_ours "$MIGHOST" restore "$WORK/ours_$r" --db "$(url_for "r_ours_$r")"; }
  restore_dump() { run pg_restore pg_restore -d "$(url_for "r_dump_$r")" "$WORK/dump_$r.fc"; }
  if (( r % 2 )); then restore_ours; restore_dump; else restore_dump; restore_ours; fi
  for db in "r_ours_$r" "r_dump_$r"; do
    n=$("${PSQL[@]}" -At "$(url_for "$db")" -c "SELECT count(*) FROM items")
    [[ "$n" == "$ROWS" ]] || { echo "$db holds $n items rows, expected $ROWS"; exit 1; }
  done
  "${PSQL[@]}" "$URL" -c "DROP DATABASE r_ours_$r" -c "DROP DATABASE r_dump_$r"
  (( r == 1 )) || rm -rf "$WORK/zstd_$r" "$WORK/ours_$r"
done

read -r t_zstd rss_zstd <<<"$(median ours_zstd)"
read -r t_none rss_none <<<"$(median ours_none)"
read -r t_dump rss_dump <<<"$(median pg_dump)"
read -r t_rest rss_rest <<<"$(median restore_ours)"
read -r t_prest rss_prest <<<"$(median pg_restore)"
size() { du -sb "$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }
echo
echo "items rows: $ROWS, rounds: $ROUNDS (medians; peak RSS = max over rounds)"
printf "%-34s %8s %10s %12s\n" "" "seconds" "peak RSS" "size"
printf "%-34s %8s %8s kB %12s\n" "mighost backup (none, default)" "$t_none" "$(maxrss ours_none)" "$(size "$WORK/ours_1")"
printf "%-34s %8s %8s kB %12s\n" "mighost backup --compress zstd" "$t_zstd" "$(maxrss ours_zstd)" "$(size "$WORK/zstd_1")"
printf "%-34s %8s %8s kB %12s\n" "pg_dump -Fc -t items -t companies" "$t_dump" "$(maxrss pg_dump)" "$(size "$WORK/dump_1.fc")"
printf "%-34s %8s %8s kB\n" "mighost restore (none)" "$t_rest" "$(maxrss restore_ours)"
printf "%-34s %8s %8s kB\n" "pg_restore" "$t_prest" "$(maxrss pg_restore)"
echo
for n in ours_none ours_zstd pg_dump restore_ours pg_restore; do
  printf "%-14s rounds: %s\n" "$n" "$(awk '{printf "%.2f ", $1}' "$WORK/$n.times")"
done
echo
awk -v a="$t_none" -v b="$t_dump" 'BEGIN {printf "backup / pg_dump:      %.2f  (target <= 0.50)\n", a / b}'
awk -v a="$t_zstd" -v b="$t_dump" 'BEGIN {printf "backup zstd / pg_dump: %.2f\n", a / b}'
awk -v a="$t_rest" -v b="$t_prest" 'BEGIN {printf "restore / pg_restore:  %.2f  (target <= 1.00)\n", a / b}'
awk -v a="$t_zstd" -v b="$t_none" 'BEGIN {printf "zstd cost vs none:     %+.1f%% time (budget < 20%%)\n", (a / b - 1) * 100}'
