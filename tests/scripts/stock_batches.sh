#!/usr/bin/env bash
# End-to-end replay of scripts/stock_batches.lua on a real PostgreSQL sandbox: the spec's checks
# on the small and the public fixture, counts/rejects/fixups equal to examples/stock_batches/
# expected.sql, idempotency, dry run, rollback, SIGKILL + resume, refusal, --limit.
# Usage: stock_batches.sh path/to/mighost. Last line: `stock_batches: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: stock_batches.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$ROOT/scripts/stock_batches.lua
EX=$ROOT/examples/stock_batches
# The contract's own fixture, replayed in addition when .ci/run finds one (MIGHOST_CONTRACT_FIXTURES);
# the project's examples/ are the test data.
PUBLIC=${MIGHOST_CONTRACT_FIXTURES:+$MIGHOST_CONTRACT_FIXTURES/stock_batches.sql}
NAME=stock_batches SET=items
. "$ROOT/tests/scripts/replay.sh"

# The migrated state, run ids left out: what must not depend on how the run got there.
state_fp() {
  local u=$1 r
  for r in '"stock_batches"' '"items"' mig_backup_stock_batches.items \
           "(SELECT source_table, source_key, reason, detail, row_data FROM mig_meta.rejects) r" \
           "(SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups) f"; do
    echo "$r $(sql "$u" "SELECT count(*) || ' ' || COALESCE(md5(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text)), 'empty') FROM $r x" 2>&1)"
  done
}
# Expected counts, rejects and fixups (examples/stock_batches/expected.sql) vs what the run left.
check_expected() {  # check_expected URL LABEL
  local u=$1 label=$2 exp act
  exp=$(psql -X -At -v ON_ERROR_STOP=1 -d "$u" -f "$EX/expected.sql")
  IFS='|' read -r _ e_src e_mig e_rej e_neg e_inv e_floc e_fusr _ <<< "$(head -1 <<< "$exp")"
  expect "$label: source|migrated|rejected as expected.sql" eq "$(counts "$u" | cut -d'|' -f1-3)" "$e_src|$e_mig|$e_rej"
  expect "$label: reject reasons as expected.sql" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE reason = 'negative_quantity')
      || '|' || count(*) FILTER (WHERE reason = 'invalid_cost') FROM mig_meta.rejects")" "$e_neg|$e_inv"
  expect "$label: fixup rules as expected.sql" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE rule = 'orphan_location')
      || '|' || count(*) FILTER (WHERE rule = 'orphan_user') FROM mig_meta.fixups")" "$e_floc|$e_fusr"
  act=$(psql -X -At -v ON_ERROR_STOP=1 -d "$u" \
    -c "SELECT source_table, source_key, reason FROM mig_meta.rejects ORDER BY source_key COLLATE \"C\"" \
    -c "SELECT source_table, source_key, field, rule, old_value FROM mig_meta.fixups ORDER BY source_key COLLATE \"C\", field")
  expect "$label: the exact reject and fixup rows of expected.sql" eq "$(printf %s "$act" | md5sum)" "$(tail -n +2 <<< "$exp" | head -c -1 | md5sum)"
  expect "$label: migrated batch quantity total" eq "$(sql "$u" "SELECT COALESCE(sum(quantity), 0) FROM stock_batches WHERE id LIKE 'mig\_%'")" \
    "$(head -1 <<< "$exp" | cut -d'|' -f9)"
}

start_sandbox
template t_small "$EX/small.sql"
template t_app "$EX/small.sql" "$EX/app_batches.sql"
[ -n "$PUBLIC" ] && template t_public "$PUBLIC"
PSQL_VARS="-v scale=0.02" template t_gen "$EX/generate.sql"   # 20 000 items

