#!/usr/bin/env bash
# End-to-end replay of scripts/lot_traceability.lua on a real PostgreSQL sandbox: the spec's
# checks, counts/rejects/fixups equal to examples/lot_traceability/expected.sql, the numbers and
# the placeholder, the audit rows, section 2's objects; a second run; rollback to the legacy
# database (schema included); dry run; enum conflict; SIGKILL + resume; the lint and the lock
# report. Usage: lot_traceability.sh path/to/mighost. Last line: `lot_traceability: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: lot_traceability.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$ROOT/scripts/lot_traceability.lua
EX=$ROOT/examples/lot_traceability
PUBLIC=${MIGHOST_CONTRACT_FIXTURES:+$MIGHOST_CONTRACT_FIXTURES/lot_traceability.sql}
NAME=lot_traceability SET=production_runs
. "$ROOT/tests/scripts/replay.sh"

# The schema outside the system schemas and mig_*: enum types and labels, columns (type, NOT NULL,
# default), indexes and constraints by definition.
schema_fp() {
  sql "$1" "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
      SELECT 'type ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS x
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
      UNION ALL SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attnum > 0 AND NOT a.attisdropped
      UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace) s"
}
# The migrated state without what a killed batch makes differ (serial ids, the run's own times):
# ingredients and their audit rows keyed by legacy_id.
state_fp() {
  local u=$1 r
  for r in "(SELECT legacy_id, name, type, unit_of_measure, current_stock, supplier_name, allergens,
                    CASE WHEN o.created_at IS NULL THEN NULL ELSE i.created_at END AS c FROM ingredients i
               JOIN old_ingredient_table o ON o.id = i.legacy_id) i" \
           "(SELECT a.table_name, CASE WHEN a.table_name = 'ingredients' THEN i.legacy_id::text ELSE a.record_id END AS k,
                    a.action, a.old_values, a.new_values, a.user_id, a.reason FROM audit_logs a
               LEFT JOIN ingredients i ON a.table_name = 'ingredients' AND i.id::text = a.record_id) a" \
           production_runs pallets "(SELECT id, name, description, created_by, version, is_active FROM recipes) r" \
           "(SELECT source_table, source_key, reason, detail, row_data FROM mig_meta.rejects) r" \
           "(SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups) f"; do
    echo "${r:0:40} $(sql "$u" "SELECT count(*) || ' ' || COALESCE(md5(string_agg(to_jsonb(x)::text, ',' ORDER BY to_jsonb(x)::text)), 'empty') FROM $r x" 2>&1)"
  done
}
# Counts, rejects and fixups of the run against expected.sql run on the untouched legacy copy $LEGACY.
check_expected() {  # check_expected URL LABEL LEGACY_URL
  local u=$1 label=$2 exp
  exp=$(psql -X -At -v ON_ERROR_STOP=1 -d "$3" -f "$EX/expected.sql" | grep -v '^CREATE VIEW$')
  local c; c=$(sql "$u" "SELECT concat_ws('|', 'old_ingredient_table', counts->'old_ingredient_table'->>'source',
        counts->'old_ingredient_table'->>'migrated', counts->'old_ingredient_table'->>'rejected') FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")
  expect "$label: old_ingredient_table source|migrated|rejected as expected.sql" eq "$c" "$(head -1 <<< "$exp" | cut -d'|' -f1-4)"
  expect "$label: reject reasons as expected.sql" eq "$(sql "$u" "SELECT concat_ws('|', count(*) FILTER (WHERE reason = 'missing_name'),
      count(*) FILTER (WHERE reason = 'name_too_long'), count(*) FILTER (WHERE reason = 'negative_stock'),
      count(*) FILTER (WHERE reason = 'duplicate_name')) FROM mig_meta.rejects")" "$(head -1 <<< "$exp" | cut -d'|' -f5-8)"
  for s in production_runs pallets; do
    expect "$label: $s source|migrated|rejected and fixups as expected.sql" eq "$(sql "$u" "SELECT concat_ws('|', '$s',
        counts->'$s'->>'source', counts->'$s'->>'migrated', counts->'$s'->>'rejected',
        (SELECT count(*) FROM mig_meta.fixups WHERE source_table = '$s')) FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" \
      "$(grep -E "^$s\|[0-9]+\|[0-9]+\|[0-9]+\|[0-9]+$" <<< "$exp")"
  done
  expect "$label: the exact reject and fixup rows of expected.sql" eq "$(psql -X -At -v ON_ERROR_STOP=1 -d "$u" \
      -c "SELECT source_table, source_key, reason, detail FROM mig_meta.rejects ORDER BY source_key COLLATE \"C\"" \
      -c "SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups
          ORDER BY source_table DESC, source_key COLLATE \"C\"" | md5sum)" "$(grep -v '|[0-9]*|[0-9]*|[0-9]*|' <<< "$exp" | md5sum)"
}

