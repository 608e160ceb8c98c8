#pragma once
/// \file The one Lua-state fixture of the unit tests: a state prepared like `mighost run` does
/// it (bind::prepare_state), with or without a database, and the runner of the Lua test files in
/// tests/unit/lua/. Chunks run through luaL_loadbuffer + lua::pcall, as the host runs scripts.
#include <catch2/catch.hpp>

#include "bind/modules.hpp"
#include "lua/state.hpp"
#include "pg.hpp"

#include <string>
#include <vector>

namespace mighost::test {

/// A Lua state prepared like `mighost run` does it.
class lua_env
{
public:
  /// No database: for the parts of the stdlib that need none.
  lua_env() : m_info{"", {}, ""} { bind::prepare_state(m_state, m_info); }

  /// A fresh database named after `prefix`. For brevity the test chunks see two globals: `db`
  /// (the module) and `conn` (a connection to the database). Scripts run by the CLI get none.
  explicit lua_env(const std::string& prefix) : m_info{"", {}, fresh_database(prefix)}
  {
    bind::prepare_state(m_state, m_info);
    REQUIRE(run("db = require 'mighost.db'; conn = db.connect()") == "");
  }

  /// The facts `info` (database, command, read-only mode) and no globals.
  explicit lua_env(bind::script_info info) : m_info{std::move(info)} { bind::prepare_state(m_state, m_info); }

  lua_State* L() const { return m_state.get(); }
  const std::string& url() const { return m_info.db; }

  /// Loads `code` as chunk `@name` and calls it, leaving all of its results on the stack.
  /// Returns the call status; a compile error comes back as !ok with the parser's message.
  lua::call_status call(const std::string& code, const std::string& name = "test.lua")
  {
    std::string chunk = "@" + name;
    if (luaL_loadbuffer(L(), code.data(), code.size(), chunk.c_str()) != 0) {
      lua::call_status st;
      st.ok = false;
      st.message = lua::error_text(L(), -1);
      lua_pop(L(), 1);
      return st;
    }
    return lua::pcall(L(), 0, LUA_MULTRET);
  }

  /// Runs `code`, drops its results; "" on success, else the error message and its traceback
  /// (for CHECK(run(...) == "")).
  std::string run(const std::string& code, const std::string& name = "test.lua")
  {
    lua::stack_guard guard(L());
    lua::call_status st = call(code, name);
    return st.ok ? std::string() : st.message + (st.traceback.empty() ? "" : "\n" + st.traceback);
  }

  /// Runs `code` and returns how many values it returned; the stack is restored. -1 on error
  /// (the message goes to Catch's UNSCOPED_INFO).
  int result_count(const std::string& code)
  {
    lua::stack_guard guard(L());
    lua::call_status st = call(code);
    if (!st.ok) {
      UNSCOPED_INFO("lua error: " << st.message);
      return -1;
    }
    return lua_gettop(L()) - guard.top();
  }

  /// Runs `code` and returns tostring() of its first result ("<error: ...>" on failure).
  std::string eval(const std::string& code)
  {
    lua::stack_guard guard(L());
    lua::call_status st = call(code);
    if (!st.ok) return "<error: " + st.message + ">";
    if (lua_gettop(L()) == guard.top()) return "<no result>";
    return bind::luaL_tolstring_compat(L(), guard.top() + 1);  // tostring(), honouring __tostring
  }

private:
  bind::script_info m_info;  // declared before the state: it must outlive it
  lua::state m_state;
};

/// Runs the cases of tests/unit/lua/FILE, each in a Catch section of its own on a fresh
/// database. The file returns a list of `{name, function(conn) ... end}`; a case fails by
/// raising (tests/unit/lua/expect.lua has the assertions), and the failure shows FILE:LINE.
void run_lua_cases(const std::string& file);

/// tests/unit/lua of the source tree: the Lua test files and the modules they require.
std::string lua_test_dir();

/// The names of the cases of tests/unit/lua/FILE, in order (for run_lua_cases).
std::vector<std::string> lua_case_names(const std::string& file);

} // namespace mighost::test