# §2's secondary indexes and foreign keys, as "name:definition" lines (finalize adds them once the
# rows are in, so a partial run leaves them out and the completing run adds them)
target_objects() {
  sql "$1" "SELECT string_agg(n || ':' || d, E'\\n' ORDER BY n, d) FROM (
      SELECT indexname AS n, regexp_replace(indexdef, ' USING btree', '') AS d FROM pg_indexes WHERE tablename = 'stock_batches'
      UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = '\"stock_batches\"'::regclass) x"
}
SPEC_OBJECTS='stock_batches_assignedUserId_fkey:FOREIGN KEY ("assignedUserId") REFERENCES users(id) ON UPDATE CASCADE ON DELETE SET NULL
stock_batches_itemId_fkey:FOREIGN KEY ("itemId") REFERENCES items(id) ON UPDATE CASCADE ON DELETE CASCADE
stock_batches_itemId_idx:CREATE INDEX "stock_batches_itemId_idx" ON public.stock_batches ("itemId")
stock_batches_locationId_fkey:FOREIGN KEY ("locationId") REFERENCES locations(id) ON UPDATE CASCADE ON DELETE SET NULL
stock_batches_locationId_idx:CREATE INDEX "stock_batches_locationId_idx" ON public.stock_batches ("locationId")
stock_batches_pkey:CREATE UNIQUE INDEX stock_batches_pkey ON public.stock_batches (id)
stock_batches_pkey:PRIMARY KEY (id)
stock_batches_quantity_check:CHECK ((quantity >= 0))
stock_batches_status_idx:CREATE INDEX stock_batches_status_idx ON public.stock_batches (status)'

echo "# small fixture: checks, counts, rejects, fixups; then a second run"
u=$(clone t_small small)
legacy=$(all_fp "$u")
run "$u" --batch-size 20
expect "small: exit 0" eq "$?" 0
expect "small: RESULT is the last line, status ok" has <(tail -1 out.txt) '^RESULT {"migration":"stock_batches","mode":"apply","status":"ok"'
expect "small: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
expect "small: 10 checks printed" eq "$(grep -c '^CHECK ' out.txt)" 10
expect "small: one PROGRESS line per batch" eq "$(grep -c '^PROGRESS items ' out.txt)" 5
check_expected "$u" small
expect "small: written = migrated" eq "$(counts "$u" | cut -d'|' -f4)" "$(counts "$u" | cut -d'|' -f2)"
expect "small: -0 and 0.30000000000000004 copied bit for bit" eq "$(sql "$u" "SELECT string_agg(b.\"costPerUnitUSD\"::text || '/' || b.\"freightCostUSD\"::text, ',' ORDER BY b.\"itemId\")
    FROM stock_batches b WHERE b.\"itemId\" IN ('edge-m-negative-zero', 'edge-m-float-precision', 'edge-m-extremes')")" \
  "$(sql "$u" "SELECT string_agg(COALESCE(\"costPerUnitUSD\", 0)::text || '/' || COALESCE(\"freightCostUSD\", 0)::text, ',' ORDER BY id)
    FROM items WHERE id IN ('edge-m-negative-zero', 'edge-m-float-precision', 'edge-m-extremes')")"
expect "small: stock_batches has exactly section 2's key, CHECK, indexes and foreign keys" eq "$(target_objects "$u")" "$SPEC_OBJECTS"
expect "small: useBatchSystem added, false" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE \"useBatchSystem\" IS DISTINCT FROM false) FROM items")" 0
before=$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')
run "$u" --batch-size 7
expect "second run: exit 0, status ok" eq "$?|$(counts "$u" | cut -d'|' -f5)" "0|ok"
expect "second run: written 0" has out.txt '"written":0}'
expect "second run: no row changed but mig_meta.runs/checks" eq "$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')" "$before"
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "rollback: exit 0" eq "$?" 0
expect "rollback: legacy fingerprint back" eq "$(all_fp "$u" '^mig_(meta|backup_)')" "$legacy"

