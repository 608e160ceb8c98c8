// mighost.db: module functions, connection lifecycle, error objects.
#include "bind/db.hpp"

#include "lua/barrier.hpp"
#include "pg/conninfo.hpp"

#include <cstring>
#include <mutex>

namespace mighost::bind {

namespace {

/// Registry key of the connect defaults: a table {conninfo = s, read_only = b}.
char k_connect_defaults;

lua_connection** connection_slot(lua_State* L, int idx)
{
  return static_cast<lua_connection**>(luaL_checkudata(L, idx, k_connection_meta));
}

void set_field(lua_State* L, const char* key, const std::string& v)
{
  if (v.empty()) return;
  lua_pushlstring(L, v.data(), v.size());
  lua_setfield(L, -2, key);
}

bool translate(lua_State* L, const std::exception& e)
{
  if (auto* sql = dynamic_cast<const pg::sql_error*>(&e)) {
    push_sql_error(L, *sql);
    return true;
  }
  return false;
}

int error_tostring(lua_State* L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "text");
  return 1;
}

/// The state's connect defaults (none set: no --db, default session).
connect_defaults defaults_of(lua_State* L)
{
  connect_defaults d;
  lua_pushlightuserdata(L, &k_connect_defaults);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "conninfo");
    if (lua_isstring(L, -1)) d.conninfo = lua_tostring(L, -1);
    lua_getfield(L, -2, "read_only");
    d.session.read_only = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return d;
}

int db_connect(lua_State* L)
{
  return lua::protect(L, [&] {
    bool given = !lua_isnoneornil(L, 1);
    std::string conninfo = given ? luaL_checkstring(L, 1) : "";
    connect_defaults defaults = defaults_of(L);
    if (!given) conninfo = pg::default_conninfo(defaults.conninfo);
    auto** slot = static_cast<lua_connection**>(lua_newuserdata(L, sizeof(lua_connection*)));
    *slot = nullptr;
    luaL_getmetatable(L, k_connection_meta);
    lua_setmetatable(L, -2);
    // A throw leaves a null slot that __gc ignores.
    *slot = new lua_connection(conninfo, defaults.session);
    return 1;
  });
}

int conn_close(lua_State* L)
{
  lua_connection** slot = connection_slot(L, 1);
  delete *slot;
  *slot = nullptr;
  return 0;
}

int conn_tostring(lua_State* L)
{
  lua_connection** slot = connection_slot(L, 1);
  if (!*slot) lua_pushliteral(L, "mighost.db.Connection (closed)");
  else lua_pushfstring(L, "mighost.db.Connection (%s)", (*slot)->conn().masked_conninfo().c_str());
  return 1;
}

int conn_is_open(lua_State* L)
{
  lua_connection** slot = connection_slot(L, 1);
  lua_pushboolean(L, *slot && (*slot)->conn().is_open());
  return 1;
}

int conn_url(lua_State* L)
{
  lua_pushstring(L, check_connection(L, 1).conn().masked_conninfo().c_str());
  return 1;
}

int conn_pid(lua_State* L)
{
  lua_pushinteger(L, check_connection(L, 1).conn().backend_pid());
  return 1;
}

int conn_version(lua_State* L)
{
  lua_pushinteger(L, check_connection(L, 1).conn().server_version());
  return 1;
}

int conn_in_tx(lua_State* L)
{
  lua_pushinteger(L, check_connection(L, 1).conn().tx_depth());
  return 1;
}

int conn_statement_timeout(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  int ms = static_cast<int>(luaL_checkinteger(L, 2));
  return lua::protect(L, [&] { c.conn().set_statement_timeout(ms); return 0; });
}

int conn_lock_timeout(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  int ms = static_cast<int>(luaL_checkinteger(L, 2));
  return lua::protect(L, [&] { c.conn().set_lock_timeout(ms); return 0; });
}

/// conn:watch_lock_waits(ms): name the sessions a statement waits for in its lock timeout (0: off).
int conn_watch_lock_waits(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  int ms = static_cast<int>(luaL_checkinteger(L, 2));
  return lua::protect(L, [&] { c.conn().watch_lock_waits(ms); return 0; });
}

