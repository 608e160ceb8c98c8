/// \file The command and read-only mode the host hands a script as typed data: pg sessions opened
/// read-only stay so whatever their connection string's `options=` says; mighost.script reports
/// script.command and script.read_only; db.connect() applies read-only to every connection.
#include <catch2/catch.hpp>

#include "lua_harness.hpp"
#include "pg/connection.hpp"

#include <string>

namespace bind = mighost::bind;
namespace pg = mighost::pg;
using mighost::test::lua_env;

namespace {

/// `url` with `options=-c default_transaction_read_only=<value>` added to its query string.
std::string with_read_only_option(const std::string& url, const std::string& value)
{
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "options=-c%20default_transaction_read_only%3D" + value;
}

/// The first value of a one-row result, as text.
std::string first_value(pg::connection& c, const std::string& sql)
{
  return std::string(c.exec(sql).value(0, 0));
}

} // namespace

TEST_CASE("a read-only session stays read-only whatever the URL's options= says", "[script_facts]")
{
  std::string url = mighost::test::fresh_database("facts_pg");
  std::string rw = with_read_only_option(url, "off");
  pg::session_options read_only;
  read_only.read_only = true;

  pg::connection guarded(rw, read_only);
  CHECK(first_value(guarded, "SHOW default_transaction_read_only") == "on");
  try {
    guarded.exec("CREATE TABLE facts_written (x int)");
    FAIL("a write went through a read-only session");
  } catch (const pg::sql_error& e) {
    CHECK(e.diag().sqlstate == "25006");
  }

  // The URL's own options do reach the session (so the case above asked for read-write) ...
  pg::connection plain(with_read_only_option(url, "on"));
  CHECK(first_value(plain, "SHOW default_transaction_read_only") == "on");
  // ... and without read_only a session is as its connection string makes it.
  pg::connection writer(rw);
  CHECK(first_value(writer, "SHOW default_transaction_read_only") == "off");
  CHECK(first_value(writer, "SELECT to_regclass('facts_written') IS NULL") == "t");
}

TEST_CASE("mighost.script reports the command and read-only mode; db.connect applies it", "[script_facts]")
{
  std::string url = mighost::test::fresh_database("facts_lua");
  const char* k_facts = R"lua(
    local script, db = require "mighost.script", require "mighost.db"
    local a, b = db.connect(), db.connect(...)
    local s = string.format("%s %s %s %s", script.command, tostring(script.read_only),
      a:scalar("SHOW default_transaction_read_only"), b:scalar("SHOW default_transaction_read_only"))
    a:close() b:close()
    return s
  )lua";
  std::string rw = with_read_only_option(url, "off");
  std::string code = "return (function(...) " + std::string(k_facts) + " end)('" + rw + "')";

  SECTION("run (the default): read-write sessions")
  {
    lua_env env(bind::script_info{"", {}, rw});
    CHECK(env.eval(code) == "run false off off");
  }
  SECTION("verify: every connection read-only, with or without a conninfo of its own")
  {
    lua_env env(bind::script_info{"", {}, rw, bind::script_command::verify, true});
    CHECK(env.eval(code) == "verify true on on");
    REQUIRE(bind::script_info_of(env.L()) != nullptr);
    CHECK(bind::script_info_of(env.L())->command == bind::script_command::verify);
  }
  SECTION("rollback: read-write sessions")
  {
    lua_env env(bind::script_info{"", {}, rw, bind::script_command::rollback, false});
    CHECK(env.eval(code) == "rollback false off off");
  }
}
