// mighost.schema from Lua on a real server (tests/unit/lua/schema.lua), and `mighost inspect`.
#include <catch2/catch.hpp>

#include "lua_harness.hpp"
#include "sandbox/process.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

TEST_CASE("mighost.schema (tests/unit/lua/schema.lua)", "[schema]")
{
  mighost::test::run_lua_cases("schema.lua");
}

TEST_CASE("schema: mighost inspect prints the schema, as text or JSON", "[schema]")
{
  const std::string bin = mighost::test::mighost_binary();
  if (bin.empty()) {
    WARN("mighost binary not found next to the tests (set MIGHOST_BINARY): inspect not tested");
    return;
  }
  const std::string url = mighost::test::fresh_database("schema_inspect");
  {
    mighost::test::lua_env env(mighost::bind::script_info{"", {}, url});
    REQUIRE(env.run("package.path = '" + mighost::test::lua_test_dir() + "/?.lua;' .. package.path\n"
                    "require('schema_fixture')(require('mighost.db').connect())") == "");
  }
  using mighost::sandbox::run_process;
  auto text = run_process({bin, "inspect", "--db", url});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("public.bag  (table") != std::string::npos);
  CHECK(text.out.find("  qr_id    character varying(255)  not null\n") != std::string::npos);
  CHECK(text.out.find("foreign key    bag_user_id_fkey (user_id) -> public.user (id)") != std::string::npos);
  CHECK(text.out.find("index          bag_lower_qr btree (lower(qr_id::text)) where") != std::string::npos);
  CHECK(text.out.find("legacy.bag  (table") != std::string::npos);
  CHECK(text.out.find("public.bag_status  pending, scanned, billed") != std::string::npos);
  CHECK(text.out.find("legacy.ticket_seq  bigint, last value 500") != std::string::npos);

  auto one = run_process({bin, "inspect", "--db", url, "legacy.bag", "--json"});
  REQUIRE(one.exit_code == 0);
  auto j = nlohmann::json::parse(one.out);
  REQUIRE(j["tables"].size() == 1);
  CHECK(j["tables"][0]["schema"] == "legacy");
  CHECK(j["tables"][0]["columns"][1]["name"] == "qr_code");
  CHECK(j["tables"][0]["columns"][1]["nullable"] == true);
  CHECK(j["tables"][0]["primary_key"]["columns"][0] == "id");
  CHECK(j["tables"][0]["foreign_keys"].is_array());
  CHECK(nlohmann::json::parse(run_process({bin, "inspect", "--db", url, "--schema", "legacy", "--json"}).out)["tables"].size() == 1);

  auto missing = run_process({bin, "inspect", "--db", url, "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("no table or view \"nope\"") != std::string::npos);
}
