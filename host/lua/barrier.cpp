#include "lua/barrier.hpp"

#include <new>
#include <string>
#include <vector>

namespace mighost::lua {

namespace {
std::vector<exception_translator>& translators()
{
  static std::vector<exception_translator> list;
  return list;
}
} // namespace

void add_exception_translator(exception_translator t) { translators().push_back(t); }

void push_exception(lua_State* L, const std::exception& e)
{
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    lua_pushliteral(L, "out of memory (C++)");
    return;
  }
  for (exception_translator t : translators())
    if (t(L, e)) return;
  lua_pushstring(L, e.what());
}

} // namespace mighost::lua
