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

# The catalog of the public schema: types, columns, indexes, constraints.
catalog_fp() {
  sql "$1" "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
      SELECT 'type ' || typname AS x FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'
      UNION ALL SELECT 'col ' || attrelid::regclass || '.' || attname || format_type(atttypid, atttypmod) || attnotnull
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
       WHERE attnum > 0 AND NOT attisdropped
      UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL SELECT 'constraint ' || conname || pg_get_constraintdef(oid) || convalidated FROM pg_constraint
       WHERE connamespace = 'public'::regnamespace) s"
}

test_23_declared_in_place() {
  local u before
  u=$(newdb fw_decl_inplace)
  declared inplace "$u" --batch-size 40
  expect "in place: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  for name in items_accounted no_double_resolution items_values rejects_valid fixups_logged; do
    expect "in place: generated check $name PASS" has out.txt "^CHECK $name PASS"
  done
  expect "in place: migrated rows filled, rejected rows left as they were" eq "$(sql "$u" "SELECT
      count(*) FILTER (WHERE rank_no IS NOT NULL AND qty >= 0) || '/' || count(*) FILTER (WHERE rank_no IS NULL AND qty < 0
        AND band = 'none' AND owner_ok IS NULL) || '/' || count(*) FROM items")" \
    "$(sql "$u" "SELECT count(*) FILTER (WHERE qty >= 0) || '/' || count(*) FILTER (WHERE qty < 0) || '/' || count(*) FROM items")"
  expect "in place: a dangling or NULL owner gets the fallback, with its fixup (old value, new value)" eq "$(sql "$u" "SELECT count(*)
      FROM mig_meta.fixups f JOIN items i ON i.id = f.source_key WHERE f.rule = 'orphan_owner' AND f.new_value = '1'
       AND f.old_value IS NOT DISTINCT FROM i.owner_id::text AND i.owner_ok = 1")" \
    "$(sql "$u" "SELECT count(*) FROM items i WHERE qty >= 0 AND NOT EXISTS (SELECT 1 FROM owners o WHERE o.id = i.owner_id)")"
  expect "in place: one audit row per migrated row, old = the snapshot row" eq "$(sql "$u" "SELECT count(*) FROM item_audit a
      JOIN mig_backup_inplace.items s ON s.id = a.item_id JOIN items i ON i.id = a.item_id
      WHERE a.old = to_jsonb(s) AND a.new = jsonb_build_object('band', i.band, 'rank_no', i.rank_no, 'owner_ok', i.owner_ok)")" \
    "$(sql "$u" "SELECT count(*) FROM items WHERE qty >= 0")"
  expect "in place: the unique index and the validated foreign key added after the rows" eq "$(sql "$u" "SELECT
      (SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_rank_no_key'::regclass)::text
      || (SELECT convalidated FROM pg_constraint WHERE conname = 'items_owner_ok_fkey')::text")" "truetrue"
  before="$(catalog_fp "$u")|$(sql "$u" "SELECT md5(string_agg(to_jsonb(i)::text, ',' ORDER BY id)) FROM items i")"
  declared inplace "$u"
  expect "in place: a second run writes 0 rows and changes nothing" eq "$?|$(grep -c '"written":0}' out.txt)|$(catalog_fp "$u")|$(sql "$u" "SELECT md5(string_agg(to_jsonb(i)::text, ',' ORDER BY id)) FROM items i")" \
    "0|1|$before"
  u=$(newdb fw_decl_inplace_dry)
  before=$(catalog_fp "$u")
  declared inplace "$u" --dry-run
  expect "in place, dry run: exit 0, the catalog unchanged (no enum, column, table or index)" eq "$?|$(catalog_fp "$u")" "0|$before"
}
