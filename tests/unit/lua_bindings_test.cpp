/// \file mighost.db bindings driven from Lua: every call returns exactly its results (a C function
/// that leaks or loses stack slots returns the wrong count), protected calls leave the C stack
/// where it was, and C++ exceptions reach Lua as their own message.
#include "lua_harness.hpp"

#include <string>

using mighost::test::lua_env;
namespace lua = mighost::lua;

namespace {

/// lua::pcall with nresults = 0 must leave the stack exactly where it was, ok or not.
bool pcall_balanced(lua_env& env, const std::string& code, bool expect_ok)
{
  lua_State* L = env.L();
  int before = lua_gettop(L);
  if (luaL_loadstring(L, code.c_str()) != 0) {
    lua_pop(L, 1);
    return false;
  }
  lua::call_status st = lua::pcall(L, 0, 0);
  return st.ok == expect_ok && lua_gettop(L) == before;
}

} // namespace

TEST_CASE("query, exec, scalar, each and rows return exactly their results", "[lua_bind]")
{
  lua_env env("bind_stack");
  CHECK(env.result_count("return conn:exec('CREATE TABLE t (id int PRIMARY KEY, v text)')") == 1);
  CHECK(env.result_count("return conn:exec('INSERT INTO t VALUES ($1, $2), ($3, $4)', 1, 'a', 2, 'b')") == 1);
  CHECK(env.eval("return conn:exec('UPDATE t SET v = v || $1', '!')") == "2");
  CHECK(env.result_count("return conn:query('SELECT * FROM t ORDER BY id')") == 1);
  CHECK(env.result_count("return conn:query('SELECT * FROM t WHERE id = $1', 2)") == 1);
  CHECK(env.eval("local r = conn:query('SELECT * FROM t ORDER BY id') "
                 "return #r .. ' ' .. r[2].v .. ' ' .. table.concat(r.columns, ',') .. ' ' .. table.concat(r.types, ',')") ==
        "2 b! id,v int4,text");
  CHECK(env.result_count("return conn:scalar('SELECT v FROM t WHERE id = $1', 1)") == 1);
  CHECK(env.result_count("return conn:scalar('SELECT 1 WHERE false')") == 1);  // nil, still one
  CHECK(env.eval("return conn:scalar('SELECT NULL::int')") == "NULL");
  CHECK(env.result_count("return conn:each('SELECT g FROM generate_series(1, 10) g', nil, function() end, 3)") == 1);
  CHECK(env.eval("return conn:each('SELECT g FROM generate_series(1, $1) g', {7}, function() end, 2)") == "7");
  CHECK(env.result_count("return conn:rows('SELECT id FROM t')") == 1);
  CHECK(env.eval("local s = 0 for r in conn:rows('SELECT id FROM t WHERE id >= $1', 1) do s = s + r.id end return s") == "3");
}

TEST_CASE("copy_in and copy_out return exactly their results", "[lua_bind]")
{
  lua_env env("bind_copy");
  REQUIRE(env.run("conn:exec('CREATE TABLE t (id int, v text)')") == "");
  CHECK(env.result_count("w = conn:copy_in('t', {'id', 'v'}) return w") == 1);
  CHECK(env.result_count("return w:write({1, 'one'})") == 0);
  CHECK(env.result_count("return w:write({2, db.NULL})") == 0);
  CHECK(env.result_count("return w:close()") == 1);
  CHECK(env.eval("return conn:scalar('SELECT count(*) FROM t')") == "2");
  CHECK(env.result_count("it = conn:copy_out('t') return it") == 1);
  CHECK(env.result_count("return it()") == 1);
  CHECK(env.result_count("return it()") == 1);
  CHECK(env.eval("return it()") == "nil");  // the end
  CHECK(env.eval("return it() == nil") == "true");  // and stays there
  CHECK(env.eval("local n = 0 for row in conn:copy_out('SELECT * FROM t ORDER BY id') do n = n + #row end return n") == "4");
  // An abandoned iterator does not block the next statement.
  CHECK(env.eval("local it2 = conn:copy_out('SELECT g FROM generate_series(1, 1000) g') it2() "
                 "return conn:scalar('SELECT 42')") == "42");
  CHECK(env.result_count("local w2 = conn:copy_in('t', {'id'}) w2:abort('no') return conn:scalar('SELECT count(*) FROM t')") == 1);
  CHECK(env.eval("return conn:scalar('SELECT count(*) FROM t')") == "2");
}