start_sandbox
template t_small "$EX/small.sql"
template t_conflict "$EX/small.sql" "$EX/enum_conflict.sql"
PSQL_VARS="-v scale=0.02" template t_gen "$EX/generate.sql"   # 20 000 runs, 24 000 pallets, 2 000 ingredients
[ -n "$PUBLIC" ] && template t_public "$PUBLIC"

echo "# small fixture: checks, counts, numbers, placeholder, audit, section 2's objects"
u=$(clone t_small small)
legacy=$(all_fp "$u"); legacy_schema=$(schema_fp "$u")
run "$u" --batch-size 10 --report small.json
expect "small: exit 0, RESULT last, status ok" eq "$?|$(tail -1 out.txt | grep -c '^RESULT {"migration":"lot_traceability","mode":"apply","status":"ok","run_id":1,')" "0|1"
expect "small: every check PASS" eq "$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" 0
expect "small: the spec's 11 checks and counts_balance printed" eq "$(grep -cE '^CHECK (ingredients_accounted|ingredient_values|ingredient_rejects_valid|batch_numbers|pallet_numbers|run_values|pallet_values|rows_preserved|audit_complete|fixups_logged|constraints_present|counts_balance) ' out.txt)" 12
expect "small: one PROGRESS line per batch" eq "$(grep -c '^PROGRESS ' out.txt)" 10
check_expected "$u" small "$(clone t_small small_legacy)"
expect "small: chained, padded, defaulted and tab-holding numbers" eq "$(sql "$u" "SELECT string_agg(id || '=' || replace(batch_number, E'\\t', '<tab>'), ' ' ORDER BY id)
    FROM production_runs WHERE id IN (2, 3, 7, 8, 9, 11, 14, 24, 9003)")" \
  '2=LOT-A-2-2 3=LOT-A-3 7=MIGRATED-7 8=MIGRATED-7-8 9=<tab> 11=LOT-T<tab> 14=MIGRATED-14 24=MIGRATED-24-24 9003=X-9003-9003-9003'
expect "small: the 200-character code padded to 203 is suffixed, not defaulted" eq "$(sql "$u" "SELECT batch_number = repeat('L', 200) || '-13' FROM production_runs WHERE id = 13")" t
expect "small: pallet numbers" eq "$(sql "$u" "SELECT string_agg(id || '=' || replace(pallet_number, E'\\t', '<tab>'), ' ' ORDER BY id) FROM pallets WHERE id IN (2, 3, 4, 6, 7, 8, 9)")" \
  '2=PAL-A-2-2 3=PAL-3-MIGRATED 4=PAL-3-MIGRATED-4 6=PAL-6-MIGRATED 7=PAL-A-7 8=PAL<tab>TAB 9=PAL-9-MIGRATED'
