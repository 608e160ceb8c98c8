// mighost.db: query, exec, scalar, each, rows, tx — and the parameter and row conversions.
#include "bind/db.hpp"

#include "lua/barrier.hpp"
#include "pg/transaction.hpp"

#include <charconv>

namespace mighost::bind {

namespace {

/// Built-in types, so ordinary results never cost a pg_type lookup.
const std::unordered_map<Oid, type_info>& builtin_types()
{
  static const std::unordered_map<Oid, type_info> t = {
    {16, {"bool", 'B', 0}}, {17, {"bytea", 'U', 0}}, {18, {"char", 'S', 0}},
    {19, {"name", 'S', 0}}, {20, {"int8", 'N', 0}}, {21, {"int2", 'N', 0}},
    {23, {"int4", 'N', 0}}, {25, {"text", 'S', 0}}, {26, {"oid", 'N', 0}},
    {114, {"json", 'U', 0}}, {700, {"float4", 'N', 0}}, {701, {"float8", 'N', 0}},
    {1042, {"bpchar", 'S', 0}}, {1043, {"varchar", 'S', 0}}, {1082, {"date", 'D', 0}},
    {1083, {"time", 'D', 0}}, {1114, {"timestamp", 'D', 0}}, {1184, {"timestamptz", 'D', 0}},
    {1186, {"interval", 'T', 0}}, {1700, {"numeric", 'N', 0}}, {2950, {"uuid", 'U', 0}},
    {3802, {"jsonb", 'U', 0}}, {705, {"unknown", 'X', 0}},
    {1000, {"_bool", 'A', 16}}, {1001, {"_bytea", 'A', 17}}, {1005, {"_int2", 'A', 21}},
    {1007, {"_int4", 'A', 23}}, {1016, {"_int8", 'A', 20}}, {1009, {"_text", 'A', 25}},
    {1015, {"_varchar", 'A', 1043}}, {1021, {"_float4", 'A', 700}}, {1022, {"_float8", 'A', 701}},
    {1231, {"_numeric", 'A', 1700}}, {1182, {"_date", 'A', 1082}}, {1115, {"_timestamp", 'A', 1114}},
    {1185, {"_timestamptz", 'A', 1184}}, {2951, {"_uuid", 'A', 2950}}, {199, {"_json", 'A', 114}},
    {3807, {"_jsonb", 'A', 3802}}, {1014, {"_bpchar", 'A', 1042}}, {1028, {"_oid", 'A', 26}}};
  return t;
}

/// Runs sql with the call's arguments 3..top as $1..$n, or as a plain (multi-statement) query
/// when there are none. Throws; callers run it inside lua::protect.
pg::result run_statement(lua_State* L, lua_connection& c, const std::string& sql, int top)
{
  return top > 2 ? c.conn().exec_params(sql, collect_params(L, 3, top, c, sql)) : c.conn().exec(sql);
}

int conn_query(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string sql = luaL_checkstring(L, 2);
  int top = lua_gettop(L);
  return lua::protect(L, [&] {
    pg::result r = run_statement(L, c, sql, top);
    lua_createtable(L, r.rows(), 2);
    append_rows(L, r, lua_gettop(L), 1, c);
    lua_createtable(L, r.columns(), 0);
    lua_createtable(L, r.columns(), 0);
    for (int col = 0; col < r.columns(); ++col) {
      lua_pushstring(L, r.column_name(col));
      lua_rawseti(L, -3, col + 1);
      lua_pushstring(L, c.info(r.column_type(col)).name.c_str());
      lua_rawseti(L, -2, col + 1);
    }
    lua_setfield(L, -3, "types");
    lua_setfield(L, -2, "columns");
    return 1;
  });
}

int conn_exec(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string sql = luaL_checkstring(L, 2);
  int top = lua_gettop(L);
  return lua::protect(L, [&] {
    pg::result r = run_statement(L, c, sql, top);
    lua_pushnumber(L, static_cast<double>(r.affected_rows()));
    return 1;
  });
}

int conn_scalar(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string sql = luaL_checkstring(L, 2);
  int top = lua_gettop(L);
  return lua::protect(L, [&] {
    pg::result r = run_statement(L, c, sql, top);
    if (r.rows() == 0 || r.columns() == 0) lua_pushnil(L);
    else if (r.is_null(0, 0)) push_null(L);
    else push_value(L, r.value(0, 0), r.column_type(0), c);
    return 1;
  });
}

int conn_tx(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  int base = 2;
  int nargs = lua_gettop(L) - base;
  // LuaJIT raises errors as C++ exceptions on x64: an error in the function unwinds through `tx`,
  // whose destructor rolls back.
  pg::transaction tx(c.conn());
  lua::protect(L, [&] { tx.begin(); return 0; });
  lua_call(L, nargs, LUA_MULTRET);
  lua::protect(L, [&] { tx.commit(); return 0; });
  return lua_gettop(L) - base + 1;
}

/// Runs one FETCH of a cursor and pushes its rows as a fresh array table.
int fetch_batch(lua_State* L, lua_connection& c, const std::string& cursor, int batch)
{
  int n = 0;
  lua::protect(L, [&] {
    pg::result r = c.conn().exec("FETCH " + std::to_string(batch) + " FROM " + cursor);
    lua_createtable(L, r.rows(), 0);
    n = r.rows();
    append_rows(L, r, lua_gettop(L), 1, c);
    return 0;
  });
  return n;
}

int conn_each(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  std::string sql = luaL_checkstring(L, 2);
  luaL_checktype(L, 4, LUA_TFUNCTION);
  int batch = static_cast<int>(luaL_optinteger(L, 5, 1000));
  if (batch < 1) return luaL_argerror(L, 5, "batch size must be at least 1");
  std::string cursor = "mighost_cursor_" + std::to_string(c.next_cursor_id());
  std::string declare = "DECLARE " + cursor + " NO SCROLL CURSOR FOR " + sql;
  pg::transaction tx(c.conn());  // a cursor needs a transaction: its own unless one is open
  lua::protect(L, [&] {
    if (c.conn().tx_depth() == 0) tx.begin();
    if (lua_isnoneornil(L, 3)) c.conn().exec(declare);
    else c.conn().exec_params(declare, collect_param_table(L, 3, c, sql));
    return 0;
  });
  double total = 0;
  bool stopped = false;
  while (!stopped) {
    int n = fetch_batch(L, c, cursor, batch);
    for (int i = 1; i <= n && !stopped; ++i) {
      lua_pushvalue(L, 4);
      lua_rawgeti(L, -2, i);
      lua_call(L, 1, 1);
      stopped = lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1);
      lua_pop(L, 1);
      ++total;
    }
    lua_pop(L, 1);
    if (n < batch) break;
  }
  lua::protect(L, [&] {
    c.conn().exec("CLOSE " + cursor);
    if (tx.active()) tx.commit();
    return 0;
  });
  lua_pushnumber(L, total);
  return 1;
}

/// conn:rows(sql, ...): the whole result fetched once, handed out row by row.
int rows_step(lua_State* L)
{
  int i = static_cast<int>(lua_tointeger(L, lua_upvalueindex(2))) + 1;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(2));
  lua_rawgeti(L, lua_upvalueindex(1), i);
  return 1;
}

