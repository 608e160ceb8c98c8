/// \file The runner of the Lua test files (tests/unit/lua/*.lua) on the one Lua-state fixture.
#include "lua_harness.hpp"

namespace mighost::test {
namespace {

/// The Lua prelude of a test file: its folder on package.path (for `require "expect"`), then
/// the file itself, loaded by name so that errors read FILE:LINE.
std::string load_cases(const std::string& file)
{
  return "package.path = " + std::string("'") + lua_test_dir() + "/?.lua;' .. package.path\n"
         "local cases = assert(loadfile('" + lua_test_dir() + "/" + file + "'))()\n";
}

} // namespace

std::string lua_test_dir() { return source_dir() + "/tests/unit/lua"; }

std::vector<std::string> lua_case_names(const std::string& file)
{
  lua_env env;
  lua::stack_guard guard(env.L());
  lua::call_status st = env.call(load_cases(file) + "local names = {}\n"
                                 "for i, c in ipairs(cases) do names[i] = c[1] end\n"
                                 "return table.concat(names, '\\n')");
  if (!st.ok) FAIL(file << ": " << st.message);
  std::vector<std::string> names;
  std::string all = lua_tostring(env.L(), -1);
  for (std::size_t start = 0; start <= all.size() && !all.empty();) {
    std::size_t end = all.find('\n', start);
    if (end == std::string::npos) end = all.size();
    names.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

void run_lua_cases(const std::string& file)
{
  const std::vector<std::string> names = lua_case_names(file);
  REQUIRE(!names.empty());
  for (std::size_t i = 0; i < names.size(); ++i) {
    DYNAMIC_SECTION(file << ": " << names[i])
    {
      lua_env env(file.substr(0, file.find('.')));
      CHECK(env.run(load_cases(file) + "cases[" + std::to_string(i + 1) + "][2](conn)") == "");
    }
  }
}

} // namespace mighost::test
