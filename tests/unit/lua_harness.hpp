#pragma once
/// \file A Lua state prepared like `mighost run` does it, on a fresh sandbox database, for the
/// binding tests (lua_*, db_*, values_*). Chunks run through luaL_loadbuffer + lua::pcall.
#include <catch2/catch.hpp>

#include "bind/modules.hpp"
#include "lua/state.hpp"
#include "pg.hpp"

#include <string>

namespace mighost::test {

/// One state with mighost.db loaded. For brevity the test chunks see two globals: `db` (the
/// module) and `conn` (a connection to the fresh database). Scripts run by the CLI get none.
class lua_env
{
public:
  explicit lua_env(const std::string& prefix) : m_info{"", {}, fresh_database(prefix)}
  {
    bind::prepare_state(m_state, m_info);
    REQUIRE(run("db = require 'mighost.db'; conn = db.connect()") == "");
  }

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

  /// Runs `code`, drops its results; "" on success, else the error message (for CHECK(... == "")).
  std::string run(const std::string& code)
  {
    lua::stack_guard guard(L());
    lua::call_status st = call(code);
    return st.ok ? std::string() : st.message + (st.traceback.empty() ? "" : "\n" + st.traceback);
  }

  /// Runs `code` and returns how many values it returned; the stack is restored. -1 on error
  /// (the message is logged through Catch's INFO by the caller's CHECK on run()).
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

} // namespace mighost::test
