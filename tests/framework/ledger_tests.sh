# Tests of what a run leaves behind and tells (sourced by tests/framework/run.sh): the snapshot
# an earlier run took, rollbacks in the ledger, bounded reports with unique names, connection
# failures, check values as PostgreSQL's text.

test_27_snapshot_drift() {
  local u
  u=$(newdb fw_drift)
  demo "$u" --batch-size 200 >/dev/null
  sql "$u" "INSERT INTO items VALUES ('it-new', 'new', 3, 1.00, 1, NULL)"
  demo "$u" --report drift.json
  expect "a run on a changed source still exits 0" eq "$?" 0
  expect "it says how the live source differs from the snapshot" \
    has err.txt "items changed since its snapshot mig_backup_demo.items was taken: 605 rows now, 604 in the snapshot; 1 key(s) not in the snapshot (it-new), 0 key(s) gone from items"
  expect "and how to take a fresh one" has err.txt "To take a fresh one, drop it (DROP TABLE mig_backup_demo.items) and run again"
  expect "the report holds it as a warning" \
    eq "$(jsql drift.json "$URL" "SELECT (e->>'passed') || '|' || (e->>'warning') FROM json_array_elements(:'j'::json->'preconditions') e WHERE e->>'name' = 'snapshot_current'")" "false|true"
  "$MIGHOST" rollback "$DEMO" --db "$u" --yes > out.txt 2> err.txt
  expect "rollback says it keeps the snapshot and how to drop it" \
    has out.txt "^note: the in-database snapshot mig_backup_demo (1 table(s)) is kept: .*DROP SCHEMA mig_backup_demo CASCADE"
  sql "$u" "DROP SCHEMA mig_backup_demo CASCADE"
  demo "$u" --batch-size 200
  expect "after the advice the new row is migrated and nothing warns" \
    eq "$?|$(sql "$u" "SELECT count(*) FROM stock WHERE item_id = 'it-new'")|$(grep -c 'changed since its snapshot' err.txt)" "0|1|0"
}

test_28_rollback_in_ledger_and_status() {
  local u
  u=$(newdb fw_rolled)
  demo "$u" --batch-size 200 >/dev/null
  demo "$u" --batch-size 200 >/dev/null
  "$MIGHOST" rollback "$DEMO" --db "$u" --yes > out.txt 2> err.txt
  expect "rollback exits 0 and says what it marked" has out.txt "^rolled back demo in .*(mig_meta.runs: 2 run(s) marked rolled back)"
  expect "mig_meta.runs records it" eq "$(sql "$u" "SELECT count(*) FILTER (WHERE rolled_back_at IS NOT NULL) || '/' || count(*) FROM mig_meta.runs")" "2/2"
  "$MIGHOST" status --db "$u" > out.txt 2> err.txt
  expect "status shows the runs as rolled back" eq "$(grep -c '^[12] .* ok, rolled back ' out.txt)" 2
  expect "status says when" has out.txt "^  run 1: rolled back at 2[0-9-]* [0-9:]* UTC"
  demo "$u" --batch-size 200 >/dev/null
  "$MIGHOST" status --db "$u" > out.txt 2> err.txt
  expect "a later run is not marked" has out.txt "^3 .* ok  "
}

test_29_report_sample_and_unique_name() {
  local u now i rc
  u=$(newdb fw_report)
  sql "$u" "INSERT INTO items SELECT 'neg-' || g, 'n', -g, 1, NULL, NULL FROM generate_series(1, 150) g"
  rm -rf reports; mkdir -p reports   # the reports of earlier runs here (the reference) are not this test's
  # every name of the next ten minutes is taken: the run's report must get a name of its own
  now=$(date -u +%s)
  for i in $(seq 0 600); do : > "reports/demo-$(date -u -d "@$((now + i))" +%Y%m%dT%H%M%SZ).json"; done
  demo "$u" --batch-size 200
  rc=$?
  local path; path=$(sed -n 's/^  report //p' out.txt)
  expect "the run exits 0 and writes its report beside the one taken" eq "$rc|$(echo "$path" | grep -c -- '-2\.json$')" "0|1"
  expect "no report was overwritten" eq "$(find reports -name 'demo-*Z.json' -size +0 | wc -l)" 0
  expect "the report lists a bounded sample of the rejects" \
    eq "$(jsql "$path" "$URL" "SELECT json_array_length(:'j'::json->'rejects') || '|' || (:'j'::json->'rejects_count'->>'total') || '|' || (:'j'::json->'rejects_count'->>'listed')")" "100|166|100"
  expect "the counts per reason and where the full list is" \
    eq "$(jsql "$path" "$URL" "SELECT (:'j'::json->'rejects_count'->'by_reason'->>'negative_quantity') || '|' || (:'j'::json->'rejects_count'->>'full_list')")" \
    "166|mig_meta.rejects WHERE migration = 'demo'"
  expect "the full list stays in mig_meta" eq "$(sql "$u" "SELECT count(*) FROM mig_meta.rejects")" 166
  expect "the summary counts them all" has out.txt "rejects 166 (negative_quantity 166)"
  rm -rf reports
}