echo "# a fresh run skips the pending probe only when nothing is resolved yet"
u=$(clone t_small fresh)
run "$u" --batch-size 20
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
# A valid item rejected by hand (mig_meta survives the rollback): the next run must probe and skip it.
sql "$u" "INSERT INTO mig_meta.rejects (migration, source_table, source_key, reason, detail, row_data, run_id)
          SELECT 'stock_batches', 'items', i.id, 'invalid_cost', 'by hand', to_jsonb(i), (SELECT max(run_id) FROM mig_meta.runs)
            FROM items i WHERE i.id = (SELECT min(id) FROM items WHERE \"quantityInStock\" > 0 AND \"costPerUnitUSD\" > 0
                                       AND \"freightCostUSD\" >= 0 AND \"locationId\" IS NULL)" >/dev/null
run "$u" --batch-size 20
# (its reject does not hold, so rejects_valid fails and the run exits 3; nothing else may fail)
expect "pre-rejected item: exit 3, only rejects_valid FAIL" eq "$?|$(grep '^CHECK ' out.txt | grep -v ' PASS ' | cut -d' ' -f2,3 | tr '\n' ' ')" "3|rejects_valid FAIL "
expect "pre-rejected item: not migrated, 79 written" eq "$(sql "$u" "SELECT count(*) FROM stock_batches")|$(counts "$u" | cut -d'|' -f4)" "79|79"

echo "# application batches are left alone"
u=$(clone t_app app)
app_rows="SELECT md5(string_agg(to_jsonb(b)::text, ',' ORDER BY id)) FROM stock_batches b WHERE id NOT LIKE 'mig\_%'"
app_before=$(sql "$u" "$app_rows")
run "$u" --batch-size 50
expect "app batches: exit 0" eq "$?" 0
check_expected "$u" "app batches"
expect "app batches: 83 rows" eq "$(sql "$u" "SELECT count(*) FROM stock_batches")" 83
expect "app batches: untouched" eq "$(sql "$u" "$app_rows")" "$app_before"

case_public

case_dry_run '{"items":{"source":94,"migrated":80,"rejected":14,"written":80}'
expect "dry run: lines prefixed" has out.txt '^\[DRY RUN\] CHECK items_accounted PASS'

echo "# refused: missing table, incompatible target"
u=$(clone t_small refused)
sql "$u" 'DROP TABLE "locations"'
before=$(all_fp "$u" '^mig_meta$')
run "$u"
expect "missing table: exit 2" eq "$?" 2
expect "missing table: status refused" has out.txt '"status":"refused"'
expect "missing table: precondition named" has <(cat out.txt err.txt) 'tables_present'
expect "missing table: nothing but mig_meta changed" eq "$(all_fp "$u" '^mig_meta$')" "$before"
expect "missing table: one refused runs row" eq "$(sql "$u" "SELECT string_agg(status, ',') FROM mig_meta.runs")" refused
u=$(clone t_small incompatible)
sql "$u" 'CREATE TABLE "stock_batches" ("id" text PRIMARY KEY, "quantity" numeric)'
run "$u"
expect "incompatible stock_batches: exit 2" eq "$?" 2
expect "incompatible stock_batches: the column is named" has <(cat out.txt err.txt) 'quantity'

echo "# --limit"
u=$(clone t_small limited)
run "$u" --limit 30 --batch-size 20
expect "limit: the table has its key and CHECK, not yet the indexes and foreign keys" \
  eq "$(target_objects "$u" | cut -d: -f1 | tr '\n' ' ')" "stock_batches_pkey stock_batches_pkey stock_batches_quantity_check "
expect "limit: exit 0, status partial" eq "$?|$(counts "$u" | cut -d'|' -f5)" "0|partial"
first=$(counts "$u" | cut -d'|' -f4)
expect "limit: items_accounted, quantity_match, totals_match SKIP" eq "$(grep -cE "^CHECK (items_accounted|quantity_match|totals_match) SKIP" out.txt)" 3
expect "limit: 30 rows resolved" eq "$(sql "$u" "SELECT (SELECT count(*) FROM stock_batches) + (SELECT count(*) FROM mig_meta.rejects)")" 30
run "$u" --batch-size 20
expect "after limit: the rest written, status ok" eq "$?|$(( $(counts "$u" | cut -d'|' -f4) + first ))|$(counts "$u" | cut -d'|' -f5)" "0|80|ok"
expect "after limit: the complete run added section 2's indexes and foreign keys" eq "$(target_objects "$u")" "$SPEC_OBJECTS"
run "$u" --batch-size 20
expect "after limit: a repeated run keeps them as they are" eq "$?|$(target_objects "$u")" "0|$SPEC_OBJECTS"
item=$(sql "$u" 'SELECT "itemId" FROM stock_batches ORDER BY id LIMIT 1')
sql "$u" "DELETE FROM expenses WHERE \"itemId\" = '$item'; DELETE FROM items WHERE id = '$item'" >/dev/null
expect "after limit: the itemId key cascades a deleted item to its batch" \
  eq "$(sql "$u" "SELECT count(*) FROM stock_batches WHERE \"itemId\" = '$item'")" 0

