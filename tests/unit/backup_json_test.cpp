/// \file The JSON export of seed 004 and its restore; the mighost.backup Lua module.
#include "backup_fixture.hpp"

#include "backup/backup.hpp"
#include "lua_harness.hpp"

#include <nlohmann/json.hpp>

#include <regex>

using namespace mighost;
using namespace mighost::test::backup_fx;

TEST_CASE("the JSON export round-trips every type", "[backup_json]")
{
  std::string url = test::fresh_database("backup_json");
  pg::connection c(url);
  c.exec(k_schema_sql);
  std::string child = fingerprint(c, "every_type"), parent = fingerprint(c, "parent");
  scratch tmp;
  backup::json_options o;
  o.tables = {"parent", "every_type"};
  o.prefix = "rds";
  o.dir = tmp.path("out");
  auto info = backup::export_json(c, o);
  std::string path = info["path"];
  CHECK(std::regex_match(path, std::regex(".*/rds_backup_[0-9]{8}_[0-9]{6}\\.json")));

  // The file is plain JSON in the seed's shape, with exact values.
  auto doc = nlohmann::json::parse(slurp(path));
  REQUIRE(doc["parent"].is_array());
  REQUIRE(doc["every_type"].size() == 4);
  CHECK(doc["_meta"]["row_counts"]["every_type"] == 4);
  const auto& row = doc["every_type"][0];
  CHECK(row["big"].get<std::int64_t>() == 9007199254740993LL);  // 2^53 + 1, not rounded
  CHECK(row["b"] == "\\x00ff00");
  CHECK(row["tstz"].get<std::string>().find(".123456") != std::string::npos);
  CHECK(row["j"]["a"][1].is_number());
  CHECK(row["note"] == "");
  CHECK(doc["every_type"][2]["note"] == "x");
  CHECK(doc["every_type"][1]["note"].is_null());
  CHECK(doc["_json_nulls"]["every_type"]["j"] == nlohmann::json::array({1}));
  auto raw = slurp(path);
  CHECK(raw.find("12345678901234567890.0123456789") != std::string::npos);  // numeric digits verbatim

  SECTION("restored into emptied tables; a second restore is refused")
  {
    c.exec("TRUNCATE every_type, parent");
    auto out = backup::restore_json(c, path, {});
    CHECK(out["tables"].size() == 2);
    CHECK(fingerprint(c, "every_type") == child);
    CHECK(fingerprint(c, "parent") == parent);
    try {
      backup::restore_json(c, path, {});
      FAIL("restore_json wrote into full tables");
    } catch (const backup::backup_error& e) {
      CHECK(e.error_kind() == backup::backup_error::kind::refused);
    }
    CHECK(fingerprint(c, "every_type") == child);
  }
  SECTION("restored into another database with the same tables")
  {
    pg::connection other(test::fresh_database("backup_json_other"));
    other.exec(k_schema_sql);
    other.exec("TRUNCATE every_type, parent");
    backup::restore_json(other, path, {});
    CHECK(fingerprint(other, "every_type") == child);
    CHECK(fingerprint(other, "parent") == parent);
    CHECK(scalar(other, "INSERT INTO parent (name) VALUES ('p3') RETURNING id") == "3");
  }
}

TEST_CASE("the JSON export handles a table named like an injection", "[backup_json]")
{
  pg::connection c(test::fresh_database("backup_json_weird"));
  std::string weird = "x\"; DROP TABLE y; --";
  std::string q = c.quote_ident(weird);
  c.exec("CREATE TABLE y (v int); CREATE TABLE " + q + " (id int PRIMARY KEY, \"x\" text);"
         "INSERT INTO " + q + " VALUES (1, 'a'), (2, NULL)");
  std::string before = fingerprint(c, q);
  scratch tmp;
  backup::json_options o;
  o.tables = {weird};
  o.dir = tmp.root;
  std::string path = backup::export_json(c, o)["path"];
  auto doc = nlohmann::json::parse(slurp(path));
  CHECK(doc[weird].size() == 2);
  CHECK(doc[weird][0]["x"] == "a");  // a column named x next to the row alias
  c.exec("TRUNCATE " + q);
  backup::restore_json(c, path, {});
  CHECK(fingerprint(c, q) == before);
  CHECK(scalar(c, "SELECT count(*) FROM y") == "0");
}

TEST_CASE("mighost.backup from Lua: tables, verify, restore, json", "[backup_lua]")
{
  std::string url = test::fresh_database("backup_lua");
  pg::connection c(url);
  c.exec(k_schema_sql);
  std::string child = fingerprint(c, "every_type");
  scratch tmp;
  std::string err = test::lua_env(bind::script_info{"", {}, url}).run(R"lua(
    local db = require "mighost.db"
    local backup = require "mighost.backup"
    local c = db.connect()
    local dir = ")lua" + tmp.path("snap") + R"lua("
    local m = backup.tables{conn = c, tables = {"parent", "every_type"}, dir = dir, script = "s.lua", run_id = "r1"}
    assert(m.script == "s.lua" and m.run_id == "r1", "script and run recorded")
    assert(m.tables[2].rows == 4, "row count")
    local ok, problems = backup.verify(dir)
    assert(ok and #problems == 0, "verify")
    c:exec("DROP TABLE every_type")
    local out = backup.restore(dir, {conn = c, tables = {"every_type"}})
    assert(out.tables[1].created == true and out.tables[1].rows == 4, "restored")
    local path = backup.json{conn = c, tables = {"parent", "every_type"}, prefix = "lua", dir = ")lua" + tmp.root + R"lua("}
    assert(path:match("lua_backup_%d+_%d+%.json$"), path)
    c:exec("TRUNCATE parent, every_type")
    backup.restore_json(path, {conn = c})
    -- Inside the caller's transaction: a savepoint that sees its uncommitted rows and leaves
    -- the session's search_path as it was.
    local tx_ok, tx_err = pcall(c.tx, c, function()
      c:exec("INSERT INTO parent (name) VALUES ('uncommitted')")
      local m2 = backup.tables{conn = c, tables = {"parent"}, dir = dir .. "_tx"}
      assert(m2.tables[1].rows == 3, "sees the caller's rows: " .. m2.tables[1].rows)
      assert(c:scalar("SHOW search_path") == '"$user", public', c:scalar("SHOW search_path"))
      assert(c:in_tx() == 1, "still in the caller's transaction")
      error("roll back")
    end)
    assert(not tx_ok and tostring(tx_err):match("roll back"), tostring(tx_err))
    -- An unusable directory raises before anything happens.
    local bad_ok, bad_err = pcall(backup.tables, {conn = c, tables = {"parent"}, dir = "/proc/nope/x"})
    assert(not bad_ok and tostring(bad_err):match("^backup: "), tostring(bad_err))
    -- A refused restore says so.
    local r_ok, r_err = pcall(backup.restore, dir, {conn = c})
    assert(not r_ok and tostring(r_err):match("restore refused"), tostring(r_err))
  )lua");
  CHECK(err == "");
  CHECK(fingerprint(c, "every_type") == child);
  CHECK(scalar(c, "SELECT count(*) FROM parent") == "2");
}
