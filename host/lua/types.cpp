#include "lua/types.hpp"

namespace mighost::lua {

void define_type(lua_State* L, const char* name, const luaL_Reg* methods, lua_CFunction gc)
{
  if (luaL_newmetatable(L, name)) {
    lua_newtable(L);
    if (methods) luaL_register(L, nullptr, methods);
    lua_setfield(L, -2, "__index");
    if (gc) {
      lua_pushcfunction(L, gc);
      lua_setfield(L, -2, "__gc");
    }
  }
  lua_pop(L, 1);
}

} // namespace mighost::lua
