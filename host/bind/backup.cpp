// mighost.backup: table snapshots, their verification and restore, and the JSON export of
// seed 004, for scripts and the migration framework. The engine is host/backup (no Lua there).
//
//   backup.tables{conn = c, tables = {"a", "s.b"} | schema = "s", dir = "...",
//                 compress = "none"|"zstd", level = 1, script = ..., run_id = ...}  -> manifest table
//   backup.verify(dir)                          -> ok, problems (array of strings)
//   backup.restore(dir, {conn = c, tables = {...}, truncate = bool})   -> {tables = {...}}
//   backup.json{conn = c, tables = {...}, prefix = "rds", dir = ".", schema = "s", order_by = {"id"},
//               meta = {k = "v"}}                                   -> path, info
//   backup.verify_json(path[, {sha256 = "...", row_counts = {t = n}}]) -> ok, problems, info
//   backup.probe_dir(dir)                       -> ok, detail (nothing is created)
//   backup.restore_json(path, {conn = c, tables = {...}, schema = "s", truncate = bool})
// Errors are raised as strings starting with "backup: " (SQL errors as mighost.db.Error objects);
// a refused restore's message starts with "backup: restore refused:".
#include "bind/backup_args.hpp"
#include "bind/db.hpp"
#include "bind/modules.hpp"

namespace mighost::bind {

namespace backup_args {

void push_json(lua_State* L, const nlohmann::json& j)
{
  switch (j.type()) {
    case nlohmann::json::value_t::boolean: lua_pushboolean(L, j.get<bool>()); break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: lua_pushnumber(L, j.get<double>()); break;
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      break;
    }
    case nlohmann::json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      int i = 0;
      for (const auto& v : j) {
        push_json(L, v);
        lua_rawseti(L, -2, ++i);
      }
      break;
    }
    case nlohmann::json::value_t::object:
      lua_createtable(L, 0, static_cast<int>(j.size()));
      for (const auto& [k, v] : j.items()) {
        push_json(L, v);
        lua_setfield(L, -2, k.c_str());
      }
      break;
    default: lua_pushnil(L);
  }
}

std::string opt_string(lua_State* L, int opts, const char* key, const std::string& def)
{
  lua_getfield(L, opts, key);
  std::string out = def;
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) out = lua_tostring(L, -1);
  else if (!lua_isnil(L, -1)) luaL_error(L, "backup: option '%s' must be a string", key);
  lua_pop(L, 1);
  return out;
}

bool opt_bool(lua_State* L, int opts, const char* key)
{
  lua_getfield(L, opts, key);
  bool out = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  return out;
}

/// opts.tables: an array of names, or of {schema = , name = } tables.
std::vector<std::string> opt_tables(lua_State* L, int opts)
{
  std::vector<std::string> out;
  lua_getfield(L, opts, "tables");
  if (lua_type(L, -1) == LUA_TSTRING) out.push_back(lua_tostring(L, -1));
  else if (lua_istable(L, -1)) {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      if (lua_type(L, -1) == LUA_TSTRING) out.push_back(lua_tostring(L, -1));
      else if (lua_istable(L, -1)) {
        int t = lua_gettop(L);
        std::string schema = opt_string(L, t, "schema"), name = opt_string(L, t, "name");
        if (name.empty()) luaL_error(L, "backup: tables[%d] needs a name", i);
        out.push_back(schema.empty() ? name : schema + "." + name);
      } else {
        luaL_error(L, "backup: tables[%d] must be a string or {schema =, name =}", i);
      }
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "backup: option 'tables' must be an array of names");
  }
  lua_pop(L, 1);
  return out;
}

pg::connection& opt_conn(lua_State* L, int opts)
{
  lua_getfield(L, opts, "conn");
  if (lua_isnil(L, -1)) luaL_error(L, "backup: option 'conn' (a connection from db.connect) is required");
  // The options table keeps the connection alive for the whole call.
  pg::connection& c = check_connection(L, lua_gettop(L)).conn();
  lua_pop(L, 1);
  return c;
}

backup::snapshot_options opt_snapshot(lua_State* L, int opts)
{
  backup::snapshot_options o;
  o.tables = opt_tables(L, opts);
  o.schema = opt_string(L, opts, "schema");
  o.dir = opt_string(L, opts, "dir");
  o.script = opt_string(L, opts, "script");
  o.run_id = opt_string(L, opts, "run_id");
  o.comp = backup::parse_compression(opt_string(L, opts, "compress", "none"));
  lua_getfield(L, opts, "level");
  o.level = static_cast<int>(luaL_optinteger(L, -1, 1));
  lua_pop(L, 1);
  return o;
}

} // namespace backup_args

