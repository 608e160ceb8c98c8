# Declared phases (sourced by run.sh): one declaration run set-based and streamed gives the same
# rows, rejects and fixups; the generated checks and the target DDL; declaration mistakes name
# the script's line; more targets of the same rows (`also`) and the rows that follow (`after`).
DECLARED=$ROOT/tests/framework/declared

declared() {  # declared SCRIPT URL ARGS...
  local s=$1 u=$2; shift 2
  "$MIGHOST" run "$DECLARED/$s.lua" --db "$u" "$@" > out.txt 2> err.txt
}

# declared_variant NAME SED_SCRIPT: NAME.lua in the work dir, items.lua changed by SED_SCRIPT, with
# the flags.lua it loads beside it.
declared_variant() {
  cp "$DECLARED/flags.lua" .
  sed "$2" "$DECLARED/items.lua" > "$1.lua"
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

# The rows of the also.lua targets (the queue without its time), the notes, rejects and fixups.
also_state() {
  local u=$1 r
  for r in "stock_a" "label_a" "(SELECT item_id FROM queue_a)" "notes_a" \
           "(SELECT source_table, source_key, reason, detail, row_data FROM mig_meta.rejects)" \
           "(SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups)"; do
    echo "$r $(fp "$u" "$r")"
  done
}

test_25_declared_also_and_after() {
  local u v migrated
  u=$(newdb fw_decl_also)
  declared also "$u" --batch-size 40
  expect "also: exit 0" eq "$?" 0
  for name in items_accounted no_double_resolution items_values label_values rejects_valid fixups_logged \
              item_notes_accounted counts_balance; do
    expect "also: generated check $name PASS" has out.txt "^CHECK $name PASS"
  done
  migrated=$(sql "$u" "SELECT count(*) FROM items WHERE qty >= 0 AND id <> 'it-0005'")
  expect "also: each migrated item has its row in every target" eq \
    "$(sql "$u" "SELECT (SELECT count(*) FROM stock_a WHERE src = 'legacy') || '/' || (SELECT count(*) FROM label_a) || '/'
                 || (SELECT count(*) FROM queue_a) || '/' || (SELECT count(*) FROM stock_a s JOIN label_a l USING (item_id)
                 JOIN queue_a q USING (item_id) WHERE s.src = 'legacy')")" "$migrated/$migrated/$migrated/$migrated"
  expect "also: an application row of the same unique key is not ours (rejected by the rule)" eq \
    "$(sql "$u" "SELECT reason FROM mig_meta.rejects WHERE source_table = 'items' AND source_key = 'it-0005'")" item_taken
  expect "also: written counts both targets, not the queue" eq \
    "$(sql "$u" "SELECT counts->'items'->>'written' FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "$((2 * migrated))"
  expect "also: a reference of two targets nulled in both, logged once" eq \
    "$(sql "$u" "SELECT (SELECT count(*) FROM mig_meta.fixups) || '/' || (SELECT count(*) FROM stock_a s JOIN label_a l USING (item_id)
                 JOIN items i ON i.id = s.item_id WHERE i.owner_id IS NOT NULL AND s.owner_id IS NULL AND l.owner_id IS NULL)")" \
    "$(sql "$u" "SELECT n || '/' || n FROM (SELECT count(*) n FROM items i WHERE qty >= 0 AND id <> 'it-0005' AND owner_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM owners o WHERE o.id = i.owner_id)) x")"
  expect "also: notes follow their item (copied, rejected with the item's reason, orphan at finalize)" eq \
    "$(sql "$u" "SELECT (SELECT count(*) FROM notes_a) || '/' || string_agg(reason || ':' || n, ',' ORDER BY reason)
                 FROM (SELECT reason, count(*) n FROM mig_meta.rejects WHERE source_table = 'item_notes' GROUP BY reason) x")" \
    "193/item_rejected:6,orphan_item:1"
  expect "also: a rejected item's notes name its reason" eq \
    "$(sql "$u" "SELECT detail FROM mig_meta.rejects WHERE source_table = 'item_notes' AND source_key = '10'")" \
    "item it-0005 rejected: item_taken"
  expect "also: the queue is not part of migrated (a drained row changes nothing)" eq \
    "$(sql "$u" "DELETE FROM queue_a WHERE item_id = 'it-0001'; SELECT count(*) FROM queue_a")" "$((migrated - 1))"
  declared also "$u"
  expect "also: a second run writes nothing" eq "$?|$(sql "$u" "SELECT counts->'items'->>'written' FROM mig_meta.runs
      ORDER BY run_id DESC LIMIT 1")|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0|0"
  v=$(newdb fw_decl_also_resume)
  declared also "$v" --limit 55 --batch-size 20
  expect "also --limit: partial" eq "$?|$(sql "$v" "SELECT status FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "0|partial"
  declared also "$v" --batch-size 20
  sql "$u" "INSERT INTO queue_a VALUES ('it-0001')" >/dev/null
  expect "also: --limit then a complete run = one run" eq "$(also_state "$v")" "$(also_state "$u")"
  expect "also: the state compared is real" test "$(also_state "$u" | grep -c ' [0-9a-f]\{32\}$')" -eq 6
  v=$(newdb fw_decl_after_stream)
  declared also "$v" --stream --batch-size 30
  expect "after, streamed: exit 0, checks PASS, the same notes, rejects and fixups" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(also_state "$v" | sed -n '4,6p')" "0|0|$(also_state "$u" | sed -n '4,6p')"
  declared also "$v" --stream-also
  expect "also on a streamed phase: refused naming the line" eq "$?|$(grep -c "also.lua:$(grep -n '^      also = ' \
    "$DECLARED/also.lua" | cut -d: -f1): migration.define: phases (items): .also. needs a set-based" err.txt)" "1|1"
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

test_26_declared_in_place() {
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

test_27_batches_grow() {
  local u v w
  u=$(newdb fw_grow); v=$(newdb fw_grow_fixed); w=$(newdb fw_grow_limit)
  # 1h: every batch commits in far under half of it, so each full batch asks for 8 times its rows
  declared items "$u" --batch-time 1h
  expect "grown: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "grown: batches of 50, 400, then the rest" eq "$(grep '^PROGRESS items' out.txt | cut -d' ' -f3 | tr '\n' ' ')" \
    "50/604 450/604 604/604 "
  declared items "$v" --batch-size 50 --batch-time 1h
  expect "--batch-size given: every batch of that size" eq "$(grep -c '^PROGRESS items' out.txt)" 13
  declared items "$w" --batch-time 0
  expect "--batch-time 0: the declared size" eq "$(grep -c '^PROGRESS items' out.txt)" 13
  expect "grown = fixed: rows, rejects, fixups" eq "$(declared_state "$u")" "$(declared_state "$v")"
  u=$(newdb fw_grow_resume)
  declared items "$u" --batch-time 1h --limit 120
  expect "grown, --limit 120: partial after 50 + 70 rows" eq "$?|$(grep '^PROGRESS items' out.txt | cut -d' ' -f3 | tr '\n' ' ')" \
    "0|50/604 120/604 "
  declared items "$u" --batch-time 1h
  expect "grown, resumed: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "grown, stopped and resumed = one run" eq "$(declared_state "$u")" "$(declared_state "$v")"
}

test_28_checks_count_in_one_pass() {
  local u rc
  u=$(newdb fw_counted)
  sql "$u" "CREATE SEQUENCE counted_scans; CREATE FUNCTION counted_items() RETURNS SETOF items LANGUAGE plpgsql AS
            \$\$ BEGIN PERFORM nextval('counted_scans'); RETURN QUERY SELECT * FROM items; END \$\$" >/dev/null
  declared counted "$u"; rc=$?
  expect "count checks: exit 3 (one condition fails)" eq "$rc" 3
  for name in dangling_owners negative_quantities items_and_five_owners no_owner null_prices jit_off; do
    expect "count checks: $name PASS (its rows counted, summed over its FROMs)" has out.txt "^CHECK $name PASS "
  done
  expect "count checks: the failing condition fails its own check only, with the SQL error" \
    has out.txt '^CHECK broken_condition FAIL expected=0 actual=error: .*division by zero'
  expect "count checks: the four over the same FROM were counted by one query" eq "$(sql "$u" "SELECT last_value FROM counted_scans")" 1
  sed -i 's/{JOINED, "true"}, {"owners o", "o.id <= 5"}/{JOINED, "true"}, "o.id <= 5"/' "$(cp "$DECLARED/counted.lua" counted_bad.lua && echo counted_bad.lua)"
  "$MIGHOST" run counted_bad.lua --db "$u" > out.txt 2> err.txt
  expect "count checks: a pair that is not {from, where} is named with its line" \
    has err.txt "counted_bad.lua:$(grep -n 'items_and_five_owners' counted_bad.lua | cut -d: -f1): .*count must be a list of {from, where} pairs"
}

written_items() { sed -n 's/^RESULT .*"items":{[^}]*"written":\([0-9]*\).*/\1/p' out.txt; }

test_29_written_counts_the_rows_inserted() {
  local u v rc written
  # The rows written are the rows the INSERT inserted: a target's trigger that skips a row makes
  # them fewer than the batch's rows.
  u=$(newdb fw_written)
  declared items "$u" --batch-size 50; rc=$?
  written=$(written_items)
  expect "written: the rows in the target" eq "$rc|$written" "0|$(sql "$u" "SELECT count(*) FROM stock_d")"
  v=$(newdb fw_written_trigger)
  sql "$v" "CREATE TABLE stock_d (n serial PRIMARY KEY, item_id text NOT NULL UNIQUE,
      quantity integer NOT NULL CHECK (quantity >= 0), price numeric(12,2) NOT NULL, owner_id integer,
      note text, label text);
    CREATE FUNCTION skip_ownerless() RETURNS trigger LANGUAGE plpgsql AS
      \$\$ BEGIN IF NEW.owner_id IS NULL THEN RETURN NULL; END IF; RETURN NEW; END \$\$;
    CREATE TRIGGER skip_ownerless BEFORE INSERT ON stock_d FOR EACH ROW EXECUTE FUNCTION skip_ownerless()" >/dev/null
  declared items "$v" --batch-size 50
  written=$(written_items)
  expect "written, a trigger skips rows: the rows in the target, fewer than the source's" eq \
    "$written|$(sql "$v" "SELECT $written < count(*) FROM items")" "$(sql "$v" "SELECT count(*) FROM stock_d")|t"
  expect "  and the skipped rows fail items_accounted" has out.txt '^CHECK items_accounted FAIL '
}

test_30_setup_with_more_than_tables() {
  local u
  # A DDL that also makes a view cannot be made beside copies of the referenced tables: setup
  # runs it for real, and the run ends with the declared objects all the same.
  u=$(newdb fw_ddl_view)
  declared_variant items_view 's/ALTER TABLE stock_d ADD CONSTRAINT stock_d_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);/&\n    CREATE VIEW stock_d_owned AS SELECT item_id FROM stock_d WHERE owner_id IS NOT NULL;/'
  "$MIGHOST" run items_view.lua --db "$u" --batch-size 50 > out.txt 2> err.txt
  expect "DDL with a view: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "  the view, the index and the foreign key in place, no scratch schema left" eq "$(sql "$u" "SELECT
      (SELECT count(*) FROM stock_d_owned) = (SELECT count(*) FROM stock_d WHERE owner_id IS NOT NULL)
      AND to_regclass('stock_d_owner_idx') IS NOT NULL
      AND EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'stock_d_owner_fkey' AND convalidated)
      AND NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'mig_ddl_scratch')")" t
  expect "  owners locked as before (the key dropped in setup)" has out.txt '^  lock public.owners: strongest AccessExclusiveLock'
  # A DDL that changes a referenced table changes it for real, never a copy of it.
  u=$(newdb fw_ddl_comment)
  declared_variant items_comment 's/ALTER TABLE stock_d ADD CONSTRAINT stock_d_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);/&\n    COMMENT ON TABLE owners IS '"'"'referenced by stock_d'"'"';/'
  "$MIGHOST" run items_comment.lua --db "$u" --batch-size 50 > out.txt 2> err.txt
  expect "DDL commenting on owners: exit 0, the comment on owners" eq \
    "$?|$(sql "$u" "SELECT obj_description('owners'::regclass, 'pg_class')")" "0|referenced by stock_d"
  declared items "$(newdb fw_ddl_plain)" --batch-size 50
  expect "a DDL of tables only: owners never locked ACCESS EXCLUSIVE" has out.txt '^  lock public.owners: strongest ShareRowExclusiveLock'
}