expect "small: one placeholder (id 6, by name AND created_by), inactive, version 1; the namesake recipe 4 untouched" \
  eq "$(sql "$u" "SELECT string_agg(id || ':' || is_active || ':' || version || ':' || COALESCE(created_by, '-'), ' ' ORDER BY id) FROM recipes WHERE name = 'Unknown Recipe (migrated)'")" \
  '4:true:1:baker:legacy 6:false:1:migration:lot_traceability'
expect "small: runs 5, 6, 7, 15, 16, 17 point at the placeholder; run 9 keeps recipe 4" eq "$(sql "$u" "SELECT string_agg(id || '>' || recipe_id, ' ' ORDER BY id) FROM production_runs WHERE id IN (5, 6, 7, 9, 15, 16, 17)")" \
  '5>6 6>6 7>6 9>4 15>6 16>6 17>6'
expect "small: 76 MIGRATE audit rows, one per migrated row" eq "$(sql "$u" "SELECT count(*) || '/' || count(DISTINCT (table_name, record_id)) FROM audit_logs WHERE action = 'MIGRATE'")" 76/76
expect "small: audit old_values = the snapshot row, new_values = what was set (run 7)" eq "$(sql "$u" "SELECT (a.old_values = to_jsonb(s))::text || ' ' || (a.new_values = jsonb_build_object('batch_number', 'MIGRATED-7',
      'planned_quantity', 3.00, 'unit_of_measure', 'units', 'status', 'PLANNED', 'quality_status', 'PENDING', 'recipe_id', 6))::text
    FROM audit_logs a JOIN mig_backup_lot_traceability.production_runs s ON s.id = 7 WHERE a.table_name = 'production_runs' AND a.record_id = '7'")" "true true"
expect "small: audit of an ingredient keyed by its new id, old_values = the legacy row" eq "$(sql "$u" "SELECT count(*) FROM audit_logs a
    JOIN ingredients i ON a.table_name = 'ingredients' AND a.record_id = i.id::text JOIN old_ingredient_table o ON o.id = i.legacy_id
    WHERE a.old_values = to_jsonb(o) AND a.new_values = jsonb_build_object('name', i.name, 'type', i.type, 'unit_of_measure', i.unit_of_measure,
      'current_stock', i.current_stock, 'supplier_name', i.supplier_name) AND a.user_id = 'migration:lot_traceability'
      AND a.reason = 'lot_traceability migration'")" 34
expect "small: a name of one tab is a name; non-ASCII case twins both migrated" eq "$(sql "$u" "SELECT count(*) FROM ingredients WHERE name IN (E'\\t', 'Éclair cream', 'éclair cream')")" 3
expect "small: existing tables have section 2's indexes, NOT NULLs and keys, no NOT NULL proof left" eq "$(schema_fp "$u" | grep -cE \
  'production_runs_batch_number_key ON public.production_runs USING btree \(batch_number\)|pallets_pallet_number_key ON public.pallets USING btree \(pallet_number\)|idx_production_runs_date_range|idx_production_runs_status_quality|idx_pallets_status_location|col production_runs.(batch_number|planned_quantity|recipe_id) .* NOT NULL|col pallets.pallet_number text NOT NULL|production_runs_recipe_id_fkey FOREIGN KEY \(recipe_id\) REFERENCES recipes\(id\) ON DELETE RESTRICT|pallets_production_run_id_fkey FOREIGN KEY \(production_run_id\) REFERENCES production_runs\(id\) ON DELETE SET NULL')|$(schema_fp "$u" | grep -c '_not_null ')" "11|0"
expect "small: the new tables' indexes" eq "$(sql "$u" "SELECT count(*) FROM pg_indexes WHERE indexname IN ('audit_logs_table_record_idx',
    'idx_ingredient_lots_supplier', 'idx_batch_ingredients_traceability', 'idx_ingredient_lots_status_quality', 'ingredients_name_key', 'ingredients_legacy_id_key')")" 6
