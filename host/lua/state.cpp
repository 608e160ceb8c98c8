#include "lua/state.hpp"

#include <new>
#include <stdexcept>

namespace mighost::lua {

namespace {

/// Registry key of the table that marks an exit request (see mighost.script.exit).
constexpr const char* k_exit_meta = "mighost.script.Exit";

/// `source:line` of the innermost Lua function on the stack, or "".
std::string where(lua_State* L)
{
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0 && ar.source[0] == '@')
      return std::string(ar.source + 1) + ":" + std::to_string(ar.currentline) + ": ";
  }
  return "";
}

bool is_exit_request(lua_State* L, int idx)
{
  if (!lua_getmetatable(L, idx)) return false;
  luaL_getmetatable(L, k_exit_meta);
  bool same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same;
}

/// Message handler: leaves exit requests alone; otherwise returns "<where>message\n<traceback>".
/// String errors raised by Lua already start with `file:line:`; error objects (SQL errors) do not,
/// so the first Lua frame is prepended for them.
int traceback_handler(lua_State* L)
{
  if (is_exit_request(L, 1)) return 1;
  std::string msg = error_text(L, 1);
  if (lua_type(L, 1) != LUA_TSTRING) msg = where(L) + msg;
  luaL_traceback(L, L, msg.c_str(), 1);
  return 1;
}

} // namespace

state::state() : m_L(luaL_newstate())
{
  if (!m_L) throw std::bad_alloc();
  luaL_openlibs(m_L);
  luaL_newmetatable(m_L, k_exit_meta);
  lua_pop(m_L, 1);
}

state::~state() { lua_close(m_L); }

void state::add_module_dir(const std::string& dir)
{
  stack_guard guard(m_L);
  lua_getglobal(m_L, "package");
  lua_getfield(m_L, -1, "path");
  std::string path = (dir.empty() ? std::string(".") : dir);
  std::string entry = path + "/?.lua;" + path + "/?/init.lua;";
  lua_pushstring(m_L, (entry + lua_tostring(m_L, -1)).c_str());
  lua_setfield(m_L, -3, "path");
}

std::string error_text(lua_State* L, int idx)
{
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
  if (luaL_callmeta(L, idx, "__tostring")) {
    std::string s = lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error object with bad __tostring)";
    lua_pop(L, 1);
    return s;
  }
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_getfield(L, idx, "message");
    if (lua_type(L, -1) == LUA_TSTRING) {
      std::string s = lua_tostring(L, -1);
      lua_pop(L, 1);
      return s;
    }
    lua_pop(L, 1);
  }
  return std::string("(error object is a ") + luaL_typename(L, idx) + " value)";
}

call_status pcall(lua_State* L, int nargs, int nresults)
{
  int fn = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, fn);
  int rc = lua_pcall(L, nargs, nresults, fn);
  lua_remove(L, fn);
  call_status st;
  if (rc == 0) return st;
  st.ok = false;
  st.exit_code = 1;
  if (rc == LUA_ERRMEM) {
    st.message = "out of memory";
  } else if (is_exit_request(L, -1)) {
    st.exit_request = true;
    lua_getfield(L, -1, "code");
    st.exit_code = static_cast<int>(lua_tointeger(L, -1));
    lua_getfield(L, -2, "message");
    if (lua_type(L, -1) == LUA_TSTRING) st.message = lua_tostring(L, -1);
    lua_pop(L, 2);
  } else {
    std::string full = error_text(L, -1);
    auto cut = full.find("\nstack traceback:");
    st.message = full.substr(0, cut);
    if (cut != std::string::npos) st.traceback = full.substr(cut + 1);
  }
  lua_pop(L, 1);
  return st;
}

call_status load_file(lua_State* L, const std::string& path)
{
  call_status st;
  int rc = luaL_loadfile(L, path.c_str());
  if (rc == 0) return st;
  st.ok = false;
  st.exit_code = 1;
  st.message = error_text(L, -1);
  lua_pop(L, 1);
  return st;
}

} // namespace mighost::lua
