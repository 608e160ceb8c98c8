/// \file The backup declaration of mighost.migration (no database): the list form stays as it was,
/// `dir` asks for a file backup and becomes --backup-dir's default, mistakes are named. The run
/// itself (writing, verifying, refusing) is tested end to end by tests/framework/backup_tests.sh.
#include <catch2/catch.hpp>

#include "bind/modules.hpp"
#include "lua/state.hpp"

#include <string>

namespace {

/// A state prepared like `mighost run` does it, without a database.
class decl_lua
{
public:
  decl_lua() { mighost::bind::prepare_state(m_state, m_info); }

  /// Runs `code` and returns tostring() of its first result, or "<error: ...>".
  std::string eval(const std::string& code)
  {
    lua_State* L = m_state;
    mighost::lua::stack_guard guard(L);
    if (luaL_loadbuffer(L, code.data(), code.size(), "@test.lua") != 0)
      return "<error: " + mighost::lua::error_text(L, -1) + ">";
    mighost::lua::call_status st = mighost::lua::pcall(L, 0, 1);
    if (!st.ok) return "<error: " + st.message + ">";
    return mighost::bind::luaL_tolstring_compat(L, lua_gettop(L));
  }

private:
  mighost::bind::script_info m_info{"", {}, ""};  // outlives the state
  mighost::lua::state m_state;
};

const std::string k_define = "local migration = require 'mighost.migration'\n"
                             "local function def(b) return migration.define{name = 'm', backup = b} end\n";

/// The parsed --backup-dir value of `args` for declaration `b` (Lua source).
std::string backup_dir_of(decl_lua& lua, const std::string& b, const std::string& args)
{
  return lua.eval(k_define + "local d = def(" + b + ")\n"
                  "local o = require 'mighost.mig_options'\n"
                  "local v = o.parse(d.option_list, " + args + ")\n"
                  "return tostring(v.backup_dir)");
}

} // namespace

TEST_CASE("backup declaration: the list form is unchanged, in-database copy only", "[backup][migration]")
{
  decl_lua lua;
  CHECK(lua.eval(k_define + "local d = def{'items', 's.t'} return table.concat(d.backup, ',') .. ' ' .. "
                            "tostring(d.backup_copy) .. ' ' .. tostring(d.backup_dir)") == "items,s.t true nil");
  CHECK(lua.eval(k_define + "return #def(nil).backup") == "0");
  CHECK(backup_dir_of(lua, "{'items'}", "{}") == "nil");
  CHECK(backup_dir_of(lua, "{'items'}", "{'--backup-dir', 'bk'}") == "bk");
}

TEST_CASE("backup declaration: dir asks for a file backup, --backup-dir overrides it", "[backup][migration]")
{
  decl_lua lua;
  CHECK(lua.eval(k_define + "local d = def{'a', tables = {'b'}, dir = 'backups', copy = false} "
                            "return table.concat(d.backup, ',') .. ' ' .. tostring(d.backup_copy)") == "b,a false");
  CHECK(backup_dir_of(lua, "{'items', dir = 'backups'}", "{}") == "backups");
  CHECK(backup_dir_of(lua, "{'items', dir = 'backups'}", "{'--backup-dir=/tmp/x'}") == "/tmp/x");
  // --help names the option, the declared tables and the default directory
  std::string help = lua.eval(k_define + "local d = def{'items', dir = 'backups'} "
                                         "return require('mighost.mig_options').help(d.option_list, 'u')");
  CHECK(help.find("--backup-dir DIR") != std::string::npos);
  CHECK(help.find("(items)") != std::string::npos);
  CHECK(help.find("(default backups)") != std::string::npos);
}

TEST_CASE("backup declaration: mistakes are named", "[backup][migration]")
{
  decl_lua lua;
  CHECK(lua.eval(k_define + "return def{'items', dirr = 'x'}").find("unknown key 'dirr'") != std::string::npos);
  CHECK(lua.eval(k_define + "return def{'items', dir = 5}").find("backup.dir must be a directory path") !=
        std::string::npos);
  CHECK(lua.eval(k_define + "return def{'items', 7}").find("backup[2] must be a table name") != std::string::npos);
  CHECK(lua.eval(k_define + "return def('items')").find("backup must be a table") != std::string::npos);
}
