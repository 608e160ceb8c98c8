/// \file The Lua side of the migration framework that needs no database: the JSON codec and typed
/// option parsing (tests/unit/lua/mig_json_options.lua), a phase's fetch, and mighost.worker
/// threads (results, errors with tracebacks, progress, stop). The rest is exercised end to end by
/// tests/framework/run.sh.
#include <catch2/catch.hpp>

#include "lua_harness.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using mighost::test::lua_env;

/// A script file in a private temp dir, removed at the end.
class temp_script
{
public:
  explicit temp_script(const std::string& text)
  {
    char dir[] = "/tmp/mighost-mig-test-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    m_dir = dir;
    m_path = m_dir + "/job.lua";
    std::ofstream(m_path) << text;
  }
  ~temp_script()
  {
    std::remove(m_path.c_str());
    rmdir(m_dir.c_str());
  }
  const std::string& path() const { return m_path; }

private:
  std::string m_dir, m_path;
};

} // namespace

TEST_CASE("mig_json and mig_options (tests/unit/lua/mig_json_options.lua)", "[migration]")
{
  mighost::test::run_lua_cases("mig_json_options.lua");
}

TEST_CASE("migration.define: a phase's fetch is rows or range; range reads on the ledger connection", "[migration]")
{
  lua_env env;
  const std::string d = "local migration = require 'mighost.migration' "
                        "local function def(fetch, from) return migration.define{name = 'm', "
                        "  connections = {'source', 'target'}, phases = {{name = 'p', source = 'SELECT 1 AS k', "
                        "  key = 'k', migrated = 'true', fetch = fetch, from = from, batch = function() return 0 end}}} end ";
  CHECK(env.eval(d + "return def('range').phases[1].fetch") == "range");
  CHECK(env.eval(d + "return def(nil).phases[1].from") == "target");
  CHECK(env.eval(d + "return def('rows', 'source').phases[1].from") == "source");
  CHECK(env.eval(d + "return def('range', 'source')").find("fetch = \"range\" needs its source on the ledger connection (target), "
                                                          "not source") != std::string::npos);
  CHECK(env.eval(d + "return def('keys')").find("fetch must be \"rows\" (default) or \"range\", not keys") !=
        std::string::npos);
}

TEST_CASE("mighost.worker: one thread and state per job; errors come back as text", "[migration]")
{
  temp_script script(R"(
    local worker = require 'mighost.worker'
    local sys = require 'mighost.sys'
    local job = worker.job()
    if not job then return 'main' end
    if job == 'boom' then error('worker exploded') end
    if job == 'wait' then
      while not worker.stopping() do sys.sleep(0.01) end
      return 'stopped'
    end
    worker.report(#job)
    return job:upper() .. ':' .. worker.index()
  )");
  lua_env env;
  const std::string start = "local worker = require 'mighost.worker' "
                            "local pool = worker.start{script = '" + script.path() + "', jobs = {'a', 'bbb', 'boom'}} "
                            "local r = pool:wait() ";
  CHECK(env.eval(start + "return r[1].result .. ' ' .. r[2].result .. ' ' .. tostring(r[3].ok)") == "A:1 BBB:2 false");
  CHECK(env.eval(start + "return r[3].error").find("job.lua:6: worker exploded") != std::string::npos);
  CHECK(env.eval(start + "return r[3].traceback:find('stack traceback', 1, true) ~= nil") == "true");
  CHECK(env.eval(start + "local p = pool:progress() return p[1] .. ',' .. p[2] .. ',' .. p[3]") == "1,3,0");
  CHECK(env.eval(start + "return pool:running()") == "0");
  CHECK(env.eval("return tostring(require('mighost.worker').job())") == "nil");
  // pool:stop() reaches every worker; close() joins (no thread outlives its pool)
  CHECK(env.eval("local worker = require 'mighost.worker' "
                 "local pool = worker.start{script = '" + script.path() + "', jobs = {'wait', 'wait', 'wait', 'wait'}} "
                 "require('mighost.sys').sleep(0.05) local before = pool:running() pool:stop() "
                 "local r = pool:wait() pool:close() "
                 "return before .. ' ' .. r[1].result .. ' ' .. r[4].result") == "4 stopped stopped");
  CHECK(env.eval("local worker = require 'mighost.worker' "
                 "local pool = worker.start{script = '" + script.path() + "', jobs = {'wait'}} "
                 "pool = nil collectgarbage() collectgarbage() return 'collected'") == "collected");
}
