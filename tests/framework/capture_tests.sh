# Captured batches (sourced by run.sh): while few of a batch's rows are rejects or fixups, the
# batch is one INSERT that logs them as it meets them; otherwise its rows are materialized once.
# Either way the target rows, rejects and fixups are those of one batch over every row.

# The demo fixture, then 20000 rows with few rejects and fixups (under 10% of a batch's rows), then
# 2000 with many (over 10%).
capture_fixture() {  # capture_fixture URL
  sql "$1" "INSERT INTO items SELECT 'zz-' || lpad(g::text, 6, '0'), 'bulk ' || g,
      CASE WHEN g % 500 = 0 THEN -1 ELSE g % 50 END, CASE WHEN g % 300 = 0 THEN NULL ELSE g * 0.25 END,
      CASE WHEN g % 700 = 0 THEN 5000 + g WHEN g % 900 = 0 THEN NULL ELSE g % 20 + 1 END, NULL
    FROM generate_series(1, 20000) g;
    INSERT INTO items SELECT 'zzz-' || lpad(g::text, 6, '0'), 'dense ' || g,
      CASE WHEN g % 3 = 0 THEN -g ELSE 1 END, 1, CASE WHEN g % 4 = 0 THEN 7000 + g END, 'n' || g
    FROM generate_series(1, 2000) g;" >/dev/null
}

captured() { "$MIGHOST" --log-level debug run "$DECLARED/captured.lua" --db "$@" > out.txt 2> err.txt; }

# The target rows, the rejects and the fixups (run ids excluded), and the report's tallies.
captured_state() {
  local u=$1
  fp "$u" stock_c
  fp "$u" "(SELECT migration, source_table, source_key, reason, detail, row_data FROM mig_meta.rejects)"
  fp "$u" "(SELECT migration, source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups)"
}

test_36_captured_batches() {
  local ref u
  ref=$(newdb fw_cap_ref); capture_fixture "$ref"
  captured "$ref" --batch-size 100000
  expect "one batch over every row: exit 0, every check PASS, materialized" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(grep -c 'insert straight from the source' err.txt)" "0|0|0"
  cp out.txt capture_ref.out
  expect "  it has rejects, double fixups and fallbacks to compare" eq "$(sql "$ref" "SELECT
      (SELECT count(*) > 100 FROM mig_meta.rejects) AND (SELECT count(*) FROM (SELECT source_key FROM mig_meta.fixups
        GROUP BY 1 HAVING count(*) = 2) d) > 10 AND (SELECT count(*) > 10 FROM mig_meta.fixups WHERE new_value = '1')")" t
  u=$(newdb fw_cap_batches); capture_fixture "$u"
  captured "$u" --batch-size 500
  expect "batches of 500: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "  captured where the rows have few rejects and fixups (the first batch has 2.6%: under 10%)" has err.txt \
    'phase items: batches insert straight from the source, logging rejects and fixups per row (last batch: 2\.60% '
  expect "  materialized again where they have many" has err.txt \
    'phase items: batches read their rows once into a materialized copy (last batch: [1-9][0-9]\.[0-9]*% '
  expect "  the rows, rejects and fixups of the one batch" eq "$(captured_state "$u")" "$(captured_state "$ref")"
  expect "  progress counts every source row once, the short last window too" eq \
    "$(grep '^PROGRESS items' out.txt | sed -E 's|^PROGRESS items ([0-9]*)/([0-9]*) .*|\1 \2|' | awk '
      $1 % 500 && $1 != $2 { bad++ } END { print (bad + 0) "|" $1 "/" $2 }')" \
    "0|$(sql "$u" "SELECT count(*) || '/' || count(*) FROM items")"
  expect "  the report's tallies too" eq "$(grep -E '^  (rejects|items) ' out.txt | sed 's/[0-9.]*s$//')" \
    "$(grep -E '^  (rejects|items) ' capture_ref.out | sed 's/[0-9.]*s$//')"
  # A run that stops part-way and one that finishes it: the second run's windows insert "if absent".
  u=$(newdb fw_cap_resume); capture_fixture "$u"
  captured "$u" --batch-size 500 --limit 9000
  expect "stopped at --limit: partial (exit 0), captured" eq "$?|$(grep -c '"status":"partial"' out.txt)|$(grep -c 'insert straight' err.txt)" "0|1|1"
  captured "$u" --batch-size 500
  expect "  the next run: exit 0, every check PASS, the one batch's rows, rejects and fixups" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(captured_state "$u")" "0|0|$(captured_state "$ref")"
  captured "$u" --batch-size 500
  expect "  a third run writes 0 rows and changes nothing" eq "$(grep -c '"written":0}' out.txt)|$(captured_state "$u")" \
    "1|$(captured_state "$ref")"
}

test_37_captured_needs_temp() {
  local u ref
  # A role that may not create temporary objects: its batches keep the materialized form.
  ref=$(newdb fw_cap_ref2); capture_fixture "$ref"
  captured "$ref" --batch-size 100000
  psql -X -q "$URL" -c "DROP DATABASE IF EXISTS fw_cap_notemp WITH (FORCE)" -c "DROP ROLE IF EXISTS fw_notemp" \
    -c "CREATE ROLE fw_notemp LOGIN" -c "CREATE DATABASE fw_cap_notemp OWNER fw_notemp" >/dev/null 2>&1
  u=$(dburl fw_cap_notemp | sed 's|://[^@/]*@|://fw_notemp@|')
  psql -X -q -v ON_ERROR_STOP=1 "$u" -f "$FIXTURE" >/dev/null && capture_fixture "$u"
  psql -X -q "$u" -c "REVOKE TEMP ON DATABASE fw_cap_notemp FROM PUBLIC, fw_notemp" >/dev/null
  expect "a role without TEMP: it cannot create a temporary table" eq \
    "$(psql -X -q -v ON_ERROR_STOP=1 "$u" -c "CREATE TEMP TABLE t (x int)" >/dev/null 2>&1; echo $?)" 1
  captured "$u" --batch-size 500
  expect "  its run: exit 0, every check PASS, never captured, said why once" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(grep -c 'insert straight' err.txt)|$(grep -c 'cannot create functions in pg_temp' err.txt)" "0|0|0|1"
  expect "  the one batch's rows, rejects and fixups" eq "$(captured_state "$u")" "$(captured_state "$ref")"
}

test_38_captured_dry_run_and_workers() {
  local u ref counts
  ref=$(newdb fw_cap_ref3); capture_fixture "$ref"
  captured "$ref" --batch-size 100000
  counts=$(grep -o '"counts":{.*}}' out.txt)
  # A dry run captures too, and leaves nothing behind.
  u=$(newdb fw_cap_dry); capture_fixture "$u"
  captured "$u" --batch-size 500 --dry-run
  expect "a dry run: exit 0, captured, the one batch's counts, no table and no mig_meta left" eq \
    "$?|$(grep -c 'insert straight' err.txt)|$(grep -o '"counts":{.*}}' out.txt)|$(sql "$u" "SELECT to_regnamespace('mig_meta') IS NULL
      AND to_regclass('stock_c') IS NULL")" "0|1|$counts|t"
  # Two workers, each with its own session's functions.
  u=$(newdb fw_cap_workers); capture_fixture "$u"
  captured "$u" --batch-size 500 --workers 2
  expect "two workers: exit 0, every check PASS, captured, the one batch's rows, rejects and fixups" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(grep -c 'insert straight' err.txt | sed 's/^[1-9][0-9]*$/yes/')|$(captured_state "$u")" \
    "0|0|yes|$(captured_state "$ref")"
}