int conn_rows(lua_State* L)
{
  lua_pushcfunction(L, conn_query);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, rows_step, 2);
  return 1;
}

int db_int64(lua_State* L)
{
  long long v = 0;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    v = static_cast<long long>(lua_tonumber(L, 1));
  } else {
    std::size_t n = 0;
    const char* s = luaL_checklstring(L, 1, &n);
    auto [ptr, ec] = std::from_chars(s, s + n, v);
    if (ec != std::errc() || ptr != s + n) return luaL_argerror(L, 1, "not a 64-bit integer");
  }
  // Through the same maker as int8 results: always a cdata here.
  lua_getglobal(L, "require");
  lua_pushliteral(L, "ffi");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "new");
  lua_pushliteral(L, "int64_t");
  lua_pushnumber(L, 0);
  lua_call(L, 2, 1);
  // Write the exact value into the fresh cdata's storage.
  *static_cast<long long*>(const_cast<void*>(lua_topointer(L, -1))) = v;
  return 1;
}

} // namespace

const type_info& lua_connection::info(Oid type)
{
  if (auto it = builtin_types().find(type); it != builtin_types().end()) return it->second;
  if (auto it = m_types.find(type); it != m_types.end()) return it->second;
  pg::result r = m_conn.exec_params(
    "SELECT typname::text, typcategory::text, typelem::int8 FROM pg_catalog.pg_type WHERE oid = $1",
    {{std::to_string(type), false}});
  type_info ti{"oid:" + std::to_string(type), 'U', 0};
  if (r.rows() == 1) {
    ti.name = std::string(r.value(0, 0));
    ti.category = r.value(0, 1).empty() ? 'U' : r.value(0, 1)[0];
    ti.element = static_cast<Oid>(std::stoul(std::string(r.value(0, 2))));
  }
  return m_types.emplace(type, ti).first->second;
}

