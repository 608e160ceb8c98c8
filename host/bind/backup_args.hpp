#pragma once
/// @file What the mighost.backup bindings share: reading their option tables, pushing JSON
/// results, and the barrier that gives engine errors their "backup: " prefix.
#include "backup/backup.hpp"
#include "lua/barrier.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace mighost::bind {

/// Opens the background backup's type (host/bind/backup_job.cpp): backup.start.
int backup_start(lua_State* L);

namespace backup_args {

/// Pushes a JSON value as Lua (objects and arrays as tables, null as nil).
void push_json(lua_State* L, const nlohmann::json& j);
/// opts[key] as a string (numbers too), `def` when nil; raises for another type.
std::string opt_string(lua_State* L, int opts, const char* key, const std::string& def = "");
bool opt_bool(lua_State* L, int opts, const char* key);
/// opts.tables: an array of names, or of {schema = , name = } tables.
std::vector<std::string> opt_tables(lua_State* L, int opts);
/// opts.conn: a mighost.db.Connection (required); the options table keeps it alive.
pg::connection& opt_conn(lua_State* L, int opts);
/// What to back up and where: tables or schema, dir, compress and level, script, run_id. Call it
/// under run(): a compression it does not know throws backup_error.
backup::snapshot_options opt_snapshot(lua_State* L, int opts);

/// Runs `body` under the exception barrier; engine errors get the "backup: " prefix.
template <class F>
int run(lua_State* L, F&& body)
{
  return lua::protect(L, [&] {
    try {
      return body();
    } catch (const backup::backup_error& e) {
      throw std::runtime_error(std::string("backup: ") + e.what());
    }
  });
}

} // namespace backup_args

} // namespace mighost::bind
