#!/usr/bin/env bash
# End-to-end replay of scripts/rds_mapping.lua on a real PostgreSQL sandbox, source and target in
# two databases of one server: the checks on three installs (canonical names, the seed's
# alternatives, the fewest columns) and examples/rds_mapping/expected.sql; the source untouched by
# a run, a dry run and a rollback; a second run writes nothing; one database with two schemas;
# each refusal (exit 2, nothing written); the JSON backup (mode, rows = row_to_json, a failure
# while writing, restore round trip); SIGKILL in the middle then a re-run = an uninterrupted run.
# Usage: rds_mapping.sh path/to/mighost. Last line: `rds_mapping: N passed, N failed`.
set -u
MIGHOST=$(realpath "${1:?usage: rds_mapping.sh path/to/mighost}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$ROOT/scripts/rds_mapping.lua
EX=$ROOT/examples/rds_mapping
# The contract's own fixture, replayed in addition when .ci/run finds one (MIGHOST_CONTRACT_FIXTURES).
PUBLIC=${MIGHOST_CONTRACT_FIXTURES:+$MIGHOST_CONTRACT_FIXTURES/rds_mapping.sql}
NAME=rds_mapping SET=bag
. "$ROOT/tests/scripts/replay.sh"

TABLES='"user" bag bill scan link bill_bag promotionrequest audit_log'
# rrun SOURCE TARGET ARGS...: one run (its JSON backup into ./bk unless --backup-dir is given)
rrun() { local s=$1 t=$2; shift 2; "$MIGHOST" run "$SCRIPT" --source-db "$s" --target-db "$t" --backup-dir bk "$@" > out.txt 2> err.txt; }
pair() {  # pair NAME TEMPLATE: a source cloned from TEMPLATE and an empty target; sets SRC and TGT
  SRC=$(clone "$2" "s_$1"); sql "$URL" "CREATE DATABASE t_$1" >/dev/null; TGT=$(dburl "t_$1"); rm -rf bk
}
checks_pass() { [ "$(grep -c '^\(\[DRY RUN\] \)\?CHECK ' out.txt)" -eq 19 ] && [ "$(grep '^\(\[DRY RUN\] \)\?CHECK ' out.txt | grep -vc ' PASS ')" -eq 0 ]; }
expected() {  # expected URL FIXTURE [SCHEMA]: expected.sql reports no difference
  psql -X -At -v ON_ERROR_STOP=1 -v fixture="$2" -v schema="${3:-public}" -d "$1" -f "$EX/expected.sql" > exp.txt 2>&1
  [ "$(wc -l < exp.txt)" -eq 1 ] && grep -q "^$2: .*(none = ok)" exp.txt || { sed 's/^/  /' exp.txt | head -20; return 1; }
}
backup_file() { ls bk/rds_backup_*.json 2>/dev/null | tail -1; }
# the target's rows, rejects and fixups without run ids (what must not depend on how the run got there)
state_fp() {
  local u=$1 t
  for t in $TABLES; do echo "$t $(sql "$u" "SELECT count(*) || ' ' || COALESCE(md5(string_agg(to_jsonb(x)::text, ',' ORDER BY x.id)), 'empty') FROM $t x")"; done
  sql "$u" "SELECT md5(string_agg(concat_ws('|', source_table, source_key, reason, detail, row_data::text), ',' ORDER BY source_table, source_key)) FROM mig_meta.rejects"
  sql "$u" "SELECT md5(string_agg(concat_ws('|', source_table, source_key, field, rule, old_value, new_value), ',' ORDER BY source_table, source_key, field)) FROM mig_meta.fixups"
}
# each table of the JSON backup equals row_to_json of the source rows in id order
backup_rows_match() {
  local file=$1 src=$2 t ok=0
  for t in $(sql "$src" "SELECT string_agg(quote_ident(tablename), ' ') FROM pg_tables WHERE schemaname = 'public'"); do
    local key=${t//\"/}
    local a b
    a=$(jsql "$file" "$src" "SELECT md5(string_agg(e::text, E'\\n')) FROM json_array_elements(:'j'::json -> '$key') e")
    b=$(sql "$src" "SELECT md5(string_agg(row_to_json(x)::text, E'\\n' ORDER BY x.id)) FROM $t x")
    [ -n "$a" ] && [ "$a" = "$b" ] || { echo "  $t: backup $a, source $b"; ok=1; }
  done
  return $ok
}

start_sandbox
template tpl_canonical "$EX/canonical.sql"
template tpl_alternative "$EX/alternative.sql"
template tpl_minimal "$EX/minimal.sql"
PSQL_VARS="-v scale=0.01" template tpl_gen "$EX/generate.sql"   # 2 000 users, 10 000 bags, …
[ -n "$PUBLIC" ] && template tpl_public "$PUBLIC"

echo "# the public fixture"
if [ -n "$PUBLIC" ]; then
  pair public tpl_public
  rrun "$SRC" "$TGT"
  expect "public: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
else
  echo "#   skipped: MIGHOST_CONTRACT_FIXTURES is not set"
fi

echo "# canonical names: checks, expected.sql, mapping, JSON backup; a second run; rollback"
pair canonical tpl_canonical
legacy=$(all_fp "$SRC")
rrun "$SRC" "$TGT" --batch-size 4 --report canonical.json
expect "canonical: exit 0" eq "$?" 0
expect "canonical: 19 checks, every one PASS (fingerprints from the source snapshot)" checks_pass
expect "canonical: expected.sql (counts, rejects, fixups, values)" expected "$TGT" canonical
expect "canonical: the source is unchanged" eq "$(all_fp "$SRC")" "$legacy"
expect "canonical: the mapping printed per target column" has out.txt '^MAPPING bag.weight_kg <- weight_kg$'
expect "canonical: WARN per unmapped column" eq "$(grep -c '^WARN unmapped column \(user.phone\|bag.legacy_flag\)$' out.txt)" 2
expect "canonical: the report lists them" has canonical.json '"unmapped_columns":{"bag":\["legacy_flag"\],"user":\["phone"\]}'
expect "canonical: the report holds the mapping" has canonical.json '"mapping":{"user":{"id":{"from":"id"},"username":{"from":"username"}'
expect "canonical: the report is JSON with every reject and fixup" \
  eq "$(jsql canonical.json "$SRC" "SELECT json_array_length(:'j'::json->'rejects') || '|' || json_array_length(:'j'::json->'fixups')")" "28|13"
expect "canonical: PROGRESS per batch" eq "$(grep -c '^PROGRESS bag ' out.txt)" 4
file=$(backup_file)
expect "canonical: one JSON backup rds_backup_<UTC>.json, mode 0600" eq "$(ls bk | grep -c '^rds_backup_[0-9]\{8\}_[0-9]\{6\}\.json$')|$(stat -c %a "$file")" "1|600"
expect "canonical: backup rows = row_to_json of the source, in id order" backup_rows_match "$file" "$SRC"
expect "canonical: backup _meta (migration, source_schema, row_counts)" \
  eq "$(jsql "$file" "$SRC" "SELECT concat_ws('|', :'j'::json->'_meta'->>'migration', :'j'::json->'_meta'->>'source_schema', :'j'::json->'_meta'->'row_counts'->>'bag')")" "rds_mapping|public|16"
expect "canonical: the report records the verified backup" has canonical.json "\"backup\":{\"bytes\":$(stat -c %s "$file"),.*\"sha256\":\"$(sha256sum "$file" | cut -d' ' -f1)\",.*\"verified\":true"
"$MIGHOST" verify "$SCRIPT" --source-db "$SRC" --target-db "$TGT" > verify.txt 2>&1
expect "canonical: mighost verify passes" eq "$?" 0
before=$(all_fp "$TGT" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')
rrun "$SRC" "$TGT" --batch-size 7
expect "second run: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
expect "second run: written 0 in every table" eq "$(grep -o '"written":[0-9]*' out.txt | sort -u)" '"written":0'
expect "second run: no row changed but mig_meta.runs/checks" eq "$(all_fp "$TGT" | grep -v -e '^mig_meta.runs ' -e '^mig_meta.checks ')" "$before"
"$MIGHOST" rollback "$SCRIPT" --source-db "$SRC" --target-db "$TGT" --yes > out.txt 2> err.txt
expect "rollback: exit 0, the eight tables gone, no reject or fixup left" eq "$?|$(sql "$TGT" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")|$(sql "$TGT" "SELECT (SELECT count(*) FROM mig_meta.rejects) + (SELECT count(*) FROM mig_meta.fixups)")" "0|0|0"
expect "rollback: the source is unchanged" eq "$(all_fp "$SRC")" "$legacy"

echo "# restore: the JSON backup into empty legacy tables reproduces the source"
r=$(clone tpl_canonical restored)
sql "$r" "TRUNCATE $(echo $TABLES | tr ' ' ',')" >/dev/null
"$MIGHOST" restore "$file" --db "$r" > out.txt 2> err.txt
expect "restore: exit 0" eq "$?" 0
expect "restore: every legacy table equals the source (fingerprints)" eq "$(all_fp "$r")" "$legacy"

echo "# the seed's alternative names, optional tables and columns missing"
pair alternative tpl_alternative
legacy=$(all_fp "$SRC")
rrun "$SRC" "$TGT" --batch-size 3 --report alternative.json
expect "alternative: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
expect "alternative: expected.sql" expected "$TGT" alternative
expect "alternative: aliases resolved from the catalog" eq "$(grep -c -e '^MAPPING user.username <- name$' -e '^MAPPING bag.qr_id <- qr_code$' \
  -e '^MAPPING scan.timestamp <- created_at$' -e '^MAPPING bag.user_id <- owner_id$' -e "^MAPPING user.role = 'dispatcher' (no legacy column)$" out.txt)" 5
expect "alternative: absent tables said, and created empty" eq "$(grep -c '^MAPPING [a-z_]*: no legacy table' out.txt)|$(sql "$TGT" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "5|8"
expect "alternative: unmapped columns" has alternative.json '"unmapped_columns":{"bag":\["color"\],"user":\["last_login"\]}'
expect "alternative: the backup holds the three tables present" eq "$(jsql "$(backup_file)" "$SRC" "SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(:'j'::json) k")" "_meta,bag,scan,user"
expect "alternative: the source is unchanged" eq "$(all_fp "$SRC")" "$legacy"

pair minimal tpl_minimal
rrun "$SRC" "$TGT"
expect "minimal: exit 0, every check PASS, expected.sql" eq "$?|$(checks_pass && expected "$TGT" minimal && echo yes)" "0|yes"
expect "minimal: qr_id from the id" has out.txt '^MAPPING bag.qr_id <- id (as text)$'

echo "# one database, the new tables in another schema"
u=$(clone tpl_canonical oneschema)
legacy=$(all_fp "$u")
rm -rf bk
rrun "$u" "$u" --target-schema tracetrack
expect "other schema: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
expect "other schema: expected.sql in tracetrack" expected "$u" canonical tracetrack
expect "other schema: public untouched" eq "$(all_fp "$u" '^(tracetrack|mig_meta)$')" "$legacy"

echo "# dry run"
pair dry tpl_canonical
legacy=$(all_fp "$SRC"); target=$(all_fp "$TGT")
rrun "$SRC" "$TGT" --dry-run --report dry.json
expect "dry run: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
expect "dry run: the target unchanged, the source unchanged" eq "$(all_fp "$TGT")|$(all_fp "$SRC")" "$target|$legacy"
expect "dry run: the JSON backup is still written" eq "$(ls bk | grep -c '^rds_backup_.*\.json$')" 1
expect "dry run: would_change" has dry.json '"would_change":{"user":{"source":15,"migrated":10,"rejected":5,"written":10}'

echo "# refused: nothing written"
u=$(clone tpl_canonical sameschema)
legacy=$(all_fp "$u")
rm -rf bk
rrun "$u" "$u"
expect "same database and schema: exit 2, source_is_not_target named" eq "$?|$(grep -c 'source_is_not_target' err.txt)" "2|1"
expect "same database and schema: nothing written (no mig_meta either), no backup" eq "$(all_fp "$u")|$(ls bk 2>/dev/null | wc -l)" "$legacy|0"
pair legacytarget tpl_canonical
psql -X -q -v ON_ERROR_STOP=1 -d "$TGT" -f "$EX/canonical.sql" >/dev/null
target=$(all_fp "$TGT" '^mig_meta$')
rrun "$SRC" "$TGT"
expect "target holding the legacy schema: exit 2, target_compatible named" eq "$?|$(grep -c 'target_compatible' err.txt)" "2|1"
expect "target holding the legacy schema: only a refused runs row, no backup" \
  eq "$(all_fp "$TGT" '^mig_meta$')|$(sql "$TGT" "SELECT string_agg(status, ',') FROM mig_meta.runs")|$(ls bk 2>/dev/null | wc -l)" "$target|refused|0"
pair notable tpl_minimal
sql "$SRC" 'DROP TABLE scan' >/dev/null
rrun "$SRC" "$TGT"
expect "missing required table: exit 2, scan named" eq "$?|$(grep -c 'required_tables.*no table "scan"' err.txt)" "2|1"
pair nocolumn tpl_minimal
sql "$SRC" 'ALTER TABLE scan DROP COLUMN "timestamp"' >/dev/null
rrun "$SRC" "$TGT"
expect "missing required column: exit 2, scan.timestamp named" eq "$?|$(grep -c 'required_columns.*scan.timestamp' err.txt)" "2|1"
expect "missing required column: no target table" eq "$(sql "$TGT" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0
pair unwritable tpl_canonical
touch afile
rrun "$SRC" "$TGT" --backup-dir afile/sub
expect "unwritable backup directory: exit 2, backup_writable named" eq "$?|$(grep -c 'backup_writable.*afile' err.txt)" "2|1"
expect "unwritable backup directory: no target table" eq "$(sql "$TGT" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0

echo "# a failure while writing the backup (file size limit): exit 1, no partial file, nothing written"
pair diskfull tpl_gen
mkdir -p bk
( trap '' XFSZ; ulimit -f 512; exec "$MIGHOST" run "$SCRIPT" --source-db "$SRC" --target-db "$TGT" --backup-dir bk > out.txt 2> err.txt )
expect "write failure: exit 1, the reason named" eq "$?|$(grep -c 'JSON backup into bk failed.*File too large' err.txt)" "1|1"
expect "write failure: no partial file, no target table" eq "$(ls -A bk | wc -l)|$(sql "$TGT" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "0|0"

echo "# SIGKILL in the middle, then a re-run = an uninterrupted run"
pair ref tpl_gen
rrun "$SRC" "$TGT" --batch-size 200
expect "generated reference: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
ref_state=$(state_fp "$TGT")
pair kill tpl_gen
gen_legacy=$(all_fp "$SRC")
"$MIGHOST" run "$SCRIPT" --source-db "$SRC" --target-db "$TGT" --backup-dir bk --batch-size 200 > kill.txt 2> kill.err &
pid=$!
for _ in $(seq 1 1500); do [ "$(grep -c '^PROGRESS bag ' kill.txt)" -ge 10 ] && break; sleep 0.02; done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
killed=$(sql "$TGT" "SELECT count(*) FROM bag")
expect "killed in the bag phase ($killed bags committed): whole batches, not finished" \
  test "$killed" -gt 0 -a "$killed" -lt "$(sql "$SRC" "SELECT count(*) FROM bag")"
wait_unlocked "$TGT"
rrun "$SRC" "$TGT" --batch-size 200
expect "re-run after kill: exit 0, every check PASS" eq "$?|$(checks_pass && echo yes)" "0|yes"
expect "killed + re-run = uninterrupted (rows, rejects, fixups)" eq "$(state_fp "$TGT")" "$ref_state"
expect "the killed run is marked error" eq "$(sql "$TGT" "SELECT string_agg(status, ',' ORDER BY run_id) FROM mig_meta.runs")" "error,ok"
expect "the source is unchanged" eq "$(all_fp "$SRC")" "$gen_legacy"

finish rds_mapping