"$MIGHOST" run "$SCRIPT" --db "$u" --limit 5 > out.txt 2> err.txt
expect "--limit: exit 64, the flag named" eq "$?|$(grep -c 'unknown option --limit' err.txt)" "64|1"
sql "$URL" "CREATE DATABASE t_done TEMPLATE small" >/dev/null   # the migrated small database, for the checks below

echo "# a second run writes nothing; rollback gives the legacy database back"
before=$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks '); before_schema=$(schema_fp "$u")
run "$u" --batch-size 7
expect "second run: exit 0, status ok, every check PASS" eq "$?|$(counts "$u" | cut -d'|' -f5)|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|ok|0"
expect "second run: written 0 in every set" eq "$(grep -o '"written":[0-9]*' out.txt | sort -u)" '"written":0'
expect "second run: no row changed but mig_meta.runs/checks" eq "$(all_fp "$u" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')" "$before"
expect "second run: the schema unchanged" eq "$(schema_fp "$u")" "$before_schema"
"$MIGHOST" rollback "$SCRIPT" --db "$u" --yes > out.txt 2> err.txt
expect "rollback: exit 0" eq "$?" 0
expect "rollback: legacy rows and relations back" eq "$(all_fp "$u" '^mig_(meta|backup_)')" "$legacy"
expect "rollback: legacy schema back (types, columns, defaults, indexes, constraints)" eq "$(schema_fp "$u")" "$legacy_schema"

echo "# each check fails on the data it exists to catch (verify on a changed copy of the migrated small database)"
n_tampered=0
tampered() {  # tampered CHECK ACTUAL WHAT SQL: after SQL, verify fails CHECK with actual=ACTUAL
  local u; n_tampered=$((n_tampered + 1)); u=$(clone t_done "tampered_$n_tampered")
  sql "$u" "$4" >/dev/null
  "$MIGHOST" verify "$SCRIPT" --db "$u" > out.txt 2> err.txt
  expect "$3: verify exit 3, $1 FAIL actual=$2" eq "$?|$(grep -c "^CHECK $1 FAIL expected=0 actual=$2 " out.txt)" "3|1"
}
tampered audit_complete 1 "a run's audit row deleted" "DELETE FROM audit_logs WHERE table_name = 'production_runs' AND record_id = '7'"
tampered audit_complete 1 "a pallet's audit row doubled" "INSERT INTO audit_logs (table_name, record_id, action) VALUES ('pallets', '3', 'MIGRATE')"
tampered audit_complete 2 "one ingredient's audit row moved to another (as many rows as migrated rows)" \
  "UPDATE audit_logs SET record_id = (SELECT min(id)::text FROM ingredients) WHERE table_name = 'ingredients'
     AND record_id = (SELECT max(id)::text FROM ingredients)"
u=$(clone t_done audit_others)
sql "$u" "INSERT INTO audit_logs (table_name, record_id, action) VALUES ('production_runs', '1', 'UPDATE'), ('pallets', '999', 'MIGRATE'),
            ('production_runs', ' 1', 'MIGRATE')" >/dev/null
"$MIGHOST" verify "$SCRIPT" --db "$u" > out.txt 2> err.txt
expect "an UPDATE audit row and MIGRATE rows of no migrated row: verify exit 0, audit_complete PASS" eq "$?|$(grep -c '^CHECK audit_complete PASS' out.txt)" "0|1"
tampered ingredients_accounted 1 "a migrated ingredient deleted" "DELETE FROM ingredients WHERE legacy_id = 1"
tampered ingredient_values 1 "an ingredient's stock changed" "UPDATE ingredients SET current_stock = current_stock + 1 WHERE legacy_id = 2"
tampered ingredient_rejects_valid 1 "a missing_name reject relabelled negative_stock" \
  "UPDATE mig_meta.rejects SET reason = 'negative_stock' WHERE source_table = 'old_ingredient_table' AND source_key = '7'"