test_32_fingerprints_before_the_pass() {
  local u
  # A complete, correct run is recognised by fingerprints of the rows, rejects and fixups; a value
  # swapped between two rows (same counts, same values per column) is still found, row by row.
  u=$(newdb fw_fingerprint)
  declared items "$u" --log-level debug
  expect "fingerprints: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "  recognised by the fingerprints" has err.txt "checks of items: the target, its rejects and fixups match the source's fingerprints"
  sql "$u" "UPDATE stock_d d SET price = o.price FROM stock_d o
             WHERE (d.item_id, o.item_id) IN (('it-0002', 'it-0004'), ('it-0004', 'it-0002'))" >/dev/null
  expect "  (two different prices swapped)" eq "$(sql "$u" "SELECT count(DISTINCT price) FROM stock_d WHERE item_id IN ('it-0002', 'it-0004')")" 2
  "$MIGHOST" verify "$DECLARED/items.lua" --db "$u" --log-level debug > out.txt 2> err.txt
  expect "swapped values: verify exits 3, items_values counts the two rows" eq \
    "$?|$(grep '^CHECK items_values ' out.txt | cut -d' ' -f3-5)" "3|FAIL expected=0 actual=2"
  expect "  the fingerprints no longer match" lacks err.txt "match the source's fingerprints"
  # A row of another writer in the target is no row of the migration's: the pass says so.
  u=$(newdb fw_fingerprint_other)
  declared items "$u"
  sql "$u" "INSERT INTO stock_d (item_id, quantity, price) VALUES ('written-by-the-application', 1, 1)" >/dev/null
  "$MIGHOST" verify "$DECLARED/items.lua" --db "$u" > out.txt 2> err.txt
  expect "another writer's row: verify exits 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
}
