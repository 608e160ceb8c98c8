# A new table's primary key built after its rows (sourced by run.sh): absent while the batches
# run, back under its declared name when the phase ends, fails or dies; kept during the load when
# the source cannot prove the keys unique.

# fw_probe(text) returns its argument; it logs whether stock_k has its primary key while the
# batches run, and fails (fail_after) or ends its own session (kill_after) once that many rows
# are committed.
probe_fixture() {  # probe_fixture URL
  sql "$1" "CREATE TABLE fw_probe_log (has_key boolean, committed bigint);
    CREATE TABLE fw_probe_ctl (fail_after bigint, kill_after bigint);
    INSERT INTO fw_probe_ctl VALUES (NULL, NULL);
    CREATE TABLE items_plain AS SELECT * FROM items;
    CREATE FUNCTION fw_probe(t text) RETURNS text LANGUAGE plpgsql VOLATILE AS \$\$
    DECLARE n bigint := (SELECT count(*) FROM stock_k);
    BEGIN
      INSERT INTO fw_probe_log SELECT EXISTS (SELECT 1 FROM pg_constraint
        WHERE conrelid = 'stock_k'::regclass AND contype = 'p'), n;
      IF n >= (SELECT fail_after FROM fw_probe_ctl) THEN RAISE EXCEPTION 'fw_probe: failing after % rows', n; END IF;
      IF n >= (SELECT kill_after FROM fw_probe_ctl) THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
      RETURN t;
    END \$\$;" >/dev/null
}

# "true" when stock_k has its primary key, under the declared name, on item_id.
has_key() { sql "$1" "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'stock_k'::regclass
  AND contype = 'p' AND conname = 'stock_k_pkey' AND pg_get_constraintdef(oid) = 'PRIMARY KEY (item_id)')"; }
# "without key|with key": how many probe calls (the batches', then the checks') saw stock_k each way.
probe_seen() { sql "$1" "SELECT count(*) FILTER (WHERE NOT has_key) || '|' || count(*) FILTER (WHERE has_key)
  FROM fw_probe_log"; }
keyed() { "$MIGHOST" run "$DECLARED/keyed.lua" --db "$@" > out.txt 2> err.txt; }

test_33_primary_key_after_the_rows() {
  local u ref
  ref=$(newdb fw_key_ref)
  keyed "$ref"
  expect "keyed copy: exit 0, every check PASS" eq "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')" "0|0"
  expect "  the primary key built after the rows, under its declared name" eq "$(has_key "$ref")" t
  expect "  said so" has err.txt 'phase items: the primary key stock_k_pkey of stock_k is built after the rows'
  expect "  the checkpoint lists no key left to build" eq "$(sql "$ref" "SELECT checkpoint -> '~deferred_keys'
      FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "[]"
  u=$(newdb fw_key_probe); probe_fixture "$u"
  keyed "$u" --probe
  expect "probed: exit 0; every batch ran without the key" eq "$?|$(sql "$u" "SELECT bool_and(NOT has_key)
      FROM fw_probe_log WHERE committed < (SELECT count(*) FROM stock_k)")" "0|t"
  expect "  the key is back, the rows are the reference's" eq "$(has_key "$u")|$(fp "$u" stock_k)" "t|$(fp "$ref" stock_k)"
  u=$(newdb fw_key_workers); probe_fixture "$u"
  keyed "$u" --probe --workers 2
  expect "two workers: exit 0, every batch without the key, the key back, the reference's rows" eq \
    "$?|$(sql "$u" "SELECT bool_and(NOT has_key) FROM fw_probe_log WHERE committed < (SELECT count(*) FROM stock_k)")|$(has_key "$u")|$(fp "$u" stock_k)" \
    "0|t|t|$(fp "$ref" stock_k)"
  # A second run finds every row migrated: the key stays, nothing is written.
  keyed "$u"
  expect "  a second run: exit 0, 0 written, the key in place" eq "$?|$(grep -c '"written":0}' out.txt)|$(has_key "$u")" "0|1|t"
}

test_34_primary_key_back_after_a_failure() {
  local u ref
  ref=$(newdb fw_key_ref2); keyed "$ref"
  # A batch that fails: the run fails, the key comes back at once, and a rerun completes the copy.
  u=$(newdb fw_key_fail); probe_fixture "$u"
  sql "$u" "UPDATE fw_probe_ctl SET fail_after = 100" >/dev/null
  keyed "$u" --probe
  expect "a failing batch: exit 1, the key back before the run ends" eq "$?|$(has_key "$u")" "1|t"
  expect "  the error is the batch's" has err.txt 'fw_probe: failing after'
  sql "$u" "UPDATE fw_probe_ctl SET fail_after = NULL" >/dev/null
  keyed "$u" --probe
  expect "  a rerun: exit 0, every check PASS, the reference's rows" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(fp "$u" stock_k)" "0|0|$(fp "$ref" stock_k)"
  # A session that dies mid-phase cannot add the key back: the next run's setup does, and resumes.
  u=$(newdb fw_key_kill); probe_fixture "$u"
  sql "$u" "UPDATE fw_probe_ctl SET kill_after = 100" >/dev/null
  keyed "$u" --probe
  expect "a session ended mid-phase: the run fails, the key is missing, the checkpoint lists it" eq \
    "$(test $? -ne 0 && echo failed)|$(has_key "$u")|$(sql "$u" "SELECT checkpoint -> '~deferred_keys' -> 0 ->> 'name'
      FROM mig_meta.runs ORDER BY run_id DESC LIMIT 1")" "failed|f|stock_k_pkey"
  sql "$u" "UPDATE fw_probe_ctl SET kill_after = NULL" >/dev/null
  keyed "$u" --probe
  expect "  the next run: exit 0, every check PASS, the key back, the reference's rows" eq \
    "$?|$(grep '^CHECK ' out.txt | grep -vc ' PASS ')|$(has_key "$u")|$(fp "$u" stock_k)" "0|0|t|$(fp "$ref" stock_k)"
  expect "  its setup added the key" has err.txt 'added the key an earlier run left out: ALTER TABLE "stock_k" ADD CONSTRAINT "stock_k_pkey" PRIMARY KEY (item_id)'
}

test_35_primary_key_kept_without_proof() {
  local u
  # A source without a unique index could bring a key twice: the key is kept while the rows load,
  # and a duplicate fails its batch as it did before.
  u=$(newdb fw_key_plain); probe_fixture "$u"
  keyed "$u" --probe --plain-source
  expect "a source without a unique index: exit 0, the key held during every batch" eq \
    "$?|$(probe_seen "$u" | cut -d'|' -f1)|$(has_key "$u")" "0|0|t"
  expect "  nothing said about building it later" lacks err.txt 'built after the rows'
  # A reference rule on the key column could replace the value (a fallback, NULL): the key stays.
  u=$(newdb fw_key_ref_rule); probe_fixture "$u"
  keyed "$u" --probe --ref-key
  expect "a reference rule on the key: exit 0, the key held during every batch" eq \
    "$?|$(probe_seen "$u" | cut -d'|' -f1)|$(has_key "$u")" "0|0|t"
  u=$(newdb fw_key_dup); probe_fixture "$u"
  sql "$u" "INSERT INTO items_plain SELECT * FROM items WHERE id = 'it-0003'" >/dev/null
  keyed "$u" --plain-source
  expect "  a duplicate in it: exit 1, unique violation, no row of its batch kept" eq \
    "$?|$(grep -c '23505' err.txt)|$(sql "$u" "SELECT count(*) FROM stock_k WHERE item_id = 'it-0003'")" "1|1|0"
}
