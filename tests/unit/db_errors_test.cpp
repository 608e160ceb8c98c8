/// \file SQL errors as Lua objects: fields, one-line text, lost connections, bad parameters, and
/// connection strings whose password must never show.
#include "lua_harness.hpp"

#include <string>

using mighost::test::lua_env;

TEST_CASE("a syntax error is an object with sqlstate, position and a one-line text", "[db_errors]")
{
  lua_env env("err_syntax");
  CHECK(env.run(R"lua(
    local ok, e = pcall(conn.query, conn, "SELECT *\n  FORM t")
    assert(not ok and db.is_error(e), tostring(e))
    assert(e.sqlstate == "42601" and e.severity == "ERROR", e.sqlstate)
    assert(e.message == 'syntax error at or near "FORM"', e.message)
    assert(e.query == "SELECT *\n  FORM t")
    assert(e.position == e.query:find("FORM", 1, true), tostring(e.position))
    local text = tostring(e)
    assert(not text:find("\n"), "one line: " .. text)
    assert(text == 'ERROR 42601: syntax error at or near "FORM" at character ' .. e.position .. ' in: SELECT *   FORM t', text)
    assert(not db.is_error("x") and not db.is_error({}) and not db.is_error(nil))
    assert(conn:scalar("SELECT 1") == 1, "the session is still usable")
  )lua") == "");
}

TEST_CASE("an uncaught SQL error names the script line and carries a traceback", "[db_errors]")
{
  lua_env env("err_uncaught");
  mighost::lua::stack_guard guard(env.L());
  auto st = env.call("local x = 1\nconn:query('SELECT * FROM nope')\n", "errors.lua");
  CHECK_FALSE(st.ok);
  CHECK(st.exit_code == 1);
  CHECK(st.message == "errors.lua:2: ERROR 42P01: relation \"nope\" does not exist at character 15 in: SELECT * FROM nope");
  CHECK_THAT(st.traceback, Catch::StartsWith("stack traceback:") && Catch::Contains("errors.lua:2"));
  CHECK(guard.balanced());
}

TEST_CASE("constraint errors carry detail; RAISE carries detail, hint and context", "[db_errors]")
{
  lua_env env("err_detail");
  CHECK(env.run(R"lua(
    conn:exec("CREATE TABLE t (id int PRIMARY KEY)")
    conn:exec("INSERT INTO t VALUES ($1)", 1)
    local ok, e = pcall(conn.exec, conn, "INSERT INTO t VALUES ($1)", 1)
    assert(not ok and e.sqlstate == "23505", tostring(e))
    assert(e.detail == "Key (id)=(1) already exists.", tostring(e.detail))
    assert(e.position == nil and e.hint == nil)
    assert(tostring(e):find("(DETAIL: Key (id)=(1) already exists.)", 1, true), tostring(e))
    ok, e = pcall(conn.exec, conn, [[DO $$ BEGIN RAISE EXCEPTION 'boom %', 7 USING DETAIL = 'd', HINT = 'h', ERRCODE = 'P0001'; END $$]])
    assert(not ok and e.sqlstate == "P0001" and e.message == "boom 7" and e.detail == "d" and e.hint == "h", tostring(e))
    assert(e.context:find("PL/pgSQL", 1, true), tostring(e.context))
    assert(conn:scalar("SELECT count(*) FROM t") == 1)
  )lua") == "");
}

TEST_CASE("wrong parameter counts give a clear error", "[db_errors]")
{
  lua_env env("err_params");
  CHECK(env.run(R"lua(
    local ok, e = pcall(conn.query, conn, "SELECT $1::int, $2::int", 1)
    assert(not ok and e == "statement takes 2 parameter(s) but 1 value(s) were given: SELECT $1::int, $2::int", tostring(e))
    ok, e = pcall(conn.scalar, conn, "SELECT 1", 1)
    assert(not ok and e:find("takes 0 parameter(s) but 1", 1, true), tostring(e))
    -- No values at all: the statement goes as it is and the server names the missing parameter.
    ok, e = pcall(conn.query, conn, "SELECT $1::int")
    assert(not ok and e.sqlstate == "42P02" and e.message == "there is no parameter $1", tostring(e))
    assert(conn:scalar("SELECT $1::int + $2::int", 1, 2) == 3)
  )lua") == "");
}

// What PostgreSQL sends when pg_terminate_backend() ends a session: FATAL 57P01 "terminating
// connection due to administrator command", then it closes the socket. libpq folds that message
// into the connection's error text without a SQLSTATE, so the host reports the class-08 code
// 08006 (connection failure) with the server's words in the message.
TEST_CASE("a lost connection raises a clear 08xxx error, also inside tx, and never crashes", "[db_errors]")
{
  lua_env env("err_lost");
  CHECK(env.run(R"lua(
    local function kill(victim)
      local killer = db.connect()
      local pid = victim:backend_pid()
      assert(killer:scalar("SELECT pg_terminate_backend($1)", pid) == true)
      for _ = 1, 500 do  -- the backend exits asynchronously
        if killer:scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid) == 0 then break end
        killer:scalar("SELECT pg_sleep(0.01)")
      end
      killer:close()
    end
    local function is_lost(e)
      return db.is_error(e) and (e.sqlstate:match("^08") or e.sqlstate == "57P01") and not tostring(e):find("\n")
    end

    local victim = db.connect()
    kill(victim)
    local ok, e = pcall(victim.query, victim, "SELECT 1")
    assert(not ok and is_lost(e), tostring(e))
    assert(e.message:find("connection", 1, true) and e.message:find("administrator command", 1, true), e.message)
    assert(victim:is_open() == false)
    ok, e = pcall(victim.query, victim, "SELECT 1")  -- again: still an error object, no crash
    assert(not ok and is_lost(e), tostring(e))
    victim:close()

    local in_tx = db.connect()
    ok, e = pcall(in_tx.tx, in_tx, function()
      in_tx:exec("SELECT 1")
      kill(in_tx)
      in_tx:exec("SELECT 2")
    end)
    assert(not ok and is_lost(e), tostring(e))
    assert(in_tx:in_tx() == 0)

    local streaming = db.connect()
    ok, e = pcall(streaming.each, streaming, "SELECT g FROM generate_series(1, 10) g", nil, function(r)
      if r.g == 2 then kill(streaming) end
    end, 1)
    assert(not ok and is_lost(e), tostring(e))
    assert(streaming:in_tx() == 0)
    assert(conn:scalar("SELECT 1") == 1, "other sessions are unaffected")
  )lua") == "");
}

TEST_CASE("a password in a connection string never shows", "[db_errors]")
{
  lua_env env("err_password");
  std::string url = env.url();  // postgresql://mighost@/db?host=...: trust auth ignores a password
  std::string with_pw = "postgresql://mighost:secret@" + url.substr(url.find('@') + 1);
  CHECK(env.run(R"lua(
    local function hidden(v)
      local s = tostring(v)
      assert(not s:find("secret", 1, true), "password shown: " .. s)
      return s
    end
    local ok, e = pcall(db.connect, "postgresql://u:secret@/x?host=/nonexistent")
    assert(not ok and db.is_error(e) and e.sqlstate == "08001", tostring(e))
    assert(hidden(e):find("u:***@", 1, true), tostring(e))
    assert(hidden(e.message) and not tostring(e):find("\n"), tostring(e))
    ok, e = pcall(db.connect, "host=/nonexistent user=u password=secret dbname=x")
    assert(not ok and hidden(e):find("password=***", 1, true), tostring(e))
    ok, e = pcall(db.connect, "postgresql://u:secret@h/d?x=y=z")
    assert(not ok, "an invalid URL is refused")
    hidden(e)
    local c = db.connect(")lua" + with_pw + R"lua(")
    assert(c:scalar("SELECT 1") == 1)
    assert(hidden(c:url()):find("mighost:***@", 1, true), c:url())
    hidden(c)
    ok, e = pcall(c.query, c, "SELECT * FROM nope")
    hidden(e)
  )lua") == "");
  auto st = env.call("db.connect('postgresql://u:secret@/x?host=/nonexistent')");
  CHECK_FALSE(st.ok);
  CHECK(st.message.find("secret") == std::string::npos);
  CHECK(st.traceback.find("secret") == std::string::npos);
}
