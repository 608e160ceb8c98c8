-- mighost.check: reconcile (row by row and through hashed buckets), fingerprint, and table
-- names that try to be SQL. Each case runs on a fresh database (tests/support/lua_harness.cpp).
local db, check = require "mighost.db", require "mighost.check"
local eq = require("expect").eq

return {
  {"reconcile finds missing, extra and different rows by key", function(conn)
    conn:exec([[
      CREATE TABLE src (id int, part text, a text, b numeric, PRIMARY KEY (id, part));
      INSERT INTO src SELECT g, 'p' || (g % 3), 'v' || g, g * 1.5 FROM generate_series(1, 50) g;
      CREATE TABLE dst AS TABLE src;
      ALTER TABLE dst ADD COLUMN only_in_dst int DEFAULT 7;  -- not on both sides: not compared
    ]])
    local spec = {left = "src", right = "dst", key = {"id", "part"}, samples = 5}
    local r = check.reconcile(conn, spec)
    eq(r.passed, true, "identical: " .. r.detail)
    eq(r.method, "rows", "small tables are compared row by row")
    eq(r.left_rows .. "/" .. r.right_rows, "50/50", "row counts")

    conn:exec([[
      DELETE FROM dst WHERE id = 7;
      INSERT INTO dst VALUES (1000, 'p1', 'new', 0, NULL);
      UPDATE src SET a = NULL WHERE id = 12;   -- NULL on the left, '' on the right: different
      UPDATE dst SET a = '' WHERE id = 12;
    ]])
    r = check.reconcile(conn, spec)
    eq(r.passed, false, "differences")
    eq(r.missing .. "/" .. r.extra .. "/" .. r.different, "1/1/1", "missing/extra/different")
    eq(r.actual, "3", "actual is the number of differences")
    eq(r.missing_keys[1], "7|p1", "missing key (composite keys joined with |)")
    eq(r.extra_keys[1], "1000|p1", "extra key")
    eq(r.different_keys[1], "12|p0", "different key")
    eq(table.concat(r.samples, ","), "missing 7|p1,extra 1000|p1,different 12|p0", "samples")

    r = check.reconcile(conn, {left = "src", right = "dst", key = {"id", "part"}, columns = {"b"}})
    eq(r.different .. "/" .. r.missing, "0/1", "only the listed columns are compared")

    conn:exec("UPDATE dst SET a = 'w' || id WHERE id BETWEEN 20 AND 40")
    r = check.reconcile(conn, {left = "src", right = {sql = "SELECT * FROM dst"}, key = {"id", "part"}, samples = 2})
    eq(r.different, 22, "21 changed plus id 12")
    eq(table.concat(r.different_keys, ","), "12|p0,20|p2", "at most `samples` keys, sorted")

    local other = db.connect()
    r = check.reconcile(conn, {left = "src", right = "dst", right_conn = other, key = {"id", "part"}})
    eq(r.missing .. "/" .. r.extra .. "/" .. r.different, "1/1/22", "right side on another connection")

    conn:exec("INSERT INTO dst SELECT * FROM dst WHERE id = 1")
    r = check.reconcile(conn, {left = "src", right = "dst", key = "id", columns = {"b"}})
    eq(r.duplicates, 1, "a key twice on one side is reported")
  end},

  {"reconcile on a large table compares hashed key buckets first", function(conn)
    conn:exec([[
      CREATE TABLE big_src AS SELECT g AS id, md5(g::text) AS payload, g * 0.01 AS amount
        FROM generate_series(1, 20000) g;
      CREATE TABLE big_dst AS TABLE big_src;
    ]])
    local spec = {left = "big_src", right = "big_dst", key = "id"}
    local r = check.reconcile(conn, spec)
    eq(r.passed, true, "identical: " .. r.detail)
    eq(r.method, "buckets", "20000 rows go through buckets")
    eq(r.buckets .. "/" .. r.buckets_differing .. "/" .. r.rows_fetched, "1024/0/0", "no bucket differs, no row fetched")
    eq(r.left_rows .. "/" .. r.right_rows, "20000/20000", "row counts from the buckets")

    conn:exec([[
      DELETE FROM big_dst WHERE id = 777;
      INSERT INTO big_dst VALUES (20001, 'x', 0);
      UPDATE big_dst SET payload = payload || '.' WHERE id = 15000;
    ]])
    r = check.reconcile(conn, spec)
    eq(r.method, "buckets", "bucket path")
    eq(r.missing .. "/" .. r.extra .. "/" .. r.different, "1/1/1", "missing/extra/different")
    eq(r.missing_keys[1] .. "," .. r.extra_keys[1] .. "," .. r.different_keys[1], "777,20001,15000", "keys")
    eq(r.buckets_differing >= 1 and r.buckets_differing <= 3, true, "only the changed buckets differ: " .. r.detail)
    eq(r.rows_fetched < 300, true, "only their rows are fetched: " .. r.rows_fetched)

    -- The same answer row by row, which fetches everything.
    spec.threshold = 100000
    local rows = check.reconcile(conn, spec)
    eq(rows.method .. " " .. rows.rows_fetched, "rows 40000", "forced row path")
    eq(rows.missing .. "/" .. rows.extra .. "/" .. rows.different, "1/1/1", "same result")
    spec.threshold, spec.buckets = 10, 16
    r = check.reconcile(conn, spec)
    eq(r.buckets .. " " .. r.missing .. "/" .. r.extra .. "/" .. r.different, "16 1/1/1", "fewer, bigger buckets")
    eq(pcall(check.reconcile, conn, {left = "big_src", right = "big_dst", key = "id", threshold = 10, buckets = 100}),
       false, "buckets must be a power of two")

    -- Many differences: the counts are exact and the samples are the smallest keys.
    conn:exec("UPDATE big_dst SET amount = amount + 1 WHERE id <= 500")
    r = check.reconcile(conn, {left = "big_src", right = "big_dst", key = "id", samples = 3})
    eq(r.different, 501, "500 more rows differ")
    eq(table.concat(r.different_keys, ","), "1,10,100", "smallest keys (as text)")
    eq(r.buckets_differing > 300, true, "most buckets differ now: " .. r.detail)
  end},

  {"fingerprint ignores physical order and sees one changed character", function(conn)
    conn:exec([[
      CREATE TABLE fp (id int PRIMARY KEY, name text, v numeric, note text);
      INSERT INTO fp SELECT g, md5(g::text), g / 7.0, CASE WHEN g % 10 = 0 THEN NULL ELSE '' END
        FROM generate_series(1, 1000) g;
      CREATE INDEX fp_name ON fp (name);
    ]])
    local f1, n = check.fingerprint(conn, "fp")
    eq(#f1 .. " " .. n, "32 1000", "an md5 hex digest and the row count")
    local first = conn:scalar("SELECT id FROM fp LIMIT 1")
    conn:exec("CLUSTER fp USING fp_name")
    local moved = conn:scalar("SELECT id FROM fp LIMIT 1")
    eq(first ~= moved, true, "CLUSTER changed the physical order")
    eq(check.fingerprint(conn, "fp"), f1, "same fingerprint after CLUSTER")
    conn:exec([[CREATE TEMP TABLE keep AS SELECT * FROM fp; DELETE FROM fp;
                INSERT INTO fp SELECT * FROM keep ORDER BY id DESC]])
    eq(check.fingerprint(conn, "fp"), f1, "same after delete + reinsert in reverse")
    conn:exec("CREATE TABLE fp_copy AS SELECT * FROM fp ORDER BY random()")
    eq(check.fingerprint(conn, "fp_copy"), f1, "a shuffled copy")
    eq(check.fingerprint(conn, {sql = "SELECT * FROM fp ORDER BY name"}), f1, "a query")
    eq(check.fingerprint_equal(conn, {left = "fp", right = "fp_copy"}).passed, true, "fingerprint_equal")

    conn:exec("UPDATE fp_copy SET name = overlay(name placing 'Z' from 5 for 1) WHERE id = 500")
    eq(check.fingerprint(conn, "fp_copy") ~= f1, true, "one character changed")
    local r = check.fingerprint_equal(conn, {name = "fp_unchanged", table = "fp_copy", expected = f1})
    eq(r.passed == false and r.expected, f1, "fingerprint_equal fails")
    conn:exec("UPDATE fp_copy SET name = (SELECT name FROM fp WHERE id = 500) WHERE id = 500")
    eq(check.fingerprint(conn, "fp_copy"), f1, "and is equal again when changed back")
    conn:exec("UPDATE fp_copy SET note = NULL WHERE id = 1")
    eq(check.fingerprint(conn, "fp_copy") ~= f1, true, "'' became NULL")

    -- Duplicates count: {a, a, b} differs from {a, b, b} (an XOR of row hashes would not see it).
    conn:exec("CREATE TABLE d1 (x text); CREATE TABLE d2 (x text); INSERT INTO d1 VALUES ('a'), ('a'), ('b');"
              .. " INSERT INTO d2 VALUES ('a'), ('b'), ('b')")
    eq(check.fingerprint(conn, "d1") ~= check.fingerprint(conn, "d2"), true, "multisets differ")
  end},

  {"a table name that tries to be SQL is only a name, in every check", function(conn)
    local T, P = 'x"; DROP TABLE y; --', "p'; DROP TABLE y; --"
    local K, V, R, PK = 'k"ey', "va'l", 'p"id', "i'd"
    local q = db.quote_ident
    conn:exec("CREATE TABLE y (a int); CREATE SCHEMA " .. q(T))
    conn:exec("CREATE TABLE " .. q(P) .. " (" .. q(PK) .. " int PRIMARY KEY)")
    conn:exec("INSERT INTO " .. q(P) .. " SELECT generate_series(1, 3)")
    for _, t in ipairs({q(T), q(T) .. "." .. q(T)}) do
      conn:exec("CREATE TABLE " .. t .. " (" .. q(K) .. " int PRIMARY KEY, " .. q(V) .. " numeric, " .. q(R) .. " int)")
      conn:exec("INSERT INTO " .. t .. " SELECT g, g * 1.25, g % 3 + 1 FROM generate_series(1, 30) g")
    end
    conn:exec("CREATE INDEX " .. q('i"; DROP TABLE y; --') .. " ON " .. q(T) .. " (" .. q(V) .. "); ANALYZE " .. q(T))
    local pair = {T, T}  -- schema and table both weird
    local results = {
      check.count_equal(conn, {left = T, right = pair}),
      check.sum_equal(conn, {left = T, right = pair, column = V}),
      check.no_orphans(conn, {child = T, column = R, parent = P, parent_column = PK}),
      check.no_orphans(conn, {child = pair, column = R, parent = {"public", P}, parent_column = PK}),
      check.unique(conn, {table = pair, columns = {K, R}}),
      check.not_null(conn, {table = T, columns = {K, V, R}, key = K}),
      check.values_in(conn, {table = pair, column = R, values = {1, 2, 3}}),
      check.reconcile(conn, {left = T, right = pair, key = K}),
      check.reconcile(conn, {left = T, right = pair, key = K, threshold = 5, buckets = 8}),
      check.fingerprint_equal(conn, {left = T, right = pair}),
      check.query_zero(conn, {sql = "SELECT count(*) FROM " .. q(T) .. " WHERE " .. q(V) .. " < 0"}),
      check.query_empty(conn, {sql = "SELECT * FROM " .. q(T) .. "." .. q(T) .. " WHERE " .. q(K) .. " > 30"}),
    }
    conn:exec("SET enable_seqscan = off")
    results[#results + 1] = check.uses_index(conn, {sql = "SELECT * FROM " .. q(T) .. " WHERE " .. q(V) .. " = 2.5",
                                                    index = 'i"; DROP TABLE y; --'})
    for i, r in ipairs(results) do eq(r.passed, true, "check " .. i .. " (" .. r.name .. ") " .. r.actual) end

    -- And they still find problems there.
    conn:exec("UPDATE " .. q(T) .. "." .. q(T) .. " SET " .. q(V) .. " = 0, " .. q(R) .. " = 9 WHERE " .. q(K) .. " = 4")
    local r = check.reconcile(conn, {left = T, right = pair, key = K})
    eq(r.different .. " " .. r.different_keys[1], "1 4", "reconcile")
    r = check.no_orphans(conn, {child = pair, column = R, parent = P, parent_column = PK})
    eq(r.actual .. " " .. r.samples[1], "1 9", "no_orphans")
    eq(check.sum_equal(conn, {left = T, right = pair, column = V}).passed, false, "sum_equal")
    eq(check.values_in(conn, {table = pair, column = R, values = {1, 2, 3}}).samples[1], "9", "values_in")
    eq(check.fingerprint_equal(conn, {left = T, right = pair}).passed, false, "fingerprint")
    eq(conn:scalar("SELECT to_regclass('public.y') IS NOT NULL"), true, "table y survived")
  end},
}
