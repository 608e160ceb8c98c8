// `mighost inspect --db URL [TABLE] [--json]`: tables, columns, keys, indexes, enums and
// sequences, read by mighost.schema (the same code scripts use) and printed here.
#include "cli/command.hpp"

#include "bind/modules.hpp"
#include "lua/state.hpp"
#include "pg/conninfo.hpp"
#include "pg/ident.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace mighost::cli {

namespace {

using nlohmann::json;

/// Runs in a fresh state with the operator's --db as the default connection.
constexpr const char* k_snippet = R"lua(
local db, schema = require "mighost.db", require "mighost.schema"
local tbl, sch = ...
local conn = db.connect()
local out
if tbl then
  local rel = sch and {sch, tbl} or tbl
  local t = schema.table(conn, rel)
  if not t then
    error(("no table or view %s (search_path: %s)"):format(schema.qualify(rel), conn:scalar("SHOW search_path")), 0)
  end
  out = {tables = {t}}
else
  out = schema.describe(conn, {schema = sch})
end
conn:close()
return out
)lua";

/// A Lua value as JSON: sequences become arrays (an empty table too: every list here is one),
/// other tables objects; int64 cdata becomes an integer.
json to_json(lua_State* L, int idx)
{
  if (idx < 0) idx = lua_gettop(L) + idx + 1;
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: return lua_toboolean(L, idx) != 0;
  case LUA_TNUMBER: {
    double d = lua_tonumber(L, idx);
    if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return static_cast<long long>(d);
    return d;
  }
  case LUA_TSTRING: {
    std::size_t n = 0;
    const char* s = lua_tolstring(L, idx, &n);
    return std::string(s, n);
  }
  case LUA_TTABLE: {
    if (std::size_t n = lua_objlen(L, idx); n > 0) {
      json arr = json::array();
      for (std::size_t i = 1; i <= n; ++i) {
        lua_rawgeti(L, idx, static_cast<int>(i));
        arr.push_back(to_json(L, -1));
        lua_pop(L, 1);
      }
      return arr;
    }
    json obj = json::object();
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      lua_pushvalue(L, -2);  // tostring on a copy: lua_next needs the key untouched
      const int top = lua_gettop(L);
      obj[bind::luaL_tolstring_compat(L, top)] = to_json(L, top - 1);
      lua_pop(L, 2);
    }
    return obj.empty() ? json::array() : obj;
  }
  case LUA_TNIL: return nullptr;
  default: {  // int64 cdata: "123LL"
    std::string s = bind::luaL_tolstring_compat(L, idx);
    while (!s.empty() && (s.back() == 'L' || s.back() == 'U')) s.pop_back();
    try {
      return std::stoll(s);
    } catch (const std::exception&) {
      return s;
    }
  }
  }
}

std::string str(const json& j, const char* key)
{
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

/// The field `key` as an identifier.
std::string name(const json& j, const char* key) { return pg::quote_if_needed(str(j, key)); }

/// `schema.name` from two fields.
std::string qualified(const json& j, const char* schema_key, const char* name_key)
{
  return name(j, schema_key) + "." + name(j, name_key);
}

/// An array field joined; `names` quotes each element as an identifier.
std::string joined(const json& j, const char* key, bool names = true)
{
  std::string out;
  if (auto it = j.find(key); it != j.end() && it->is_array())
    for (const auto& v : *it) {
      std::string item = v.is_string() ? v.get<std::string>() : v.dump();
      out += (out.empty() ? "" : ", ") + (names ? pg::quote_if_needed(item) : item);
    }
  return out;
}

std::string human_bytes(double b)
{
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 10240 && u < 4) { b /= 1024; ++u; }
  return std::to_string(static_cast<long long>(b)) + " " + units[u];
}

void print_columns(const json& cols)
{
  std::size_t wn = 6, wt = 4;
  for (const auto& c : cols) {
    wn = std::max(wn, name(c, "name").size());
    wt = std::max(wt, str(c, "type").size());
  }
  auto line = [&](const std::string& n, const std::string& type, const char* null, const std::string& def) {
    std::string l = "  " + n + std::string(wn - n.size() + 2, ' ') + type + std::string(wt - type.size() + 2, ' ') +
                    null + (def.empty() ? "" : std::string(10 - std::strlen(null), ' ') + def);
    std::printf("%s\n", l.c_str());
  };
  line("column", "type", "null", "default");
  for (const auto& c : cols) {
    std::string def = str(c, "default");
    if (!str(c, "identity").empty()) def = "identity " + str(c, "identity");
    if (!str(c, "generated").empty()) def = "generated: " + str(c, "generated");
    line(name(c, "name"), str(c, "type"), c.value("nullable", true) ? "null" : "not null", def);
  }
}