std::vector<Oid> lua_connection::result_types(const std::string& sql)
{
  pg::result d = m_conn.describe(sql);
  std::vector<Oid> types(static_cast<std::size_t>(d.columns()));
  for (int i = 0; i < d.columns(); ++i) types[static_cast<std::size_t>(i)] = d.column_type(i);
  return types;
}

std::vector<pg::param> collect_params(lua_State* L, int first, int last, lua_connection& c,
                                      const std::string& sql)
{
  // A copy: converting a value may look up a type, which may clear the session's caches.
  const std::vector<Oid> types = c.conn().param_types(sql);
  std::vector<pg::param> params(static_cast<std::size_t>(last - first + 1));
  for (int i = first; i <= last; ++i) {
    std::size_t k = static_cast<std::size_t>(i - first);
    Oid t = k < types.size() ? types[k] : 0;
    to_text(L, i, t, params[k], "parameter $" + std::to_string(k + 1), c);
  }
  return params;
}

std::vector<pg::param> collect_param_table(lua_State* L, int idx, lua_connection& c,
                                           const std::string& sql)
{
  if (lua_isnoneornil(L, idx)) return {};
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "n");
  int n = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : static_cast<int>(lua_objlen(L, idx));
  lua_pop(L, 1);
  int first = lua_gettop(L) + 1;
  luaL_checkstack(L, n, "too many parameters");
  for (int i = 1; i <= n; ++i) lua_rawgeti(L, idx, i);
  std::vector<pg::param> params;
  try {
    params = collect_params(L, first, first + n - 1, c, sql);
  } catch (...) {
    lua_settop(L, first - 1);
    throw;
  }
  lua_settop(L, first - 1);
  return params;
}

int append_rows(lua_State* L, const pg::result& r, int dest, int start, lua_connection& c)
{
  const int cols = r.columns();
  // Column names pushed once and reused per row (interned strings, no re-hashing of text).
  int names = lua_gettop(L) + 1;
  luaL_checkstack(L, cols + 4, "too many columns");
  for (int col = 0; col < cols; ++col) lua_pushstring(L, r.column_name(col));
  int null_slot = lua_gettop(L) + 1;
  push_null(L);
  int idx = start;
  for (int row = 0; row < r.rows(); ++row) {
    lua_createtable(L, 0, cols);
    for (int col = 0; col < cols; ++col) {
      lua_pushvalue(L, names + col);
      if (r.is_null(row, col)) lua_pushvalue(L, null_slot);
      else push_value(L, r.value(row, col), r.column_type(col), c);
      lua_rawset(L, -3);
    }
    lua_rawseti(L, dest, idx++);
  }
  lua_settop(L, names - 1);
  return idx;
}

void register_query(lua_State* L)
{
  static const luaL_Reg methods[] = {
    {"query", conn_query}, {"exec", conn_exec}, {"scalar", conn_scalar},
    {"each", conn_each},   {"rows", conn_rows}, {"tx", conn_tx},
    {nullptr, nullptr}};
  luaL_getmetatable(L, k_connection_meta);
  lua_getfield(L, -1, "__index");
  luaL_register(L, nullptr, methods);
  lua_pop(L, 2);
}

void register_int64(lua_State* L)
{
  lua_pushcfunction(L, db_int64);
  lua_setfield(L, -2, "int64");
}

} // namespace mighost::bind
