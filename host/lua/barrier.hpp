#pragma once
/// @file The exception barrier: C++ exceptions never unwind through Lua frames.
///
/// Every lua_CFunction body runs inside `protect()`. An exception is caught, turned into a Lua
/// error value while still inside the catch block (only pushing, no longjmp), and raised with
/// lua_error() after the catch block has ended. Debian's LuaJIT would otherwise report any C++
/// exception crossing pcall as the bare text "C++ exception".
#include <lua.hpp>

#include <exception>

namespace mighost::lua {

/// Pushes a Lua value for an exception it knows (e.g. the db layer's SQL errors as objects) and
/// returns true; false leaves it to the generic text conversion.
using exception_translator = bool (*)(lua_State* L, const std::exception& e);

/// Registers a translator (the bind layer does this once at start-up; not thread-safe to change).
void add_exception_translator(exception_translator t);

/// Pushes the Lua error value for a caught C++ exception.
void push_exception(lua_State* L, const std::exception& e);

/// Runs `body` (returning the number of Lua results); any exception becomes a Lua error.
template <class F>
int protect(lua_State* L, F&& body)
{
  bool failed = false;
  int n = 0;
  try {
    n = body();
  } catch (const std::exception& e) {
    // Only C++ exceptions: LuaJIT raises Lua errors as foreign exceptions on x64, and those must
    // keep unwinding (through our destructors) to the pcall that waits for them.
    push_exception(L, e);
    failed = true;
  }
  if (failed) return lua_error(L);  // after the catch block: no exception object is live
  return n;
}

} // namespace mighost::lua
