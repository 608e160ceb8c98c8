// mighost.check from Lua on a real server: the cases live in tests/unit/lua/check*.lua.
#include "lua_harness.hpp"

TEST_CASE("mighost.check (tests/unit/lua/check.lua)", "[check]")
{
  mighost::test::run_lua_cases("check.lua");
}

TEST_CASE("mighost.check reconcile and fingerprint (tests/unit/lua/check_reconcile.lua)", "[check]")
{
  mighost::test::run_lua_cases("check_reconcile.lua");
}