void print_table(const json& t)
{
  std::string facts = str(t, "kind");
  if (t.contains("rows") && !t["rows"].is_null()) facts += ", ~" + str(t, "rows") + " rows";
  if (t.contains("bytes")) facts += ", " + human_bytes(t.value("bytes", 0.0));
  std::printf("%s  (%s)\n", qualified(t, "schema", "name").c_str(), facts.c_str());
  print_columns(t.value("columns", json::array()));
  if (t.contains("primary_key") && t["primary_key"].is_object())
    std::printf("  primary key    %s (%s)\n", name(t["primary_key"], "name").c_str(), joined(t["primary_key"], "columns").c_str());
  for (const auto& k : t.value("foreign_keys", json::array()))
    std::printf("  foreign key    %s (%s) -> %s (%s) on update %s, on delete %s%s\n", name(k, "name").c_str(),
                joined(k, "columns").c_str(), qualified(k, "ref_schema", "ref_table").c_str(),
                joined(k, "ref_columns").c_str(), str(k, "on_update").c_str(), str(k, "on_delete").c_str(),
                k.value("validated", true) ? "" : " NOT VALID");
  for (const auto& k : t.value("unique", json::array()))
    std::printf("  unique         %s (%s)\n", name(k, "name").c_str(), joined(k, "columns").c_str());
  for (const auto& k : t.value("checks", json::array()))
    std::printf("  check          %s %s\n", name(k, "name").c_str(), str(k, "definition").c_str());
  for (const auto& i : t.value("indexes", json::array())) {
    std::string flags = i.value("primary", false) ? " primary" : (i.value("unique", false) ? " unique" : "");
    if (!i.value("valid", true)) flags += " INVALID";
    std::string where = str(i, "predicate").empty() ? "" : " where " + str(i, "predicate");
    // Expression columns are SQL already; plain ones are names.
    std::string cols;
    for (const auto& c : i.value("columns", json::array())) {
      std::string col = c.is_string() ? c.get<std::string>() : c.dump();
      cols += (cols.empty() ? "" : ", ") + (col.find('(') == std::string::npos ? pg::quote_if_needed(col) : col);
    }
    std::printf("  index          %s %s%s (%s)%s\n", name(i, "name").c_str(), str(i, "method").c_str(), flags.c_str(),
                cols.c_str(), where.c_str());
  }
  for (const auto& k : t.value("referenced_by", json::array()))
    std::printf("  referenced by  %s %s (%s)\n", qualified(k, "src_schema", "src_table").c_str(),
                name(k, "name").c_str(), joined(k, "columns").c_str());
}

void print_text(const json& d)
{
  const json tables = d.value("tables", json::array());
  if (tables.empty()) std::printf("no tables\n");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    if (i) std::printf("\n");
    print_table(tables[i]);
  }
  if (auto enums = d.value("enums", json::array()); !enums.empty()) {
    std::printf("\nenums\n");
    for (const auto& e : enums)
      std::printf("  %s  %s\n", qualified(e, "schema", "name").c_str(), joined(e, "labels", false).c_str());
  }
  if (auto seqs = d.value("sequences", json::array()); !seqs.empty()) {
    std::printf("\nsequences\n");
    for (const auto& s : seqs) {
      std::string owner = str(s, "owner_table").empty() ? "" :
        ", owned by " + qualified(s, "owner_schema", "owner_table") + "." + name(s, "owner_column");
      std::string last = str(s, "last_value").empty() ? ", unused" : ", last value " + str(s, "last_value");
      std::printf("  %s  %s%s%s\n", qualified(s, "schema", "name").c_str(), str(s, "data_type").c_str(),
                  last.c_str(), owner.c_str());
    }
  }
}

class inspect_command : public command
{
public:
  const char* name() const override { return "inspect"; }
  const char* summary() const override
  {
    return "show tables, columns, keys, indexes, enums and sequences (readable, or --json)";
  }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("table", m_table, "only this table (\"name\" or \"schema.name\")");
    sub.add_option("--db", m_db, "libpq URL or key=value conninfo (default: DATABASE_URL, then the PG* environment)");
    sub.add_option("--schema", m_schema, "only this schema (default: every schema but the system's)");
    sub.add_flag("--json", m_json, "print JSON (the tables as mighost.schema.table() returns them)");
    add_log_options(sub, global);
  }

  int run(CLI::App&, global_options&) override
  {
    check_db_flag("--db", m_db);
    lua::state L;
    bind::prepare_state(L, {"", {}, m_db});
    if (luaL_loadbuffer(L, k_snippet, std::char_traits<char>::length(k_snippet), "=inspect") != 0)
      throw std::logic_error(std::string("inspect snippet: ") + lua_tostring(L, -1));
    if (m_table.empty()) lua_pushnil(L);
    else lua_pushlstring(L, m_table.data(), m_table.size());
    if (m_schema.empty()) lua_pushnil(L);
    else lua_pushlstring(L, m_schema.data(), m_schema.size());
    lua::call_status st = lua::pcall(L, 2, 1);
    if (!st.ok) {
      std::fprintf(stderr, "mighost: inspect: %s\n", pg::mask_password(st.message).c_str());
      return exit_code::error;
    }
    json d = to_json(L, -1);
    lua_pop(L, 1);
    if (m_json) std::printf("%s\n", d.dump(2).c_str());
    else print_text(d);
    return exit_code::ok;
  }

private:
  std::string m_db, m_table, m_schema;
  bool m_json = false;
};

registrar<inspect_command> reg;

} // namespace
} // namespace mighost::cli