int db_quote_ident(lua_State* L)
{
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  std::string out = "\"";
  for (std::size_t i = 0; i < n; ++i) out += s[i] == '"' ? std::string("\"\"") : std::string(1, s[i]);
  out += '"';
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int db_quote_literal(lua_State* L)
{
  if (is_null(L, 1)) {
    lua_pushliteral(L, "NULL");
    return 1;
  }
  std::size_t n = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  if (std::memchr(s, 0, n)) return luaL_argerror(L, 1, "text cannot contain NUL bytes");
  std::string out;
  bool backslash = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] == '\'') out += "''";
    else if (s[i] == '\\') { out += "\\\\"; backslash = true; }
    else out += s[i];
  }
  out = (backslash ? "E'" : "'") + out + "'";
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int db_is_null(lua_State* L)
{
  lua_pushboolean(L, is_null(L, 1));
  return 1;
}

int db_is_error(lua_State* L)
{
  bool yes = false;
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, k_error_meta);
    yes = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, yes);
  return 1;
}

int db_array(lua_State* L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, "mighost.db.Array");
  lua_setmetatable(L, 1);
  return 1;
}

const luaL_Reg k_connection_methods[] = {
  {"close", conn_close},        {"is_open", conn_is_open},
  {"url", conn_url},            {"backend_pid", conn_pid},
  {"server_version", conn_version}, {"in_tx", conn_in_tx},
  {"set_statement_timeout", conn_statement_timeout},
  {"set_lock_timeout", conn_lock_timeout},
  {"watch_lock_waits", conn_watch_lock_waits},
  {nullptr, nullptr}};

const luaL_Reg k_module[] = {
  {"connect", db_connect},         {"quote_ident", db_quote_ident},
  {"quote_literal", db_quote_literal}, {"is_null", db_is_null},
  {"is_error", db_is_error},       {"array", db_array},
  {nullptr, nullptr}};

void register_metatables(lua_State* L)
{
  if (luaL_newmetatable(L, k_connection_meta)) {
    lua_newtable(L);
    luaL_register(L, nullptr, k_connection_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, conn_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, conn_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, k_error_meta)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

} // namespace

lua_connection& check_connection(lua_State* L, int idx)
{
  lua_connection** slot = connection_slot(L, idx);
  if (!*slot) luaL_error(L, "connection is closed");
  return **slot;
}

void set_connect_defaults(lua_State* L, const connect_defaults& defaults)
{
  lua_pushlightuserdata(L, &k_connect_defaults);
  lua_createtable(L, 0, 2);
  lua_pushlstring(L, defaults.conninfo.data(), defaults.conninfo.size());
  lua_setfield(L, -2, "conninfo");
  lua_pushboolean(L, defaults.session.read_only);
  lua_setfield(L, -2, "read_only");
  lua_rawset(L, LUA_REGISTRYINDEX);
}

void push_sql_error(lua_State* L, const pg::sql_error& e)
{
  const pg::diagnostics& d = e.diag();
  lua_createtable(L, 0, 10);
  set_field(L, "message", d.message);
  set_field(L, "sqlstate", d.sqlstate);
  set_field(L, "severity", d.severity);
  set_field(L, "detail", d.detail);
  set_field(L, "hint", d.hint);
  set_field(L, "context", d.context);
  set_field(L, "query", d.query);
  set_field(L, "text", e.one_line());
  if (d.position > 0) {
    lua_pushinteger(L, d.position);
    lua_setfield(L, -2, "position");
  }
  luaL_getmetatable(L, k_error_meta);
  lua_setmetatable(L, -2);
}

int open_db(lua_State* L)
{
  static std::once_flag once;  // worker threads open their own states
  std::call_once(once, [] { lua::add_exception_translator(translate); });
  lua::protect(L, [&] { init_values(L); return 0; });
  register_metatables(L);
  register_query(L);
  register_copy(L);
  register_pipe(L);
  register_lint(L);
  lua_newtable(L);
  luaL_register(L, nullptr, k_module);
  register_int64(L);
  push_null(L);
  lua_setfield(L, -2, "NULL");
  return 1;
}

} // namespace mighost::bind
