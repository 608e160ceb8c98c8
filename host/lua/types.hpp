#pragma once
/// @file The metatable of a userdata type (wrk's style: one per type, named like the module).
#include <lua.hpp>

namespace mighost::lua {

/// Registers metatable `name` once per state: `methods` (may be nullptr) as its __index, `gc`
/// as its __gc (may be nullptr). The stack is left as it was.
void define_type(lua_State* L, const char* name, const luaL_Reg* methods, lua_CFunction gc);

} // namespace mighost::lua
