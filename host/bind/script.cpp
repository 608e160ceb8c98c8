// mighost.script: what a script knows of its own run; and the state set-up for a run.
#include "bind/db.hpp"
#include "bind/modules.hpp"

#include "lua/stdlib.hpp"

#include <new>

namespace mighost::bind {

namespace {

/// Registry key of the state's script_info: a full userdata, destroyed with the state.
char k_info;

static_assert(alignof(script_info) <= alignof(double), "Lua userdata is only aligned for doubles");

std::string dir_of(const std::string& path)
{
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string name_of(const std::string& path)
{
  auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".lua") == 0) base.resize(base.size() - 4);
  return base;
}

/// script.exit(code[, message]): ends the run with this code and no traceback.
int script_exit(lua_State* L)
{
  lua_Integer code = luaL_optinteger(L, 1, 0);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "code");
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "message");
  }
  luaL_getmetatable(L, "mighost.script.Exit");
  lua_setmetatable(L, -2);
  return lua_error(L);
}

void set(lua_State* L, const char* key, const std::string& v)
{
  lua_pushlstring(L, v.data(), v.size());
  lua_setfield(L, -2, key);
}

/// __gc of the registry's copy of the script facts.
int info_gc(lua_State* L)
{
  static_cast<script_info*>(lua_touserdata(L, 1))->~script_info();
  return 0;
}

/// Copies `info` into the state: a caller's temporary (or a worker's local) is then enough.
void store_info(lua_State* L, const script_info& info)
{
  lua_pushlightuserdata(L, &k_info);
  void* mem = lua_newuserdata(L, sizeof(script_info));
  new (mem) script_info(info);  // before the metatable: a throw leaves nothing for __gc to destroy
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, info_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

} // namespace

const char* command_name(script_command c) noexcept
{
  switch (c) {
  case script_command::run: return "run";
  case script_command::verify: return "verify";
  case script_command::rollback: return "rollback";
  }
  return "run";
}

const script_info* script_info_of(lua_State* L)
{
  lua_pushlightuserdata(L, &k_info);
  lua_rawget(L, LUA_REGISTRYINDEX);
  auto* info = static_cast<const script_info*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return info;
}

int open_script(lua_State* L)
{
  const script_info* info = script_info_of(L);
  lua_newtable(L);
  if (info) {
    set(L, "path", info->path);
    set(L, "name", name_of(info->path));
    set(L, "dir", dir_of(info->path));
    if (!info->db.empty()) set(L, "db", info->db);
    lua_pushstring(L, command_name(info->command));
    lua_setfield(L, -2, "command");
    lua_pushboolean(L, info->read_only);
    lua_setfield(L, -2, "read_only");
    lua_pushboolean(L, info->throwaway_db);
    lua_setfield(L, -2, "throwaway_db");
    lua_createtable(L, static_cast<int>(info->args.size()), 0);
    for (std::size_t i = 0; i < info->args.size(); ++i) {
      lua_pushlstring(L, info->args[i].data(), info->args[i].size());
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    lua_setfield(L, -2, "args");
  }
  lua_pushcfunction(L, script_exit);
  lua_setfield(L, -2, "exit");
  return 1;
}

void prepare_state(lua::state& L, const script_info& info)
{
  store_info(L, info);
  connect_defaults defaults;
  defaults.conninfo = info.db;
  defaults.session.read_only = info.read_only;
  set_connect_defaults(L, defaults);
  lua::register_preload(L, {{"mighost.db", open_db},
                            {"mighost.log", open_log},
                            {"mighost.sys", open_sys},
                            {"mighost.script", open_script},
                            {"mighost.worker", open_worker},
                            {"mighost.backup", open_backup}});
  if (!info.path.empty()) L.add_module_dir(dir_of(info.path));
}

} // namespace mighost::bind