tampered batch_numbers 1 "a batch number changed" "UPDATE production_runs SET batch_number = 'LOT-A-2-2-x' WHERE id = 2"
tampered pallet_numbers 1 "a pallet number changed" "UPDATE pallets SET pallet_number = 'PAL-A-2-x' WHERE id = 2"
tampered run_values 2 "a run's status and another's placeholder changed" \
  "UPDATE production_runs SET status = 'CANCELLED' WHERE id = 1; UPDATE production_runs SET recipe_id = 1 WHERE id = 5"
tampered pallet_values 2 "a pallet's status and another's nulled run changed" \
  "UPDATE pallets SET status = 'SEALED' WHERE id = 1; UPDATE pallets SET production_run_id = 1 WHERE id = 5"
tampered rows_preserved 2 "a pallet deleted, a recipe's text changed" \
  "DELETE FROM pallets WHERE id = 16; UPDATE recipes SET instructions = 'x' WHERE id = 1"
tampered fixups_logged 1 "an orphan_recipe fixup deleted" "DELETE FROM mig_meta.fixups WHERE source_table = 'production_runs' AND source_key = '5'"
tampered constraints_present 1 "a foreign key dropped" "ALTER TABLE pallets DROP CONSTRAINT pallets_production_run_id_fkey"

case_public

echo "# dry run"
u=$(clone t_small dry)
before=$(all_fp "$u"); before_schema=$(schema_fp "$u")
run "$u" --dry-run --batch-size 10 --report dry.json
expect "dry run: exit 0, every check PASS" eq "$?|$(grep '^\[DRY RUN\] CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
expect "dry run: every table unchanged, no mig_meta" eq "$(all_fp "$u")" "$before"
expect "dry run: the catalog unchanged (no enum, column, table or index left)" eq "$(schema_fp "$u")" "$before_schema"
expect "dry run: RESULT says dry-run" has out.txt '^RESULT {"migration":"lot_traceability","mode":"dry-run","status":"ok","run_id":null'
expect "dry run: would_change" has dry.json '"would_change":{"old_ingredient_table":{"source":46,"migrated":34,"rejected":12,"written":34},"production_runs":{"source":26,"migrated":26,"rejected":0,"written":26}'

echo "# enum conflict: refused, nothing dropped"
u=$(clone t_conflict conflict)
before=$(all_fp "$u" '^mig_meta$'); before_schema=$(schema_fp "$u")
run "$u"
expect "enum conflict: exit 2, status refused" eq "$?|$(counts "$u" | cut -d'|' -f5)" "2|refused"
expect "enum conflict: the type, the labels found and the labels wanted named" \
  has err.txt 'enum batch_status has labels (PLANNED, RUNNING, DONE); wanted (PLANNED, IN_PROGRESS, COMPLETED, CANCELLED, ON_HOLD)'
expect "enum conflict: the compatible audit_action not named" eq "$(grep -c 'audit_action' err.txt)" 0
expect "enum conflict: nothing changed but the runs row" eq "$(all_fp "$u" '^mig_meta$')|$(schema_fp "$u")|$(sql "$u" "SELECT count(*) FROM mig_meta.runs")" "$before|$before_schema|1"

echo "# SIGKILL in the middle, then a re-run = an uninterrupted run"
ref=$(clone t_gen gen_ref)
gen_legacy=$(clone t_gen gen_legacy)
run "$ref" --batch-size 500
expect "generated: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
check_expected "$ref" generated "$gen_legacy"
u=$(clone t_gen gen_kill)
"$MIGHOST" run "$SCRIPT" --db "$u" --batch-size 100 > kill.txt 2> kill.err &
pid=$!
for _ in $(seq 1 1500); do [ "$(grep -c '^PROGRESS production_runs' kill.txt)" -ge 5 ] && break; sleep 0.02; done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
done_runs=$(sql "$u" "SELECT count(*) FROM production_runs WHERE batch_number IS NOT NULL")
expect "killed mid-run ($done_runs runs numbered): whole batches only, not finished" \
  test $((done_runs % 100)) -eq 0 -a "$done_runs" -ge 500 -a "$done_runs" -lt 20000
