// The framework's session observers: the lint every connection of a script runs its DDL through,
// and the lock report, told which schemas are the framework's own; their conn: methods.
#include "bind/db.hpp"
#include "bind/lint_hook.hpp"

#include "lua/barrier.hpp"

namespace mighost::bind {

bool bookkeeping_schema(std::string_view schema)
{
  return schema == "mig_meta" || schema.rfind("mig_backup_", 0) == 0;
}

bool untracked_schema(std::string_view schema)
{
  return bookkeeping_schema(schema) || schema == "mig_ddl_scratch";
}

pg::lint::observer& install_lint(pg::connection& c)
{
  auto* o = c.observe(std::make_unique<pg::lint::observer>(bookkeeping_schema));
  return static_cast<pg::lint::observer&>(*o);
}

namespace {

/// conn:lint_warnings(): the lock-heavy DDL findings of this session (host/pg/lint.hpp).
int conn_lint_warnings(lua_State* L)
{
  const auto& warnings = check_connection(L, 1).lint().warnings();
  lua_createtable(L, static_cast<int>(warnings.size()), 0);
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    const auto& w = warnings[i];
    lua_createtable(L, 0, 5);
    for (auto [key, value] : {std::pair{"rule", &w.rule}, {"table", &w.table}, {"statement", &w.statement},
                              {"message", &w.message}, {"safer", &w.safer}}) {
      lua_pushlstring(L, value->data(), value->size());
      lua_setfield(L, -2, key);
    }
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

/// conn:lint_new_tables({names}) -> n: the tables the running migration created; the lint judges
/// them as new (host/pg/lint_observer.hpp). Returns how many exist.
int conn_lint_new_tables(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  std::vector<std::string> names;
  for (int i = 1;; ++i) {
    lua_rawgeti(L, 2, i);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); break; }
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 2, "table names (strings) expected");
    names.emplace_back(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return lua::protect(L, [&] { lua_pushinteger(L, c.lint().new_tables(c.conn(), names)); return 1; });
}

/// conn:track_locks(): start the lock report on this session (the tables that exist now).
int conn_track_locks(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  return lua::protect(L, [&] { c.conn().track_locks(untracked_schema); return 0; });
}

/// conn:lock_report() -> {{table, strongest, strongest_seconds, strongest_statement, blocking,
/// blocking_seconds, blocking_statement}, …}
int conn_lock_report(lua_State* L)
{
  lua_connection& c = check_connection(L, 1);
  return lua::protect(L, [&] {
    auto report = c.conn().lock_report();
    lua_createtable(L, static_cast<int>(report.size()), 0);
    for (std::size_t i = 0; i < report.size(); ++i) {
      const auto& r = report[i];
      lua_createtable(L, 0, 7);
      for (auto [key, value] : {std::pair{"table", &r.table}, {"strongest", &r.strongest},
                                {"strongest_statement", &r.strongest_statement}, {"blocking", &r.blocking},
                                {"blocking_statement", &r.blocking_statement}}) {
        lua_pushlstring(L, value->data(), value->size());
        lua_setfield(L, -2, key);
      }
      lua_pushnumber(L, r.strongest_seconds);
      lua_setfield(L, -2, "strongest_seconds");
      lua_pushnumber(L, r.blocking_seconds);
      lua_setfield(L, -2, "blocking_seconds");
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
    return 1;
  });
}

} // namespace

void register_lint(lua_State* L)
{
  static const luaL_Reg methods[] = {
    {"lint_warnings", conn_lint_warnings}, {"lint_new_tables", conn_lint_new_tables},
    {"track_locks", conn_track_locks},     {"lock_report", conn_lock_report},
    {nullptr, nullptr}};
  luaL_getmetatable(L, k_connection_meta);
  lua_getfield(L, -1, "__index");
  luaL_register(L, nullptr, methods);
  lua_pop(L, 2);
}

} // namespace mighost::bind
