-- mighost.check from Lua on a real server: every check passes on good data and fails on bad.
-- Each case runs on a fresh database (tests/support/lua_harness.cpp).
local check = require "mighost.check"
local eq = require("expect").eq

-- Two related tables and an exact copy of the child, for the checks to compare.
local function fixture(conn)
  conn:exec([[
    CREATE TABLE parent (id int PRIMARY KEY, code text);
    INSERT INTO parent VALUES (1, 'a'), (2, 'b'), (3, 'c');
    CREATE TABLE child (id int PRIMARY KEY, parent_id int, qty numeric(30,6), status text);
    INSERT INTO child VALUES (1, 1, '12345678901234.123456', 'a'), (2, 2, '0.000001', 'b'),
                             (3, NULL, '1', 'a'), (4, 3, '2', 'b');
    CREATE TABLE child_copy AS TABLE child;
  ]])
end

return {
  {"count_equal", function(conn)
    fixture(conn)
    local r = check.count_equal(conn, {name = "copy_count", left = "child", right = "child_copy"})
    eq(r.passed, true, "equal counts")
    eq(r.expected .. "/" .. r.actual, "4/4", "expected/actual")
    eq(tostring(r), "CHECK copy_count PASS expected=4 actual=4", "CHECK line")
    conn:exec("DELETE FROM child_copy WHERE id = 4")
    r = check.count_equal(conn, {left = "child", right = "public.child_copy"})
    eq(r.passed, false, "one row lost")
    eq(r.name, "count_equal", "default name")
    eq(r.expected .. "/" .. r.actual, "4/3", "expected/actual after the loss")
    eq(tostring(r), "CHECK count_equal FAIL expected=4 actual=3", "FAIL line")
    eq(check.count_equal(conn, {left = 2, right = {table = "child", where = "status = 'a'"}}).passed, true, "number and where")
    eq(check.count_equal(conn, {left = 3, right = {sql = "SELECT * FROM child WHERE status = 'a';"}}).passed, false, "query")
  end},

  {"sum_equal compares exactly, in SQL", function(conn)
    fixture(conn)
    local r = check.sum_equal(conn, {left = "child", right = "child_copy", column = "qty"})
    eq(r.passed, true, "equal sums")
    eq(r.expected, "12345678901237.123457", "exact sum text")
    conn:exec("UPDATE child_copy SET qty = qty + 0.000001 WHERE id = 1")
    r = check.sum_equal(conn, {left = "child", right = "child_copy", column = "qty"})
    eq(tonumber(r.expected) == tonumber(r.actual), true, "as doubles the two sums are the same number")
    eq(r.passed, false, "but not as numerics")
    eq(r.actual, "12345678901237.123458", "actual")
    eq(check.sum_equal(conn, {left = {value = "12345678901237.123457"}, right = "child", column = "qty"}).passed, true,
       "a decimal constant")
    eq(check.sum_equal(conn, {left = "child", right = "child_copy", left_expr = "s.qty + 0.000001",
                              right_column = "qty"}).passed, false, "expression on one side: one row only differs")
    conn:exec("DELETE FROM child_copy")
    r = check.sum_equal(conn, {left = 0, right = "child_copy", column = "qty"})
    eq(r.passed and r.actual, "0", "an empty sum is 0")
  end},

  {"no_orphans", function(conn)
    fixture(conn)
    local spec = {child = "child", column = "parent_id", parent = "parent", parent_column = "id"}
    local r = check.no_orphans(conn, spec)
    eq(r.passed, true, "a NULL reference is no orphan")
    eq(r.actual, "0", "no orphans")
    conn:exec("INSERT INTO child VALUES (5, 99, 0, 'a'), (6, 98, 0, 'a'), (7, 99, 0, 'b')")
    spec.samples = 1
    r = check.no_orphans(conn, spec)
    eq(r.passed, false, "orphans")
    eq(r.actual, "3", "orphan rows")
    eq(#r.samples .. ":" .. r.samples[1], "1:98", "one sample, the smallest key")
    r = check.no_orphans(conn, {child = "child", columns = {"parent_id", "status"}, parent = "parent",
                                parent_columns = {"id", "code"}})
    eq(r.actual, "4", "composite: (3,b) and the three unknown parents")
  end},

  {"unique and not_null", function(conn)
    fixture(conn)
    eq(check.unique(conn, {table = "child_copy", columns = "id"}).passed, true, "unique ids")
    eq(check.unique(conn, {table = "child_copy", columns = {"parent_id", "status"}}).passed, true, "composite")
    conn:exec("INSERT INTO child_copy VALUES (1, 1, 0, 'x'), (1, 2, 0, 'y'), (2, 2, 0, 'b'), (9, NULL, 0, 'a')")
    local r = check.unique(conn, {table = "child_copy", columns = "id"})
    eq(r.passed, false, "duplicate ids")
    eq(r.actual, "3", "rows beyond the first of each key")
    eq(table.concat(r.samples, ","), "1,2", "duplicated keys")
    r = check.unique(conn, {table = "child_copy", columns = {"parent_id", "status"}})
    eq(r.actual .. " " .. table.concat(r.samples, ","), "1 2|b", "NULLs are distinct, (2,b) is not")

    r = check.not_null(conn, {table = "child", columns = {"id", "qty"}})
    eq(r.passed, true, "no NULL ids or quantities")
    r = check.not_null(conn, {table = "child", columns = {"qty", "parent_id"}, key = "id"})
    eq(r.passed, false, "a NULL parent_id")
    eq(r.actual .. " " .. r.samples[1], "1 3", "sample key")
    r = check.not_null(conn, {table = "child", column = "parent_id"})
    eq(r.samples[1], "(3,,1.000000,a)", "without a key the sample is the row")
  end},

  {"values_in", function(conn)
    fixture(conn)
    eq(check.values_in(conn, {table = "child", column = "status", values = {"a", "b"}}).passed, true, "all allowed")
    eq(check.values_in(conn, {table = "child", column = "parent_id", values = {1, 2, 3}}).passed, true, "numbers")
    conn:exec("INSERT INTO child VALUES (5, 1, 0, 'zz'), (6, 1, 0, NULL), (7, 1, 0, 'A')")
    local r = check.values_in(conn, {table = "child", column = "status", values = {"a", "b"}})
    eq(r.passed, false, "zz is not allowed")
    eq(r.actual .. " " .. table.concat(r.samples, ","), "2 A,zz", "NULL allowed by default; case matters")
    r = check.values_in(conn, {table = "child", column = "status", values = {"a", "b"}, allow_null = false})
    eq(r.actual .. " " .. table.concat(r.samples, ","), "3 A,NULL,zz", "NULL refused")
  end},

  {"query_zero and query_empty", function(conn)
    fixture(conn)
    local r = check.query_zero(conn, {name = "no_negative", sql = "SELECT count(*) FROM child WHERE qty < 0"})
    eq(tostring(r), "CHECK no_negative PASS expected=0 actual=0", "pass")
    r = check.query_zero(conn, {sql = "SELECT count(*) AS violations FROM child WHERE status = $1 -- a comment\n;",
                                params = {"a"}})
    eq(r.passed, false, "two rows with status a")
    eq(r.actual, "2", "violations")
    eq(check.query_zero(conn, {sql = "SELECT count(*) FROM child", expected = 4}).passed, true, "expected 4")
    eq(check.query_zero(conn, {sql = "SELECT sum(qty) FROM child", expected = "12345678901237.123457"}).passed, true,
       "exact numeric expected")
    r = check.query_zero(conn, {sql = "SELECT 1 WHERE false"})
    eq(r.passed == false and r.actual, "no row", "no row fails")
    r = check.query_zero(conn, {sql = "SELECT NULL::int"})
    eq(r.passed == false and r.actual, "NULL", "NULL fails")

    eq(check.query_empty(conn, {sql = "SELECT * FROM child WHERE qty < 0"}).passed, true, "empty")
    r = check.query_empty(conn, {sql = "SELECT id, status FROM child WHERE status = $1", params = {"b"}})
    eq(r.actual .. " " .. table.concat(r.samples, ";"), "2 (2,b);(4,b)", "rows as samples")
  end},

  {"uses_index reads EXPLAIN (FORMAT JSON)", function(conn)
    fixture(conn)
    conn:exec("CREATE INDEX child_status_idx ON child (status); ANALYZE child; SET enable_seqscan = off")
    local spec = {sql = "SELECT id FROM child WHERE status = $1", params = {"a"}, index = "child_status_idx"}
    local r = check.uses_index(conn, spec)
    eq(r.passed, true, "the index is used: " .. table.concat(r.samples, "; "))
    eq(r.actual, "child_status_idx", "actual names the index")
    local mentions = false
    for _, s in ipairs(r.samples) do mentions = mentions or s:find("using child_status_idx", 1, true) ~= nil end
    eq(mentions, true, "samples describe the plan: " .. table.concat(r.samples, "; "))
    spec.index = "public.child_status_idx"
    eq(check.uses_index(conn, spec).passed, true, "qualified index name")
    r = check.uses_index(conn, {sql = "SELECT id FROM child WHERE qty > 0", index = "child_status_idx"})
    eq(r.passed, false, "another plan: " .. r.actual)
    conn:exec("RESET enable_seqscan")
    r = check.uses_index(conn, {sql = "SELECT * FROM child", index = "child_status_idx"})
    eq(r.passed == false and r.actual, "no index", "a sequential scan")
    eq(r.samples[1], "Seq Scan on child", "plan node")
  end},
}
