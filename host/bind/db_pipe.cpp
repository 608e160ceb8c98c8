// mighost.db: conn:copy_from(source, query, table, columns) — the rows of a query on one session
// streamed into a table of another by COPY, as `psql -c "\copy (query) TO STDOUT" | psql -c
// "\copy table FROM STDIN"` does: the COPY text is relayed block by block, never turned into Lua
// values, so memory stays flat and the client spends well under a microsecond per row.
#include "bind/db.hpp"

#include "lua/barrier.hpp"

namespace mighost::bind {

namespace {

constexpr std::size_t k_block = 256 * 1024;

/// Quotes a column name (as copy_in does: a name holding a double quote is taken as quoted).
std::string column_sql(lua_connection& c, const std::string& name)
{
  if (name.find('"') != std::string::npos) return name;
  return c.conn().quote_ident(name);
}

/// "schema.table" or "table", each part quoted unless the caller quoted it already.
std::string table_sql(lua_connection& c, const std::string& name)
{
  if (name.find('"') != std::string::npos) return name;
  auto dot = name.find('.');
  if (dot == std::string::npos) return c.conn().quote_ident(name);
  return c.conn().quote_ident(name.substr(0, dot)) + "." + c.conn().quote_ident(name.substr(dot + 1));
}

int conn_copy_from(lua_State* L)
{
  lua_connection& dst = check_connection(L, 1);
  lua_connection& src = check_connection(L, 2);
  std::string query = luaL_checkstring(L, 3);
  std::string table = luaL_checkstring(L, 4);
  luaL_checktype(L, 5, LUA_TTABLE);
  if (&dst == &src) return luaL_argerror(L, 2, "the source must be another connection (one session cannot COPY both ways)");
  std::vector<std::string> columns;
  for (int i = 1;; ++i) {
    lua_rawgeti(L, 5, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 5, "column names must be strings");
    columns.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (columns.empty()) return luaL_argerror(L, 5, "at least one column");
  return lua::protect(L, [&] {
    std::string cols;
    for (const auto& c : columns) cols += (cols.empty() ? "" : ", ") + column_sql(dst, c);
    dst.conn().begin_copy_in("COPY " + table_sql(dst, table) + " (" + cols + ") FROM STDIN");
    long long rows = 0;
    try {
      src.conn().begin_copy_out("COPY (" + query + ") TO STDOUT");
      std::string block;
      block.reserve(k_block + 4096);
      std::string_view line;
      while (src.conn().next_copy_row(line)) {
        block.append(line);
        ++rows;
        if (block.size() >= k_block) {
          dst.conn().put_copy_data(block);
          block.clear();
        }
      }
      if (!block.empty()) dst.conn().put_copy_data(block);
    } catch (...) {
      src.conn().drain_copy_out();
      dst.conn().abort_copy_in("copy_from: reading the source failed");
      throw;
    }
    long long stored = dst.conn().end_copy_in();
    lua_pushnumber(L, static_cast<double>(stored));
    lua_pushnumber(L, static_cast<double>(rows));
    return 2;
  });
}

} // namespace

void register_pipe(lua_State* L)
{
  static const luaL_Reg methods[] = {{"copy_from", conn_copy_from}, {nullptr, nullptr}};
  luaL_getmetatable(L, k_connection_meta);
  lua_getfield(L, -1, "__index");
  luaL_register(L, nullptr, methods);
  lua_pop(L, 2);
}

} // namespace mighost::bind
