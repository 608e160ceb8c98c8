/// \file The Lua side of the migration framework that needs no database: the JSON codec (exact
/// and stable output), typed option parsing, and mighost.worker threads (results, errors with
/// tracebacks, progress, stop). The rest is exercised end to end by tests/framework/run.sh.
#include <catch2/catch.hpp>

#include "bind/modules.hpp"
#include "lua/state.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

/// A state prepared like `mighost run` does it, without a database.
class plain_lua
{
public:
  plain_lua() { mighost::bind::prepare_state(m_state, m_info); }

  /// Runs `code` and returns tostring() of its first result, or "<error: ...>".
  std::string eval(const std::string& code)
  {
    lua_State* L = m_state;
    mighost::lua::stack_guard guard(L);
    if (luaL_loadbuffer(L, code.data(), code.size(), "@test.lua") != 0) return "<error: " + mighost::lua::error_text(L, -1) + ">";
    mighost::lua::call_status st = mighost::lua::pcall(L, 0, 1);
    if (!st.ok) return "<error: " + st.message + ">";
    return mighost::bind::luaL_tolstring_compat(L, lua_gettop(L));
  }

private:
  mighost::bind::script_info m_info{"", {}, ""};  // outlives the state
  mighost::lua::state m_state;
};

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

TEST_CASE("mig_json: stable key order, exact numbers, escaped strings", "[migration]")
{
  plain_lua env;
  const std::string j = "local json = require 'mighost.mig_json' ";
  CHECK(env.eval(j + "return json.encode(json.object({'migration', 'mode', 'run_id'}, {run_id = 7, mode = 'apply', migration = 'x'}))") ==
        R"({"migration":"x","mode":"apply","run_id":7})");
  CHECK(env.eval(j + "return json.encode({b = 1, a = 2, c = {3, 4}})") == R"({"a":2,"b":1,"c":[3,4]})");
  CHECK(env.eval(j + "return json.encode(require('mighost.db').int64('-9223372036854775808'))") == "-9223372036854775808");
  CHECK(env.eval(j + "return json.encode(require('mighost.db').int64('9007199254740993'))") == "9007199254740993");
  CHECK(env.eval(j + "return json.encode(json.number('12345678901234567890.0123456789'))") == "12345678901234567890.0123456789");
  CHECK(env.eval(j + "return json.encode(2^53)") == "9007199254740992");
  CHECK(env.eval(j + "return json.encode(0.1)") == "0.10000000000000001");
  CHECK(env.eval(j + "return json.encode(0/0)") == "null");
  CHECK(env.eval(j + "return json.encode('q\"b\\\\ t\\t n\\n nul\\0 bell\\7 del\\127 é')") ==
        "\"q\\\"b\\\\ t\\t n\\n nul\\u0000 bell\\u0007 del\\u007f é\"");
  CHECK(env.eval(j + "return json.encode({})") == "{}");
  CHECK(env.eval(j + "return json.encode(json.array())") == "[]");
  CHECK(env.eval(j + "return json.encode({x = require('mighost.db').NULL, y = json.null})") == R"({"x":null,"y":null})");
}

TEST_CASE("mig_json: decode gives back what encode wrote", "[migration]")
{
  plain_lua env;
  const std::string j = "local json = require 'mighost.mig_json' ";
  const char* doc = R"({"z":[1,-2.5,"a\u00e9\n\"",true,false,null],"a":{"k":"v"},"e":[]})";
  const char* back = R"({"z":[1,-2.5,"aé\n\"",true,false,null],"a":{"k":"v"},"e":[]})";  // UTF-8 stays raw
  CHECK(env.eval(j + "return json.encode(json.decode([[" + doc + "]]))") == back);
  CHECK(env.eval(j + "return json.decode('\"\\\\ud83d\\\\ude00\"')") == "\xF0\x9F\x98\x80");
  CHECK(env.eval(j + "local ok, e = pcall(json.decode, '{\"a\":1') return ok") == "false");
  CHECK(env.eval(j + "local ok, e = pcall(json.decode, '[1] x') return ok") == "false");
}

TEST_CASE("mig_options: typed values, defaults and usage errors naming the flag", "[migration]")
{
  plain_lua env;
  const std::string o = "local o = require 'mighost.mig_options' "
                        "local list = o.normalise({ batch_size = {type = 'int', default = 500, min = 1}, "
                        "  dry_run = {type = 'bool'}, lock_timeout = {type = 'duration', default = '5s'}, "
                        "  mode = {type = 'enum', choices = {'a', 'b'}}, report = {type = 'path'} }) ";
  CHECK(env.eval(o + "local v = o.parse(list, {}) return v.batch_size .. ' ' .. tostring(v.dry_run) .. ' ' .. v.lock_timeout") ==
        "500 false 5000");
  CHECK(env.eval(o + "local v, given = o.parse(list, {'--batch-size', '7', '--dry-run', '--lock-timeout=250ms', '--mode=b'}) "
                     "return v.batch_size .. ' ' .. tostring(v.dry_run) .. ' ' .. v.lock_timeout .. ' ' .. v.mode .. ' ' .. tostring(given.batch_size)") ==
        "7 true 250 b true");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'--nope'}) return err") == "unknown option --nope");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'--batch-size', 'x'}) return err") ==
        "--batch-size: expected an integer, got 'x'");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'--batch-size', '0'}) return err") == "--batch-size: must be at least 1");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'--report'}) return err") == "--report: missing value");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'--mode', 'c'}) return err") == "--mode: expected one of a, b, got 'c'");
  CHECK(env.eval(o + "local v, g, err = o.parse(list, {'stray'}) return err") == "unexpected argument 'stray'");
  CHECK(env.eval(o + "return o.help(list, 'usage: x', 'what it does'):find('--batch-size INT', 1, true) ~= nil") == "true");
}

TEST_CASE("migration.define: a phase's fetch is rows or range; range reads on the ledger connection", "[migration]")
{
  plain_lua env;
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
  plain_lua env;
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
