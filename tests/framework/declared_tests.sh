# Declared phases (sourced by run.sh): one declaration run set-based and streamed gives the same
# rows, rejects and fixups; the generated checks and the target DDL; declaration mistakes name
# the script's line.
DECLARED=$ROOT/tests/framework/declared

declared() {  # declared SCRIPT URL ARGS...
  local s=$1 u=$2; shift 2
  "$MIGHOST" run "$DECLARED/$s.lua" --db "$u" "$@" > out.txt 2> err.txt
}

# The target rows (without the serial numbers' table order), the rejects and the fixups.
declared_state() {
  local u=$1
  sql "$u" "SELECT md5(string_agg(to_jsonb(t)::text, ',' ORDER BY t.item_id COLLATE \"C\")) FROM stock_d t"
  sql "$u" "SELECT md5(string_agg(concat_ws('|', source_table, source_key, reason, detail, row_data::text), ','
              ORDER BY source_key COLLATE \"C\")) FROM mig_meta.rejects"
  sql "$u" "SELECT md5(string_agg(concat_ws('|', source_table, source_key, field, rule, old_value, new_value), ','
              ORDER BY source_key COLLATE \"C\", field)) FROM mig_meta.fixups"
}

test_20_declared_set_and_stream() {
  local a b c
  a=$(newdb fw_decl_set); b=$(newdb fw_decl_stream); c=$(newdb fw_decl_lua)
  declared items "$a" --batch-size 50
  expect "declared set-based: exit 0" eq "$?" 0
  for name in items_accounted no_double_resolution items_values rejects_valid fixups_logged counts_balance; do
    expect "declared: generated check $name PASS" has out.txt "^CHECK $name PASS"
  done
  expect "declared: rejects and fixups written" eq "$(sql "$a" "SELECT (SELECT count(*) FROM mig_meta.rejects) || '/' || (SELECT count(*) FROM mig_meta.fixups)")" \
    "$(sql "$a" "SELECT (SELECT count(*) FROM items WHERE qty < 0) || '/' || (SELECT count(*) FROM items i WHERE qty >= 0
        AND owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM owners o WHERE o.id = i.owner_id))")"
  expect "declared: serial numbers follow the source key order" eq "$(sql "$a" "SELECT count(*) FROM (SELECT n,
      row_number() OVER (ORDER BY item_id COLLATE \"C\") AS r FROM stock_d) x WHERE n <> r")" 0
  expect "declared: index and foreign key added after the rows" eq "$(sql "$a" "SELECT (to_regclass('stock_d_owner_idx') IS NOT NULL)::text
      || (SELECT count(*) FROM pg_constraint WHERE conname = 'stock_d_owner_fkey')")" "true1"
  declared items "$b" --batch-size 50 --stream
  expect "declared streamed: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  declared items "$c" --batch-size 7 --stream --lua-label
  expect "declared with a Lua column: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "set-based = streamed: rows, rejects, fixups" eq "$(declared_state "$b")" "$(declared_state "$a")"
  expect "set-based = Lua column: rows, rejects, fixups" eq "$(declared_state "$c")" "$(declared_state "$a")"
  expect "the fingerprints are of real rows" test "$(declared_state "$a" | grep -c '^[0-9a-f]\{32\}$')" -eq 3
  local before; before=$(declared_state "$b")
  declared items "$b" --stream
  expect "declared streamed: a second run writes 0 rows" has out.txt '"written":0}'
  expect "declared streamed: a second run changes nothing" eq "$(declared_state "$b")" "$before"
}

test_25_declared_piped() {
  local a s t before
  a=$(newdb fw_pipe_set); s=$(newdb fw_pipe_src); t=$(newdb fw_pipe_tgt)
  declared items "$a" --batch-size 50
  "$MIGHOST" run "$DECLARED/items_piped.lua" --source-db "$s" --target-db "$t" --batch-size 50 > out.txt 2> err.txt
  expect "declared piped (source on another connection): exit 0, counts balance" eq "$?|$(grep -c '^CHECK counts_balance PASS' out.txt)" "0|1"
  expect "set-based = piped: rows, rejects, fixups" eq "$(declared_state "$t")" "$(declared_state "$a")"
  expect "piped: nothing written to the source (no stock_d, no mig_meta there)" eq "$(sql "$s" "SELECT to_regclass('stock_d') IS NULL AND to_regnamespace('mig_meta') IS NULL")" "t"
  before=$(declared_state "$t")
  "$MIGHOST" run "$DECLARED/items_piped.lua" --source-db "$s" --target-db "$t" --batch-size 7 > out.txt 2> err.txt
  expect "piped: a second run writes 0 rows and changes nothing" eq "$?|$(grep -c '"written":0}' out.txt)|$(declared_state "$t")" "0|1|$before"
}

