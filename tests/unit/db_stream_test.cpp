/// \file each() streams through a server-side cursor; tx() nests as savepoints.
#include "lua_harness.hpp"

using mighost::test::lua_env;

namespace {
/// Lua helper for the chunks below: is the session inside a transaction on the server?
const char* k_server_tx = R"lua(
  local function server_in_tx()
    return conn:scalar("SELECT xact_start <> query_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
  end
  local function cursors() return conn:scalar("SELECT count(*) FROM pg_cursors") end
)lua";
} // namespace

TEST_CASE("each streams 50k rows in batches of 1000, in order, through a cursor", "[db_stream]")
{
  lua_env env("stream_50k");
  CHECK(env.run(std::string(k_server_tx) + R"lua(
    local count, sum, open_cursors = 0, 0, nil
    local n = conn:each("SELECT g, repeat('x', 20) AS pad FROM generate_series(1, 50000) g", nil, function(r)
      count = count + 1
      assert(r.g == count, "rows arrive in order")
      sum = sum + r.g
      if count == 1 then open_cursors = cursors() end
    end, 1000)
    assert(n == 50000 and count == 50000, n .. " " .. count)
    assert(sum == 50000 * 50001 / 2)
    assert(open_cursors == 1, "a server-side cursor while streaming")
    assert(cursors() == 0 and conn:in_tx() == 0 and not server_in_tx())
  )lua") == "");
}

TEST_CASE("each: one row per FETCH keeps the stack flat", "[db_stream]")
{
  // A slot leaked per row or per batch would overflow the Lua C stack long before 9000.
  lua_env env("stream_batch1");
  CHECK(env.eval("local s = 0 local n = conn:each('SELECT g FROM generate_series(1, $1) g', {9000}, "
                 "function(r) s = s + r.g end, 1) return n .. ' ' .. s") == "9000 40504500");
}

TEST_CASE("each stops early when the callback returns false", "[db_stream]")
{
  lua_env env("stream_stop");
  CHECK(env.run(std::string(k_server_tx) + R"lua(
    local seen = 0
    local n = conn:each("SELECT g FROM generate_series(1, 50000) g", nil, function(r)
      seen = seen + 1
      if r.g == 1234 then return false end
    end, 1000)
    assert(n == 1234 and seen == 1234, n .. " " .. seen)
    assert(cursors() == 0 and conn:in_tx() == 0 and not server_in_tx())
    -- Returning nil or true does not stop.
    assert(conn:each("SELECT 1 FROM generate_series(1, 5)", nil, function() return true end) == 5)
    assert(conn:each("SELECT 1 FROM generate_series(1, 5)", nil, function() return nil end) == 5)
  )lua") == "");
}

TEST_CASE("an error in each's callback rolls back its own transaction", "[db_stream]")
{
  lua_env env("stream_error");
  CHECK(env.run(std::string(k_server_tx) + R"lua(
    conn:exec("CREATE TABLE t (id int PRIMARY KEY)")
    local ok, e = pcall(conn.each, conn, "SELECT g FROM generate_series(1, 10) g", nil, function(r)
      conn:exec("INSERT INTO t VALUES ($1)", r.g)
      if r.g == 3 then error("boom at 3", 0) end
    end, 2)
    assert(not ok and e == "boom at 3", tostring(e))
    assert(conn:scalar("SELECT count(*) FROM t") == 0, "the inserts were rolled back")
    assert(cursors() == 0 and conn:in_tx() == 0 and not server_in_tx())
    -- An SQL error inside the callback: the same, and the error object comes through intact.
    ok, e = pcall(conn.each, conn, "SELECT g % 2 AS k FROM generate_series(1, 10) g", nil, function(r)
      conn:exec("INSERT INTO t VALUES ($1)", r.k)
    end)
    assert(not ok and db.is_error(e) and e.sqlstate == "23505", tostring(e))
    assert(conn:scalar("SELECT count(*) FROM t") == 0)
    assert(cursors() == 0 and conn:in_tx() == 0 and not server_in_tx())
    -- The connection is usable, and each works again on it.
    assert(conn:each("SELECT g FROM generate_series(1, 3) g", nil, function(r) conn:exec("INSERT INTO t VALUES ($1)", r.g) end) == 3)
    assert(conn:scalar("SELECT count(*) FROM t") == 3)
  )lua") == "");
}

TEST_CASE("each inside tx uses the caller's transaction", "[db_stream]")
{
  lua_env env("stream_in_tx");
  CHECK(env.run(std::string(k_server_tx) + R"lua(
    conn:exec("CREATE TABLE t (id int)")
    local ok = pcall(conn.tx, conn, function()
      conn:each("SELECT g FROM generate_series(1, 5) g", nil, function(r) conn:exec("INSERT INTO t VALUES ($1)", r.g) end)
      assert(conn:in_tx() == 1 and server_in_tx(), "each did not end the caller's transaction")
      error("undo")
    end)
    assert(not ok and conn:scalar("SELECT count(*) FROM t") == 0, "the caller's rollback undid each's work")
    conn:tx(function()
      conn:each("SELECT g FROM generate_series(1, 5) g", nil, function(r) conn:exec("INSERT INTO t VALUES ($1)", r.g) end)
    end)
    assert(conn:scalar("SELECT count(*) FROM t") == 5)
  )lua") == "");
}

TEST_CASE("tx: a nested savepoint's rollback keeps the outer work", "[db_stream]")
{
  lua_env env("stream_savepoint");
  CHECK(env.run(std::string(k_server_tx) + R"lua(
    conn:exec("CREATE TABLE t (id int PRIMARY KEY)")
    conn:tx(function()
      conn:exec("INSERT INTO t VALUES (1)")
      -- An SQL error aborts only the savepoint: the outer transaction goes on.
      local ok, e = pcall(conn.tx, conn, function()
        conn:exec("INSERT INTO t VALUES (2)")
        conn:exec("INSERT INTO t VALUES (1)")
      end)
      assert(not ok and e.sqlstate == "23505" and conn:in_tx() == 1, tostring(e))
      conn:exec("INSERT INTO t VALUES (3)")
      -- Two levels: the innermost fails, the middle one commits its own work.
      conn:tx(function()
        conn:exec("INSERT INTO t VALUES (4)")
        assert(not pcall(conn.tx, conn, function() conn:exec("INSERT INTO t VALUES (5)") error("x") end))
        assert(conn:in_tx() == 2)
      end)
    end)
    assert(conn:scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM t") == "1,3,4")
    assert(conn:in_tx() == 0 and not server_in_tx())
    -- The outer rollback takes released savepoints with it.
    assert(not pcall(conn.tx, conn, function()
      conn:tx(function() conn:exec("INSERT INTO t VALUES (6)") end)
      error("outer")
    end))
    assert(conn:scalar("SELECT count(*) FROM t WHERE id = 6") == 0 and conn:in_tx() == 0 and not server_in_tx())
  )lua") == "");
}

TEST_CASE("copy_out streams a large result row by row", "[db_stream]")
{
  lua_env env("stream_copy_out");
  CHECK(env.eval("local n, last = 0 for row in conn:copy_out('SELECT g, g * 2 FROM generate_series(1, 50000) g') do "
                 "n = n + 1 last = row end return n .. ' ' .. last[1] .. ' ' .. last[2] .. ' ' .. type(last[1])") ==
        "50000 50000 100000 string");
}