u=$(clone t_small limited_deleted)
run "$u" --limit 30 --batch-size 20
item=$(sql "$u" 'SELECT "itemId" FROM stock_batches ORDER BY id LIMIT 1')
sql "$u" "DELETE FROM expenses WHERE \"itemId\" = '$item'; DELETE FROM items WHERE id = '$item'" >/dev/null
run "$u" --batch-size 20
expect "item deleted between runs: the itemId key fails in finalize, exit 1, status error" \
  eq "$?|$(counts "$u" | cut -d'|' -f5)|$(grep -c 'stock_batches_itemId_fkey' err.txt)" "1|error|1"
expect "item deleted between runs: finalize rolled back, the batches committed before it kept" \
  eq "$(target_objects "$u" | cut -d: -f1 | tr '\n' ' ')|$(sql "$u" "SELECT count(*) FROM stock_batches")" \
  "stock_batches_pkey stock_batches_pkey stock_batches_quantity_check |80"

echo "# SIGKILL in the middle, then a re-run = an uninterrupted run"
ref=$(clone t_gen gen_ref)
run "$ref" --batch-size 100
expect "generated reference: exit 0" eq "$?" 0
check_expected "$ref" generated
u=$(clone t_gen gen_kill)
"$MIGHOST" run "$SCRIPT" --db "$u" --batch-size 100 > kill.txt 2> kill.err &
pid=$!
for _ in $(seq 1 1200); do [ "$(grep -c '^PROGRESS items' kill.txt)" -ge 3 ] && break; sleep 0.02; done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
done_rows=$(sql "$u" "SELECT (SELECT count(*) FROM stock_batches) + (SELECT count(*) FROM mig_meta.rejects)")
killed_batches=$(sql "$u" "SELECT count(*) FROM stock_batches")
expect "killed mid-run ($done_rows rows committed): whole batches only, not finished" \
  test $((done_rows % 100)) -eq 0 -a "$done_rows" -ge 300 -a "$done_rows" -lt "$(counts "$ref" | cut -d'|' -f1)"
wait_unlocked "$u"   # the dead session's lock goes once its backend notices; a run before that is refused
run "$u" --batch-size 100; rc=$?
expect "re-run after kill: exit 0" eq "$rc" 0
expect "re-run after kill: wrote only the rest" eq "$(counts "$u" | cut -d'|' -f4)" "$(( $(counts "$ref" | cut -d'|' -f2) - killed_batches ))"
expect "killed + resumed = uninterrupted (fingerprints)" eq "$(state_fp "$u")" "$(state_fp "$ref")"
expect "killed run marked error" eq "$(sql "$u" "SELECT string_agg(status, ',' ORDER BY run_id) FROM mig_meta.runs")" "error,ok"

finish stock_batches