test_21_declared_partial_and_dry_run() {
  local u before
  u=$(newdb fw_decl_limit)
  declared items "$u" --limit 100 --batch-size 30
  expect "declared --limit: exit 0, partial" eq "$?|$(grep -c '"status":"partial"' out.txt)" "0|1"
  expect "declared --limit: items_accounted skipped (rows unresolved)" has out.txt '^CHECK items_accounted SKIP .*(source rows unresolved)'
  expect "declared --limit: no index or foreign key before the rows are in" eq "$(sql "$u" "SELECT (to_regclass('stock_d_owner_idx') IS NULL)::text
      || (SELECT count(*) FROM pg_constraint WHERE conname = 'stock_d_owner_fkey')")" "true0"
  declared items "$u"
  expect "declared: the completing run adds them" eq "$?|$(sql "$u" "SELECT (to_regclass('stock_d_owner_idx') IS NOT NULL)::text
      || (SELECT count(*) FROM pg_constraint WHERE conname = 'stock_d_owner_fkey')")" "0|true1"
  u=$(newdb fw_decl_dry)
  before=$(all_fp "$u")
  declared items "$u" --dry-run
  expect "declared dry run: exit 0, nothing changed" eq "$?|$(all_fp "$u")" "0|$before"
}

test_22_declaration_errors() {
  local u
  u=$(newdb fw_decl_errors)
  declared typo "$u"
  expect "misspelled key: exit 1" eq "$?" 1
  expect "misspelled key: named with the script's line and a suggestion" \
    has err.txt "typo.lua:$(grep -n 'chekcs' "$DECLARED/typo.lua" | cut -d: -f1): migration.define: unknown key 'chekcs' (did you mean 'checks'?)"
  expect "misspelled key: nothing written" eq "$(sql "$u" "SELECT to_regnamespace('mig_meta') IS NULL")" t
  declared bad_sql "$u"
  expect "SQL error in a declared mapping: exit 1" eq "$?" 1
  expect "SQL error: names the phase's line, the SQLSTATE and the statement" \
    has err.txt "bad_sql.lua:$(grep -n 'name = "items"' "$DECLARED/bad_sql.lua" | cut -d: -f1): phase items (as declared): ERROR 22012"
  expect "SQL error: the batch rolled back" eq "$(sql "$u" "SELECT count(*) FROM stock_b")" 0
}

test_23_tail_call_error_names_the_phase() {
  local u
  u=$(newdb fw_tail_call)
  declared tail_call "$u"
  expect "tail call: exit 1" eq "$?" 1
  expect "tail call: the SQL error names the phase's line and the SQLSTATE" \
    has err.txt "tail_call.lua:$(grep -n 'name = "items"' "$DECLARED/tail_call.lua" | cut -d: -f1): phase items: ERROR 42P01"
}

test_24_generated_checks_fail_on_damage() {
  local u rc x
  u=$(newdb fw_decl_damage)
  declared items "$u"
  x=$(sql "$u" "SELECT source_key FROM mig_meta.fixups ORDER BY source_key LIMIT 1")
  sql "$u" "UPDATE stock_d SET price = price + 1 WHERE item_id = 'it-0002';
            DELETE FROM stock_d WHERE item_id = 'it-0003';
            DELETE FROM mig_meta.fixups WHERE source_key = '$x';
            INSERT INTO mig_meta.rejects (migration, source_table, source_key, reason, row_data, run_id) VALUES ('declared', 'items', 'it-0001', 'negative_quantity', '{}', 1);
            UPDATE mig_meta.rejects SET reason = 'bogus' WHERE source_key = (SELECT min(source_key) FROM mig_meta.rejects WHERE source_key <> 'it-0001')"
  "$MIGHOST" verify "$DECLARED/items.lua" --db "$u" > out.txt 2> err.txt; rc=$?
  expect "damaged target: verify exits 3" eq "$rc" 3
  expect "a changed value fails items_values" has out.txt '^CHECK items_values FAIL expected=0 actual=1 '
  expect "a deleted row fails items_accounted" has out.txt '^CHECK items_accounted FAIL expected=0 actual=1 '
  expect "a deleted fixup fails fixups_logged" has out.txt '^CHECK fixups_logged FAIL expected=0 actual=1 '
  expect "a reject of a migrated row fails no_double_resolution" has out.txt '^CHECK no_double_resolution FAIL expected=0 actual=1 '
  expect "a wrong reason (and that reject) fail rejects_valid" has out.txt '^CHECK rejects_valid FAIL expected=0 actual=2 '
}
