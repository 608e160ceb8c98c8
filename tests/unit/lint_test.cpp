// Run-time lint of lock-heavy DDL: the pure lint() on SQL text, and the observer the binding
// layer installs on a connection, on a real server.
#include <catch2/catch.hpp>

#include "bind/lint_hook.hpp"
#include "lua_harness.hpp"
#include "pg/connection.hpp"
#include "pg/lint.hpp"
#include "sandbox/process.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace mighost::pg;

namespace {

/// A catalog answering from a map: "big" is over the thresholds, "small" under, the rest absent.
lint::catalog fake_catalog(std::vector<std::string>* asked = nullptr)
{
  lint::catalog cat;
  cat.size = [asked](const lint::table_ref& t) -> std::optional<lint::table_size> {
    if (asked) asked->push_back(t.schema + "|" + t.name);
    static const std::map<std::string, lint::table_size> sizes = {
      {"big", {2e6, 400LL << 20}}, {"Big Table", {2e6, 400LL << 20}}, {"small", {10, 8192}},
      {"unanalyzed", {-1, 50LL << 20}}, {"new_filled", {2e6, 400LL << 20, true}}, {"new_empty", {0, 0, true}}};
    auto it = sizes.find(t.name);
    if (it == sizes.end()) return std::nullopt;
    return it->second;
  };
  cat.column_type = [](const lint::table_ref&, const std::string& col) -> std::optional<std::string> {
    if (col == "code") return std::string("character varying(10)");
    if (col == "note") return std::string("text");
    return std::string("integer");
  };
  cat.not_null_proven = [](const lint::table_ref&, const std::string& col) { return col == "proven"; };
  cat.owned_schema = mighost::bind::bookkeeping_schema;
  return cat;
}

std::vector<std::string> rules(const std::string& sql, const lint::catalog& cat = fake_catalog())
{
  std::vector<std::string> out;
  for (const auto& w : lint::lint(sql, cat, lint::thresholds{})) out.push_back(w.rule);
  return out;
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("lint: CREATE INDEX without CONCURRENTLY on a large table", "[lint]")
{
  CHECK(rules("CREATE INDEX big_a ON big (a)") == strings{"create_index"});
  CHECK(rules("create unique index if not exists big_a on only public.big using btree (a)") == strings{"create_index"});
  CHECK(rules("CREATE INDEX ON unanalyzed (a)") == strings{"create_index"});  // by bytes alone
  CHECK(rules("CREATE INDEX CONCURRENTLY big_a ON big (a)").empty());
  CHECK(rules("CREATE INDEX small_a ON small (a)").empty());
  CHECK(rules("CREATE INDEX new_a ON not_yet_created (a)").empty());
  CHECK(rules("CREATE TABLE big2 (a int)").empty());
}

TEST_CASE("lint: ADD CONSTRAINT without NOT VALID", "[lint]")
{
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_p_fk FOREIGN KEY (p) REFERENCES parent (id)") == strings{"add_constraint"});
  CHECK(rules("ALTER TABLE big ADD FOREIGN KEY (p) REFERENCES parent (id)") == strings{"add_constraint"});
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_a_pos CHECK (a > 0)") == strings{"add_constraint"});
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_p_fk FOREIGN KEY (p) REFERENCES parent (id) NOT VALID").empty());
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_a_pos CHECK (a > 0) NOT VALID").empty());
  CHECK(rules("ALTER TABLE big VALIDATE CONSTRAINT big_a_pos").empty());
  CHECK(rules("ALTER TABLE small ADD CONSTRAINT small_a_pos CHECK (a > 0)").empty());
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_a_key UNIQUE (a)") == strings{"add_unique"});
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT big_a_key UNIQUE USING INDEX big_a").empty());
}

TEST_CASE("lint: a foreign key from a filled new table locks the table it references", "[lint]")
{
  CHECK(rules("ALTER TABLE new_filled ADD FOREIGN KEY (p) REFERENCES big (id)") == strings{"add_foreign_key"});
  CHECK(rules("ALTER TABLE new_filled ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES small (id)") == strings{"add_foreign_key"});
  CHECK(rules("ALTER TABLE new_filled ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES big (id) NOT VALID").empty());
  CHECK(rules("ALTER TABLE new_filled ADD FOREIGN KEY (p) REFERENCES new_empty (id)").empty());
  CHECK(rules("ALTER TABLE new_empty ADD FOREIGN KEY (p) REFERENCES big (id)").empty());
  CHECK(rules("ALTER TABLE new_filled ADD CONSTRAINT c CHECK (a > 0)").empty());
  CHECK(rules("ALTER TABLE new_filled ADD FOREIGN KEY (p) REFERENCES not_there (id)").empty());
}

TEST_CASE("lint: SET NOT NULL without a validated check", "[lint]")
{
  CHECK(rules("ALTER TABLE big ALTER COLUMN a SET NOT NULL") == strings{"set_not_null"});
  CHECK(rules("ALTER TABLE big ALTER a SET NOT NULL") == strings{"set_not_null"});
  // The safe form: a NOT VALID check, validated, then SET NOT NULL needs no scan.
  CHECK(rules("ALTER TABLE big ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID").empty());
  CHECK(rules("ALTER TABLE big VALIDATE CONSTRAINT a_nn").empty());
  CHECK(rules("ALTER TABLE big ALTER COLUMN proven SET NOT NULL").empty());
  CHECK(rules("ALTER TABLE big ALTER COLUMN a DROP NOT NULL").empty());
}

TEST_CASE("lint: ALTER COLUMN TYPE rewrites, except binary-coercible widening", "[lint]")
{
  CHECK(rules("ALTER TABLE big ALTER COLUMN a TYPE bigint") == strings{"column_type"});
  CHECK(rules("ALTER TABLE big ALTER COLUMN a SET DATA TYPE text USING a::text") == strings{"column_type"});
  CHECK(rules("ALTER TABLE big ALTER COLUMN code TYPE varchar(5)") == strings{"column_type"});
  CHECK(rules("ALTER TABLE big ALTER COLUMN code TYPE varchar(20)").empty());
  CHECK(rules("ALTER TABLE big ALTER COLUMN code TYPE character varying").empty());
  CHECK(rules("ALTER TABLE big ALTER COLUMN code TYPE text").empty());
  CHECK(rules("ALTER TABLE big ALTER COLUMN note TYPE varchar(50)") == strings{"column_type"});
  // Without a catalog lookup nothing is known about the old type: warn.
  lint::catalog sizes_only = fake_catalog();
  sizes_only.column_type = nullptr;
  CHECK(rules("ALTER TABLE big ALTER COLUMN code TYPE text", sizes_only) == strings{"column_type"});
}

TEST_CASE("lint: ADD COLUMN with a volatile default", "[lint]")
{
  for (const char* def : {"random()", "clock_timestamp()", "gen_random_uuid()", "(random() * 10)::int"}) {
    INFO(def);
    CHECK(rules(std::string("ALTER TABLE big ADD COLUMN x numeric DEFAULT ") + def) == strings{"volatile_default"});
  }
  CHECK(rules("ALTER TABLE big ADD COLUMN id2 bigserial") == strings{"volatile_default"});
  CHECK(rules("ALTER TABLE big ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED") == strings{"volatile_default"});
  // Safe forms: stable or constant defaults (PostgreSQL 11+ stores them, no rewrite), no default.
  CHECK(rules("ALTER TABLE big ADD COLUMN t timestamptz DEFAULT now()").empty());
  CHECK(rules("ALTER TABLE big ADD COLUMN n int NOT NULL DEFAULT 0").empty());
  CHECK(rules("ALTER TABLE big ADD COLUMN IF NOT EXISTS u uuid").empty());
  CHECK(rules("ALTER TABLE big ADD COLUMN r text DEFAULT 'random()'").empty());
  CHECK(rules("ALTER TABLE small ADD COLUMN u uuid DEFAULT gen_random_uuid()").empty());
}

TEST_CASE("lint: tokenizer, several statements, quoting and internal schemas", "[lint]")
{
  std::vector<std::string> asked;
  auto cat = fake_catalog(&asked);
  CHECK(rules("SET lock_timeout = '1s'; CREATE INDEX i ON big (a); SELECT 1", cat) == strings{"create_index"});
  CHECK(rules("ALTER TABLE big ADD COLUMN a int, ALTER COLUMN b SET NOT NULL, ALTER COLUMN c TYPE bigint", cat) ==
        strings{"set_not_null", "column_type"});
  // Statements inside strings, comments and function bodies are not run by this statement.
  CHECK(rules("SELECT 'x; ALTER TABLE big ALTER a SET NOT NULL'", cat).empty());
  CHECK(rules("SELECT E'it\\'s; CREATE INDEX i ON big (a)'", cat).empty());
  CHECK(rules("-- CREATE INDEX i ON big (a);\nSELECT 1 /* ALTER TABLE big ALTER a TYPE int; /* nested */ */", cat).empty());
  CHECK(rules("DO $body$ BEGIN ALTER TABLE big ALTER a SET NOT NULL; END $body$", cat).empty());
  CHECK(rules("/* lead */ CREATE INDEX i ON big (a)", cat) == strings{"create_index"});
  asked.clear();
  CHECK(rules("ALTER TABLE \"Big Table\" ALTER COLUMN a TYPE bigint", cat) == strings{"column_type"});
  CHECK(rules("ALTER TABLE Big ALTER COLUMN a TYPE bigint", cat) == strings{"column_type"});  // folded to big
  CHECK(asked == strings{"|Big Table", "|big"});
  asked.clear();
  CHECK(rules("ALTER TABLE mig_meta.big ALTER COLUMN a SET NOT NULL", cat).empty());
  CHECK(rules("CREATE INDEX ON mig_backup_stock.big (a)", cat).empty());
  CHECK(asked.empty());  // internal schemas are not even looked up
  CHECK(rules("ALTER TABLE public.big ALTER COLUMN a SET NOT NULL", cat) == strings{"set_not_null"});
  CHECK(asked == strings{"public|big"});
}

TEST_CASE("lint: warnings name the statement and the safer form", "[lint]")
{
  auto ws = lint::lint("CREATE   INDEX\n big_a ON big (a)", fake_catalog(), lint::thresholds{});
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].table == "big");
  CHECK(ws[0].statement == "CREATE INDEX big_a ON big (a)");
  CHECK(ws[0].message.find("2000000 rows") != std::string::npos);
  CHECK(ws[0].safer.find("CREATE INDEX CONCURRENTLY") != std::string::npos);
  CHECK(ws[0].text().find("Statement: CREATE INDEX big_a ON big (a)") != std::string::npos);
  auto nn = lint::lint("ALTER TABLE big ALTER COLUMN a SET NOT NULL", fake_catalog(), lint::thresholds{});
  REQUIRE(nn.size() == 1);
  CHECK(nn[0].safer.find("CHECK (a IS NOT NULL) NOT VALID") != std::string::npos);
  // No size lookup at all: every table counts as large.
  CHECK(lint::lint("CREATE INDEX ON small (a)", lint::catalog{}, lint::thresholds{}).size() == 1);
  // Thresholds decide what is large.
  CHECK(lint::lint("CREATE INDEX ON small (a)", fake_catalog(), lint::thresholds{0, 0}).size() == 1);
  CHECK(lint::lint("CREATE INDEX ON big (a)", fake_catalog(), lint::thresholds{3e6, 1LL << 40}).empty());
}

