#include "lua/stdlib.hpp"

#include "lua/state.hpp"

#include <stdexcept>
#include <string>

namespace mighost::lua {

void register_preload(lua_State* L, const std::vector<native_module>& natives)
{
  stack_guard guard(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  for (const native_module& m : natives) {
    lua_pushcfunction(L, m.open);
    lua_setfield(L, -2, m.name);
  }
  for (const embedded_module& m : embedded_modules()) {
    // Compiled once here; require() then runs the chunk with the module name as its argument.
    if (luaL_loadbuffer(L, m.source, m.size, m.chunk_name) != 0) {
      std::string err = error_text(L, -1);
      throw std::runtime_error("embedded module " + std::string(m.name) + " does not compile: " + err);
    }
    lua_setfield(L, -2, m.name);
  }
}

} // namespace mighost::lua