TEST_CASE("tx returns the function's results; commit, rollback and savepoints", "[lua_bind]")
{
  lua_env env("bind_tx");
  REQUIRE(env.run("conn:exec('CREATE TABLE t (id int PRIMARY KEY)')") == "");
  CHECK(env.result_count("return conn:tx(function(a, b) return a, b, nil end, 1, 2)") == 3);
  CHECK(env.result_count("return conn:tx(function() end)") == 0);
  CHECK(env.eval("local a, b, c = conn:tx(function(x) return x, 'y', conn:in_tx() end, 'x') return a .. b .. c") == "xy1");
  CHECK(env.result_count("return conn:tx(function() return conn:tx(function() return 1, 2 end) end)") == 2);
  CHECK(env.eval("return conn:tx(function() return conn:tx(function() return conn:in_tx() end) end)") == "2");
  // Commit.
  CHECK(env.run("conn:tx(function() conn:exec('INSERT INTO t VALUES (1)') end)") == "");
  // Rollback: error() inside, re-raised unchanged.
  CHECK(env.result_count("return pcall(conn.tx, conn, function() conn:exec('INSERT INTO t VALUES (2)') error('boom', 0) end)") == 2);
  CHECK(env.eval("return select(2, pcall(conn.tx, conn, function() error('boom', 0) end))") == "boom");
  // Nested: the inner savepoint rolls back, the outer work stays.
  CHECK(env.run(R"lua(
    conn:tx(function()
      conn:exec('INSERT INTO t VALUES (3)')
      local ok = pcall(conn.tx, conn, function() conn:exec('INSERT INTO t VALUES (4)') error('inner') end)
      assert(not ok and conn:in_tx() == 1)
      conn:exec('INSERT INTO t VALUES (5)')
    end))lua") == "");
  CHECK(env.eval("return conn:scalar('SELECT string_agg(id::text, \\',\\' ORDER BY id) FROM t')") == "1,3,5");
  CHECK(env.eval("return conn:in_tx()") == "0");
}

TEST_CASE("protected calls leave the C stack where it was", "[lua_bind]")
{
  lua_env env("bind_pcall");
  CHECK(pcall_balanced(env, "conn:query('SELECT 1')", true));
  CHECK(pcall_balanced(env, "return conn:query('SELECT 1'), 2, 3", true));
  CHECK(pcall_balanced(env, "conn:query('SELEC 1')", false));
  CHECK(pcall_balanced(env, "conn:query('SELECT $1::int', function() end)", false));
  CHECK(pcall_balanced(env, "error('plain')", false));
  CHECK(pcall_balanced(env, "error(setmetatable({}, {__tostring = function() return 'obj' end}))", false));
  CHECK(pcall_balanced(env, "error()", false));
  CHECK(pcall_balanced(env, "require('mighost.script').exit(3)", false));
}

TEST_CASE("quote_ident and quote_literal give SQL that reads back the same text", "[lua_bind]")
{
  lua_env env("bind_quote");
  CHECK(env.result_count("return db.quote_ident('x')") == 1);
  CHECK(env.result_count("return db.quote_literal('x')") == 1);
  CHECK(env.eval("return db.quote_ident('a\"b')") == "\"a\"\"b\"");
  CHECK(env.eval("return db.quote_literal(\"it's\")") == "'it''s'");
  CHECK(env.eval("return db.quote_literal('a\\\\b')") == "E'a\\\\b'");
  CHECK(env.eval("return db.quote_literal(nil)") == "NULL");
  CHECK(env.eval("return db.quote_literal(db.NULL)") == "NULL");
  CHECK(env.run(R"lua(
    local samples = {"plain", "it's", "a\\b", "\\'; DROP TABLE x; --", "tab\tnl\ncr\r", "é 漢字 😀", "", "''", "\\\\"}
    for _, s in ipairs(samples) do
      local back = conn:scalar("SELECT " .. db.quote_literal(s))
      assert(back == s, ("quote_literal(%q) read back as %q"):format(s, tostring(back)))
      local name = "t " .. s:gsub("%z", "")
      conn:exec("CREATE TABLE " .. db.quote_ident(name) .. " (x int)")
      assert(conn:scalar("SELECT count(*) FROM pg_class WHERE relname = $1", name:sub(1, 63)) == 1, name)
    end
    assert(not pcall(db.quote_literal, "a\0b"), "NUL is refused")
  )lua") == "");
}

TEST_CASE("C++ exceptions reach Lua as their own message", "[lua_bind]")
{
  lua_env env("bind_barrier");
  REQUIRE(env.run("conn:exec('CREATE TABLE t (id int, v text)')") == "");
  auto err = [&](const std::string& call) { return env.eval("return select(2, pcall(" + call + "))"); };
  CHECK(err("conn.query, conn, 'SELECT $1::text', function() end") == "parameter $1: cannot bind a Lua function");
  CHECK(err("conn.exec, conn, 'SELECT $1::int, $2::text', 1, coroutine.create(print)") ==
        "parameter $2: cannot bind a Lua thread");
  CHECK(err("conn.scalar, conn, 'SELECT $1::int[]', db.array{1, function() end}") ==
        "parameter $1[2]: cannot bind a Lua function");
  CHECK(err("conn.each, conn, 'SELECT $1::int', {print}, print") == "parameter $1: cannot bind a Lua function");
  CHECK(err("function() local w = conn:copy_in('t', {'id', 'v'}) w:write({1, print}) end") ==
        "copy_in row 1 column 2: cannot bind a Lua function");
  CHECK_THAT(err("conn.query, conn, 'SELECT $1::int', require('ffi').new('double', 1)"),
             Catch::Contains("parameter $1: cannot bind a cdata that is not a 64-bit integer"));
  CHECK(err("conn.query, conn, 'SELECT $1::int', 1, 2") ==
        "statement takes 1 parameter(s) but 2 value(s) were given: SELECT $1::int");
  CHECK_THAT(err("conn.query, conn, 'COPY t FROM STDIN'"), Catch::Contains("copy_in / copy_out"));
  // Nothing was left half-done: no open transaction, and the session still works.
  CHECK(env.eval("return conn:in_tx()") == "0");
  CHECK(env.eval("return conn:scalar('SELECT xact_start <> query_start FROM pg_stat_activity WHERE pid = pg_backend_pid()')") ==
        "false");
  CHECK(env.eval("return conn:scalar('SELECT count(*) FROM t')") == "0");
  // Closed connections are an error, not a crash.
  CHECK(err("function() local c = db.connect() c:close() return c:query('SELECT 1') end") == "connection is closed");
}

TEST_CASE("a failed copy_in write leaves no half row behind", "[lua_bind]")
{
  lua_env env("bind_copy_partial");
  CHECK(env.run(R"lua(
    conn:exec('CREATE TABLE t (id int, v text)')
    local w = conn:copy_in('t', {'id', 'v'})
    w:write({1, 'a'})
    assert(not pcall(w.write, w, {2, print}))
    w:write({3, 'c'})
    assert(w:close() == 2)
  )lua") == "");
  CHECK(env.eval("return conn:scalar('SELECT string_agg(id || v, \\',\\' ORDER BY id) FROM t')") == "1a,3c");
}