TEST_CASE("lint: the hot-path filter looks at the first word only", "[lint]")
{
  CHECK(lint::worth_linting("CREATE INDEX i ON t (a)", false));
  CHECK(lint::worth_linting("  \n alter table t add column a int", false));
  CHECK(lint::worth_linting("-- why\nALTER TABLE t ADD a int", false));
  CHECK_FALSE(lint::worth_linting("INSERT INTO t VALUES ($1)", false));
  CHECK_FALSE(lint::worth_linting("SELECT 1; ALTER TABLE t ADD a int", false));
  CHECK(lint::worth_linting("SELECT 1; ALTER TABLE t ADD a int", true));
  CHECK_FALSE(lint::worth_linting("createx", false));
  CHECK_FALSE(lint::worth_linting("", true));
}

TEST_CASE("lint: the connection hook warns on the statements it runs", "[lint]")
{
  const auto saved = lint::config();
  lint::set_config({true, {0, 0}});
  connection c(mighost::test::fresh_database("lint"));
  const lint::observer& hook = mighost::bind::install_lint(c);
  c.exec("CREATE TABLE items (id int PRIMARY KEY, a int, code varchar(10), p int);"
         "CREATE TABLE empty_t (a int);"
         "INSERT INTO items SELECT g, g, 'c' || g, g FROM generate_series(1, 100) g; ANALYZE items");
  CHECK(hook.warnings().empty());  // CREATE TABLE, INSERT, ANALYZE: nothing to say

  c.exec("CREATE INDEX items_a ON items (a)");
  REQUIRE(hook.warnings().size() == 1);
  CHECK(hook.warnings()[0].rule == "create_index");
  CHECK(hook.warnings()[0].message.find("~100 rows") != std::string::npos);
  c.exec("CREATE INDEX CONCURRENTLY items_a2 ON items (a)");
  c.exec("CREATE INDEX empty_a ON empty_t (a)");  // empty: nothing to lock for long
  CHECK(hook.warnings().size() == 1);

  // exec_params goes through the hook too; widening a varchar is not a rewrite.
  c.exec_params("ALTER TABLE items ALTER COLUMN code TYPE varchar(20)", {});
  CHECK(hook.warnings().size() == 1);
  c.exec_params("ALTER TABLE items ALTER COLUMN a TYPE bigint", {});
  REQUIRE(hook.warnings().size() == 2);
  CHECK(hook.warnings()[1].rule == "column_type");

  // SET NOT NULL: warns alone, not after the validated-check recipe (seen in the real catalog).
  c.begin();
  c.exec("ALTER TABLE items ALTER COLUMN p SET NOT NULL");
  CHECK(hook.warnings().size() == 3);
  c.rollback();
  c.exec("ALTER TABLE items ADD CONSTRAINT p_nn CHECK (p IS NOT NULL) NOT VALID");
  c.exec("ALTER TABLE items VALIDATE CONSTRAINT p_nn");
  c.exec("ALTER TABLE items ALTER COLUMN p SET NOT NULL");
  CHECK(hook.warnings().size() == 3);
  c.exec("ALTER TABLE items ADD COLUMN r float8 DEFAULT random()");
  REQUIRE(hook.warnings().size() == 4);
  CHECK(hook.warnings()[3].rule == "volatile_default");

  // The host's own schemas are not linted; the lookups never break a transaction.
  c.exec("CREATE SCHEMA mig_meta; CREATE TABLE mig_meta.runs AS SELECT * FROM items");
  c.begin();
  c.exec("CREATE INDEX ON mig_meta.runs (a); ALTER TABLE IF EXISTS \"no such\" ALTER x SET NOT NULL;"
         " SELECT 1");
  CHECK(c.exec("SELECT count(*) FROM items").value(0, 0) == "100");
  c.commit();
  CHECK(hook.warnings().size() == 4);

  // Default thresholds: 100 rows is small.
  lint::set_config({true, {}});
  c.exec("CREATE INDEX items_a3 ON items (a)");
  CHECK(hook.warnings().size() == 4);
  lint::set_config(saved);
}