expect "killed mid-run: one audit row per numbered run" eq "$(sql "$u" "SELECT count(*) FROM audit_logs WHERE table_name = 'production_runs'")" "$done_runs"
wait_unlocked "$u"
run "$u" --batch-size 500; rc=$?
expect "re-run after kill: exit 0, every check PASS" eq "$rc|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
expect "re-run after kill: wrote only the rest of production_runs" eq "$(counts "$u" | cut -d'|' -f4)" "$((20000 - done_runs))"
expect "killed + resumed = uninterrupted (rows, audit, ledger)" eq "$(state_fp "$u")" "$(state_fp "$ref")"
expect "killed + resumed = uninterrupted (schema)" eq "$(schema_fp "$u")" "$(schema_fp "$ref")"
expect "killed run marked error" eq "$(sql "$u" "SELECT string_agg(status, ',' ORDER BY run_id) FROM mig_meta.runs")" "error,ok"

sql "$ref" "UPDATE pallets SET case_count = 7 WHERE id = 1 AND case_count IS DISTINCT FROM 7;
            UPDATE production_runs SET notes = 'changed' WHERE id = 2" >/dev/null
"$MIGHOST" verify "$SCRIPT" --db "$ref" > out.txt 2> err.txt
expect "verify after two legacy values changed: exit 3, rows_preserved actual=2" eq "$?|$(grep -c '^CHECK rows_preserved FAIL expected=0 actual=2' out.txt)" "3|1"

echo "# lock-safe on a live database: the lint and the lock report"
# Every table of the generated fixture (20 000 runs, analyzed) counts as large for the lint here.
u=$(clone t_gen gen_lint)
cat > seed_index.lua <<'LUA'
local db = require "mighost.db"
local c = db.connect()
pcall(c.tx, c, function() c:exec("CREATE UNIQUE INDEX seed_idx ON production_runs (id)") error("undo", 0) end)
LUA
MIGHOST_LINT_ROWS=1000 "$MIGHOST" run seed_index.lua --db "$u" > out.txt 2> err.txt
expect "lint: live on this fixture (the seed's plain CREATE UNIQUE INDEX on production_runs warns)" has err.txt 'lock-heavy DDL: CREATE INDEX on production_runs'
MIGHOST_LINT_ROWS=1000 "$MIGHOST" run "$SCRIPT" --db "$u" --report locks.json > out.txt 2> err.txt
expect "lint: the migration runs with no lock-heavy DDL warning" eq "$?|$(grep -c 'lock-heavy DDL' err.txt)" "0|0"
expect "lock report: one line per existing table in the summary" eq "$(grep -c '^  lock public\.' out.txt)" 4
expect "lock report: production_runs' strongest lock is ACCESS EXCLUSIVE (ADD COLUMN, SET NOT NULL)" \
  has locks.json '"table":"public.production_runs","strongest":"AccessExclusiveLock"'
expect "lock report: old_ingredient_table is only read" has locks.json '"table":"public.old_ingredient_table","strongest":"AccessShareLock"'
expect "lock report: the new tables are not reported" eq "$(grep -c '"table":"public.audit_logs"' locks.json)" 0
u=$(clone t_small locked)
before=$(all_fp "$u" '^mig_meta$')
hold pallets_holder "$u"   # holds the lock for as long as the run takes
in_hold pallets_holder "BEGIN; LOCK TABLE pallets IN ACCESS SHARE MODE;"
run "$u" --lock-timeout 300ms
expect "--lock-timeout: a held lock fails the setup's ALTER (exit 1, lock timeout named)" eq "$?|$(grep -c 'lock timeout' err.txt)" "1|1"
expect "--lock-timeout: nothing changed but mig_meta" eq "$(all_fp "$u" '^mig_meta$')" "$before"
unhold pallets_holder

finish lot_traceability
