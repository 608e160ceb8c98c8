// `mighost status [--db URL] [SCRIPT]`: the migration runs recorded in mig_meta and their state.
#include "cli/command.hpp"

#include "bind/modules.hpp"
#include "lua/state.hpp"
#include "pg/conninfo.hpp"

#include <cstdio>

namespace mighost::cli {

namespace {

class status_command : public command
{
public:
  const char* name() const override { return "status"; }
  const char* summary() const override { return "list migration runs (mig_meta.runs) and their state"; }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("script", m_script, "only the runs of this migration script (and whether it changed since)");
    sub.add_option("--db", m_db, "libpq URL or key=value conninfo (default: DATABASE_URL, then the PG* environment)");
    sub.add_option("--limit", m_limit, "how many runs to show, newest last (default 20)")->check(CLI::PositiveNumber);
    add_log_options(sub, global);
  }

  int run(CLI::App&, global_options&) override
  {
    check_db_flag("--db", m_db);
    // The listing is Lua (stdlib/mighost/mig_status.lua) on the same bindings a script uses.
    bind::script_info info{"", {}, m_db};
    lua::state L;
    bind::prepare_state(L, info);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "mighost.mig_status");
    lua::call_status st = lua::pcall(L, 1, 1);
    if (st.ok) {
      lua_getfield(L, -1, "main");
      lua_remove(L, -2);
      lua_createtable(L, 0, 3);
      lua_pushstring(L, m_db.c_str());
      lua_setfield(L, -2, "db");
      if (!m_script.empty()) {
        lua_pushstring(L, m_script.c_str());
        lua_setfield(L, -2, "script");
      }
      lua_pushinteger(L, m_limit);
      lua_setfield(L, -2, "limit");
      st = lua::pcall(L, 1, 1);
    }
    std::fflush(stdout);
    if (!st.ok) {
      std::fprintf(stderr, "mighost: error: %s\n", pg::mask_password(st.message).c_str());
      return exit_code::error;
    }
    return lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : exit_code::ok;
  }

private:
  std::string m_script;
  std::string m_db;
  int m_limit = 20;
};

registrar<status_command> reg;

} // namespace
} // namespace mighost::cli
