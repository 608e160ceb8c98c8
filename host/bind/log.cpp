// mighost.log: spdlog for scripts, string.format style.
#include "bind/modules.hpp"
#include "pg/conninfo.hpp"

#include <spdlog/spdlog.h>

namespace mighost::bind {

namespace {

/// string.format(...) of the arguments, as one message.
std::string format_args(lua_State* L)
{
  int n = lua_gettop(L);
  if (n == 1) return luaL_tolstring_compat(L, 1);
  lua_getglobal(L, "string");
  lua_getfield(L, -1, "format");
  lua_remove(L, -2);
  lua_insert(L, 1);
  lua_call(L, n, 1);
  std::string s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

template <spdlog::level::level_enum Level>
int log_at(lua_State* L)
{
  if (!spdlog::default_logger_raw()->should_log(Level)) return 0;
  std::string msg = format_args(L);
  spdlog::default_logger_raw()->log(Level, "{}", pg::mask_password(msg));
  return 0;
}

int log_mask(lua_State* L)
{
  lua_pushstring(L, pg::mask_password(luaL_checkstring(L, 1)).c_str());
  return 1;
}

int log_level(lua_State* L)
{
  auto name = spdlog::level::to_string_view(spdlog::default_logger_raw()->level());
  lua_pushlstring(L, name.data(), name.size());
  return 1;
}

} // namespace

std::string luaL_tolstring_compat(lua_State* L, int idx)
{
  if (luaL_callmeta(L, idx, "__tostring")) {
    std::string s = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
    lua_pop(L, 1);
    return s;
  }
  lua_getglobal(L, "tostring");
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  std::string s = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
  lua_pop(L, 1);
  return s;
}

int open_log(lua_State* L)
{
  static const luaL_Reg fns[] = {
    {"trace", log_at<spdlog::level::trace>}, {"debug", log_at<spdlog::level::debug>},
    {"info", log_at<spdlog::level::info>},   {"warn", log_at<spdlog::level::warn>},
    {"error", log_at<spdlog::level::err>},   {"mask", log_mask},
    {"level", log_level},                    {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, fns);
  return 1;
}

} // namespace mighost::bind