test_30_connection_failures() {
  local bad="postgresql://mig:s3cret@/x?host=$PWD/no-server-here"
  "$MIGHOST" run "$DEMO" --db "$bad" > out.txt 2> err.txt
  expect "run: exit 1, one line naming --db and the server's reason, no password, no traceback" \
    eq "$?|$(wc -l < err.txt)|$(cat err.txt out.txt | grep -c 's3cret\|traceback\|stdlib/')" "1|1|0"
  expect "run: the line" has err.txt "^mighost: error: cannot connect --db (conninfo from --db) to postgresql://mig:\*\*\*@/x?host=.*: .*No such file or directory"
  DATABASE_URL=$bad "$MIGHOST" run "$DEMO" > out.txt 2> err.txt
  expect "run with DATABASE_URL: names it" eq "$?|$(wc -l < err.txt)|$(grep -c '^mighost: error: cannot connect --db (conninfo from DATABASE_URL) to postgresql://mig:\*\*\*@' err.txt)" "1|1|1"
  env -u DATABASE_URL -u PGHOSTADDR -u PGDATABASE -u PGUSER -u PGSERVICE -u PGPASSFILE PGHOST="$PWD/no-server-here" PGPORT=5999 PGPASSWORD=s3cret "$MIGHOST" run "$DEMO" > out.txt 2> err.txt
  expect "run with PG*: names the variables set, never the password" \
    eq "$?|$(grep -c "(conninfo from the PG\* environment (PGHOST=$PWD/no-server-here, PGPORT=5999)): " err.txt)|$(grep -c s3cret err.txt)" "1|1|0"
  DATABASE_URL=$bad "$MIGHOST" status > out.txt 2> err.txt
  expect "status: one line naming DATABASE_URL, not stdlib" \
    eq "$?|$(wc -l < err.txt)|$(grep -c '^mighost: error: cannot connect --db (conninfo from DATABASE_URL) to ' err.txt)" "1|1|1"
  "$MIGHOST" verify "$DEMO" --db "$bad" > out.txt 2> err.txt
  expect "verify: one line, exit 1" eq "$?|$(wc -l < err.txt)|$(grep -c '^mighost: error: cannot connect --db (conninfo from --db) to ' err.txt)" "1|1|1"
}

test_31_check_values_as_postgres_text() {
  local u
  u=$(newdb fw_numeric)
  "$MIGHOST" run "$ROOT/tests/framework/numeric_check.lua" --db "$u" --report numeric.json > out.txt 2> err.txt
  expect "the checks pass (exit 0)" eq "$?" 0
  expect "numeric: printed as PostgreSQL's text" has out.txt "^CHECK numeric_zero PASS expected=0 actual=0\.00000000000000000000 "
  expect "real: its own shortest digits" has out.txt "^CHECK real_tenth PASS expected=0\.1 actual=0\.1 "
  expect "double: its shortest exact digits" has out.txt "^CHECK double_sum PASS expected=0\.30000000000000004 actual=0\.30000000000000004 "
  expect "the report stores the text, integers as numbers" \
    eq "$(jsql numeric.json "$URL" "SELECT string_agg(e->>'name' || '=' || json_typeof(e->'actual') || ':' || (e->>'actual'), ' ' ORDER BY e->>'name') FROM json_array_elements(:'j'::json->'checks') e")" \
    "counts_balance=number:0 double_sum=string:0.30000000000000004 numeric_huge=string:12345678901234567890.5 numeric_zero=string:0.00000000000000000000 real_tenth=string:0.1"
  expect "mig_meta.checks stores the same text" \
    eq "$(sql "$u" "SELECT actual FROM mig_meta.checks WHERE check_name = 'numeric_zero'")" "0.00000000000000000000"
}