namespace {

using namespace backup_args;

int backup_tables(lua_State* L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  pg::connection& c = opt_conn(L, 1);
  return run(L, [&] {
    push_json(L, backup::snapshot(c, opt_snapshot(L, 1)));
    return 1;
  });
}

int backup_verify(lua_State* L)
{
  std::string dir = luaL_checkstring(L, 1);
  return run(L, [&] {
    backup::verify_report rep = backup::verify(dir);
    lua_pushboolean(L, rep.ok);
    push_json(L, nlohmann::json(rep.problems));
    return 2;
  });
}

int backup_restore(lua_State* L)
{
  std::string dir = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  pg::connection& c = opt_conn(L, 2);
  backup::restore_options o;
  o.tables = opt_tables(L, 2);
  o.truncate = opt_bool(L, 2, "truncate");
  return run(L, [&] {
    push_json(L, backup::restore(c, dir, o));
    return 1;
  });
}

/// opts[key]: a name or an array of names.
std::vector<std::string> opt_names(lua_State* L, int opts, const char* key)
{
  std::vector<std::string> out;
  lua_getfield(L, opts, key);
  if (lua_type(L, -1) == LUA_TSTRING) {
    out.push_back(lua_tostring(L, -1));
  } else if (lua_istable(L, -1)) {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "backup: %s[%d] must be a name", key, i);
      out.push_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "backup: option '%s' must be a name or an array of names", key);
  }
  lua_pop(L, 1);
  return out;
}

/// opts[key]: a flat table of scalar values (strings, numbers, booleans) as a JSON object.
nlohmann::json opt_flat_object(lua_State* L, int opts, const char* key)
{
  nlohmann::json out = nlohmann::json::object();
  lua_getfield(L, opts, key);
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "backup: %s keys must be strings", key);
      std::string k = lua_tostring(L, -2);
      switch (lua_type(L, -1)) {
        case LUA_TBOOLEAN: out[k] = lua_toboolean(L, -1) != 0; break;
        case LUA_TNUMBER: out[k] = lua_tonumber(L, -1); break;
        case LUA_TSTRING: out[k] = std::string(lua_tostring(L, -1)); break;
        default: luaL_error(L, "backup: %s.%s must be a string, number or boolean", key, k.c_str());
      }
      lua_pop(L, 1);
    }
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "backup: option '%s' must be a table", key);
  }
  lua_pop(L, 1);
  return out;
}

int backup_json(lua_State* L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  pg::connection& c = opt_conn(L, 1);
  backup::json_options o;
  o.tables = opt_tables(L, 1);
  o.prefix = opt_string(L, 1, "prefix", "backup");
  o.dir = opt_string(L, 1, "dir", ".");
  o.schema = opt_string(L, 1, "schema");
  o.order_by = opt_names(L, 1, "order_by");
  o.meta = opt_flat_object(L, 1, "meta");
  return run(L, [&] {
    nlohmann::json info = backup::export_json(c, o);
    std::string path = info["path"];
    lua_pushlstring(L, path.data(), path.size());
    push_json(L, info);
    return 2;
  });
}

int backup_verify_json(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  std::string sha;
  nlohmann::json counts;  // null: no expectation
  if (lua_istable(L, 2)) {
    sha = opt_string(L, 2, "sha256");
    lua_getfield(L, 2, "row_counts");
    if (lua_istable(L, -1)) {
      counts = nlohmann::json::object();
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER)
          counts[lua_tostring(L, -2)] = static_cast<long long>(lua_tonumber(L, -1));
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  return run(L, [&] {
    backup::json_verify_report rep = backup::verify_json(path, sha, counts);
    lua_pushboolean(L, rep.ok);
    push_json(L, nlohmann::json(rep.problems));
    push_json(L, {{"sha256", rep.sha256}, {"bytes", rep.bytes}, {"row_counts", rep.row_counts}});
    return 3;
  });
}

int backup_probe_dir(lua_State* L)
{
  std::string dir = luaL_checkstring(L, 1);
  return run(L, [&] {
    std::string why = backup::probe_output_dir(dir);
    lua_pushboolean(L, why.empty());
    lua_pushstring(L, why.empty() ? ("a backup can be written into " + dir).c_str() : why.c_str());
    return 2;
  });
}

int backup_restore_json(lua_State* L)
{
  std::string path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  pg::connection& c = opt_conn(L, 2);
  backup::json_restore_options o;
  o.tables = opt_tables(L, 2);
  o.schema = opt_string(L, 2, "schema");
  o.truncate = opt_bool(L, 2, "truncate");
  return run(L, [&] {
    push_json(L, backup::restore_json(c, path, o));
    return 1;
  });
}

} // namespace

int open_backup(lua_State* L)
{
  static const luaL_Reg fns[] = {{"tables", backup_tables},   {"verify", backup_verify},
                                 {"start", backup_start},
                                 {"restore", backup_restore}, {"json", backup_json},
                                 {"restore_json", backup_restore_json}, {"verify_json", backup_verify_json},
                                 {"probe_dir", backup_probe_dir},       {nullptr, nullptr}};
  lua_newtable(L);
  luaL_register(L, nullptr, fns);
  return 1;
}

} // namespace mighost::bind