TEST_CASE("lint: lookups neither wait on locks nor change what the script sees", "[lint]")
{
  const auto saved = lint::config();
  lint::set_config({true, {0, 0}});
  const std::string url = mighost::test::fresh_database("lint_locks");
  connection a(url), b(url);
  const lint::observer& hook = mighost::bind::install_lint(a);
  a.exec("CREATE TABLE items (a int); INSERT INTO items SELECT generate_series(1, 100); ANALYZE items");
  b.exec("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
  a.set_lock_timeout(300);
  auto sqlstate_of = [&](const std::string& sql) {
    try {
      a.exec(sql);
    } catch (const sql_error& e) {
      return e.diag().sqlstate;
    }
    return std::string("no error");
  };
  // Autocommit: the script gets its own statement's lock timeout, not a lookup's.
  CHECK(sqlstate_of("CREATE INDEX ON items (a)") == "55P03");
  // In a transaction no lookup locks the table: the size comes from pg_class, the warning is
  // made, and the error is still the statement's own (not "current transaction is aborted").
  a.begin();
  const auto before = hook.warnings().size();
  CHECK(sqlstate_of("CREATE INDEX ON items (a)") == "55P03");
  CHECK(hook.warnings().size() == before + 1);
  a.rollback();
  b.exec("ROLLBACK");
  // A lint in a transaction leaves no savepoint behind and the transaction usable.
  a.begin();
  a.exec("CREATE INDEX ON items (a)");
  CHECK(hook.warnings().size() == before + 2);
  CHECK(sqlstate_of("ROLLBACK TO SAVEPOINT mighost_lint") == "3B001");
  a.rollback();
  CHECK(a.exec("SELECT count(*) FROM pg_indexes WHERE tablename = 'items'").value(0, 0) == "0");
  lint::set_config(saved);
}

TEST_CASE("lint: scripts see the warnings through conn:lint_warnings()", "[lint]")
{
  const auto saved = lint::config();
  lint::set_config({true, {0, 0}});
  mighost::test::lua_env env(mighost::bind::script_info{"", {}, mighost::test::fresh_database("lint_lua")});
  const char* code = R"lua(
    local conn = require("mighost.db").connect()
    conn:exec("CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 50)")
    assert(#conn:lint_warnings() == 0, "nothing yet")
    conn:exec("ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0)")
    conn:exec("ALTER TABLE t ADD CONSTRAINT t_a_small CHECK (a < 1000) NOT VALID")
    local w = conn:lint_warnings()
    assert(#w == 1, "one warning, got " .. #w)
    assert(w[1].rule == "add_constraint" and w[1].table == "t", w[1].rule .. " " .. w[1].table)
    assert(w[1].statement == "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0)", w[1].statement)
    assert(w[1].safer:find("NOT VALID", 1, true), w[1].safer)
  )lua";
  CHECK(env.run(code) == "");
  lint::set_config(saved);
}

TEST_CASE("lint: mighost run logs the warning; MIGHOST_LINT_* configure it", "[lint]")
{
  const std::string bin = mighost::test::mighost_binary();
  if (bin.empty()) {
    WARN("mighost binary not found next to the tests (set MIGHOST_BINARY): not tested end to end");
    return;
  }
  const std::string url = mighost::test::fresh_database("lint_run");
  const auto script = std::filesystem::temp_directory_path() / mighost::test::unique_name("lint_script");
  std::filesystem::create_directories(script);
  std::ofstream(script / "ddl.lua") << "local conn = require('mighost.db').connect()\n"
                                       "conn:exec('CREATE TABLE IF NOT EXISTS items (a int)')\n"
                                       "conn:exec('INSERT INTO items SELECT generate_series(1, 20)')\n"
                                       "conn:exec('CREATE INDEX ON items (a)')\n";
  auto run = [&](std::vector<std::pair<std::string, std::string>> env) {
    mighost::sandbox::run_options ro;
    ro.env = std::move(env);
    return mighost::sandbox::run_process({bin, "run", (script / "ddl.lua").string(), "--db", url}, ro);
  };
  auto quiet = run({});  // 20 rows: under the default threshold
  REQUIRE(quiet.exit_code == 0);
  CHECK(quiet.err.find("lock-heavy DDL") == std::string::npos);
  auto loud = run({{"MIGHOST_LINT_ROWS", "0"}, {"MIGHOST_LINT_BYTES", "0"}});
  REQUIRE(loud.exit_code == 0);
  CHECK(loud.err.find("lock-heavy DDL: CREATE INDEX on items (") != std::string::npos);
  CHECK(loud.err.find("safer: CREATE INDEX CONCURRENTLY") != std::string::npos);
  CHECK(loud.err.find("Statement: CREATE INDEX ON items (a)") != std::string::npos);
  auto off = run({{"MIGHOST_LINT_ROWS", "0"}, {"MIGHOST_LINT_BYTES", "0"}, {"MIGHOST_LINT", "off"}});
  REQUIRE(off.exit_code == 0);
  CHECK(off.err.find("lock-heavy DDL") == std::string::npos);
  std::filesystem::remove_all(script);
}
