#pragma once
/// @file RAII Lua state, stack guard and protected calls with tracebacks.
#include <lua.hpp>

#include <string>

namespace mighost::lua {

/// Owns one lua_State with the standard libraries and the embedded stdlib in package.preload.
class state
{
public:
  state();
  ~state();
  state(const state&) = delete;
  state& operator=(const state&) = delete;

  lua_State* get() const noexcept { return m_L; }
  operator lua_State*() const noexcept { return m_L; }

  /// Puts `dir/?.lua;dir/?/init.lua` first on package.path (modules next to the script).
  void add_module_dir(const std::string& dir);

private:
  lua_State* m_L;
};

/// Remembers the stack top; `balanced()` tells whether it is back there. Tests assert it after
/// every binding call; the destructor restores the top so an early return cannot leak slots.
class stack_guard
{
public:
  explicit stack_guard(lua_State* L) noexcept : m_L(L), m_top(lua_gettop(L)) {}
  ~stack_guard() { lua_settop(m_L, m_top); }
  stack_guard(const stack_guard&) = delete;
  stack_guard& operator=(const stack_guard&) = delete;
  bool balanced() const noexcept { return lua_gettop(m_L) == m_top; }
  int top() const noexcept { return m_top; }

private:
  lua_State* m_L;
  int m_top;
};

/// Outcome of a protected call.
struct call_status
{
  bool ok = true;
  int exit_code = 0;       ///< from mighost.script.exit(), else 1 on error
  bool exit_request = false;  ///< the script asked to exit: no traceback
  std::string message;     ///< `file.lua:LINE: message` (with the first Lua frame prepended)
  std::string traceback;   ///< "stack traceback:\n\t..." ("" for an exit request)
};

/// lua_pcall of the function below `nargs` arguments, through a traceback handler. Never throws
/// and never lets a Lua error escape; pops the function and arguments, pushes `nresults` on success.
call_status pcall(lua_State* L, int nargs, int nresults);

/// Loads a file as a chunk named `@path` (so errors read `path:LINE:`); pushes the function.
/// A syntax error comes back as !ok with the parser's `path:LINE: message`.
call_status load_file(lua_State* L, const std::string& path);

/// The readable text of any error value: strings as they are, objects through __tostring.
std::string error_text(lua_State* L, int idx);

} // namespace mighost::lua
