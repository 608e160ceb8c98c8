/// \file The backup declaration of mighost.migration (no database): the list form stays as it was,
/// `dir` asks for a file backup and becomes --backup-dir's default, mistakes are named. The run
/// itself (writing, verifying, refusing) is tested end to end by tests/framework/backup_tests.sh.
#include <catch2/catch.hpp>

#include "lua_harness.hpp"

#include <string>

namespace {

using mighost::test::lua_env;

const std::string k_define = "local migration = require 'mighost.migration'\n"
                             "local function def(b) return migration.define{name = 'm', backup = b} end\n";

/// The parsed --backup-dir value of `args` for declaration `b` (Lua source).
std::string backup_dir_of(lua_env& lua, const std::string& b, const std::string& args)
{
  return lua.eval(k_define + "local d = def(" + b + ")\n"
                  "local o = require 'mighost.mig_options'\n"
                  "local v = o.parse(d.option_list, " + args + ")\n"
                  "return tostring(v.backup_dir)");
}

} // namespace

TEST_CASE("backup declaration: the list form is unchanged, in-database copy only", "[backup][migration]")
{
  lua_env lua;
  CHECK(lua.eval(k_define + "local d = def{'items', 's.t'} return table.concat(d.backup, ',') .. ' ' .. "
                            "tostring(d.backup_copy) .. ' ' .. tostring(d.backup_dir)") == "items,s.t true nil");
  CHECK(lua.eval(k_define + "return #def(nil).backup") == "0");
  CHECK(backup_dir_of(lua, "{'items'}", "{}") == "nil");
  CHECK(backup_dir_of(lua, "{'items'}", "{'--backup-dir', 'bk'}") == "bk");
}

TEST_CASE("backup declaration: dir asks for a file backup, --backup-dir overrides it", "[backup][migration]")
{
  lua_env lua;
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
  lua_env lua;
  CHECK(lua.eval(k_define + "return def{'items', dirr = 'x'}").find("unknown key 'dirr'") != std::string::npos);
  CHECK(lua.eval(k_define + "return def{'items', dir = 5}").find("backup.dir must be a directory path") !=
        std::string::npos);
  CHECK(lua.eval(k_define + "return def{'items', 7}").find("backup[2] must be a table name") != std::string::npos);
  CHECK(lua.eval(k_define + "return def('items')").find("backup must be a table") != std::string::npos);
}
