// The lint's judgement of a migration's own new tables (pure, and through the connection hook),
// the statements it recognises as CONCURRENTLY, and the lock report of pg::connection.
#include <catch2/catch.hpp>

#include "bind/lint_hook.hpp"
#include "pg.hpp"
#include "pg/connection.hpp"
#include "pg/lint.hpp"

#include <map>
#include <string>
#include <vector>

using namespace mighost::pg;

namespace {

using strings = std::vector<std::string>;

std::vector<std::string> rules(const std::string& sql, const lint::catalog& cat)
{
  std::vector<std::string> out;
  for (const auto& w : lint::lint(sql, cat, lint::thresholds{})) out.push_back(w.rule);
  return out;
}

/// "big" and "created_big" are over the thresholds; created_big was created by the running migration.
lint::catalog catalog_with_new_table()
{
  lint::catalog cat;
  cat.size = [](const lint::table_ref& t) -> std::optional<lint::table_size> {
    if (t.name != "big" && t.name != "created_big") return std::nullopt;
    lint::table_size s{2e6, 400LL << 20};
    s.created = t.name == "created_big";
    return s;
  };
  return cat;
}

} // namespace

TEST_CASE("lint: a table the running migration created counts as new; temporary tables are its own", "[lint]")
{
  auto cat = catalog_with_new_table();
  CHECK(rules("CREATE INDEX i ON created_big (a); ALTER TABLE created_big ADD CONSTRAINT c CHECK (a > 0)", cat).empty());
  // a foreign key's check of the new table's rows locks the existing table it references
  CHECK(rules("ALTER TABLE created_big ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES big (id)", cat) == strings{"add_foreign_key"});
  CHECK(rules("ALTER TABLE created_big ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES big (id) NOT VALID", cat).empty());
  CHECK(rules("CREATE INDEX i ON big (a)", cat) == strings{"create_index"});
  CHECK(rules("ALTER TABLE pg_temp.big ADD PRIMARY KEY (id); CREATE INDEX ON pg_temp_3.big (a)", cat).empty());
}

TEST_CASE("lint: a table the same text creates is new and empty for its later statements", "[lint]")
{
  // "big" exists and is large; a text that creates its own "big" (e.g. beside it, in a schema
  // earlier on the search_path) meets its own empty table
  auto cat = catalog_with_new_table();
  const std::string later = "CREATE INDEX i ON big (a); ALTER TABLE big ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES created_big (id)";
  CHECK(rules(later, cat) == (strings{"create_index", "add_constraint"}));
  CHECK(rules("CREATE TABLE big (a int, id int); " + later, cat).empty());
  CHECK(rules("create unlogged table if not exists big (a int); " + later, cat).empty());
  // only the statements after it: an index built before the CREATE is judged on the catalog's table
  CHECK(rules("CREATE INDEX i ON big (a); CREATE TABLE big (a int)", cat) == strings{"create_index"});
  // a table it creates is referenced without a lock on anyone else's rows
  CHECK(rules("CREATE TABLE t (id int); ALTER TABLE created_big ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES t (id)", cat).empty());
}

TEST_CASE("lint: the statements that run outside a transaction with a weak lock", "[lint]")
{
  auto c = lint::concurrent_statement("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS k ON ONLY public.\"Big\" USING btree (a)");
  REQUIRE(c);
  CHECK_FALSE(c->index);
  CHECK(c->ref.text() == "public.\"Big\"");
  auto d = lint::concurrent_statement("drop index concurrently if exists s.k");
  REQUIRE(d);
  CHECK(d->index);
  CHECK(d->ref.text() == "s.k");
  CHECK_FALSE(lint::concurrent_statement("CREATE INDEX k ON big (a)"));
  CHECK_FALSE(lint::concurrent_statement("DROP INDEX CONCURRENTLY a, b"));
}

TEST_CASE("lint: the connection hook judges the tables named by new_tables as new", "[lint]")
{
  const auto saved = lint::config();
  lint::set_config({true, {0, 0}});
  connection c(mighost::test::fresh_database("lint_new"));
  lint::observer& hook = mighost::bind::install_lint(c);
  c.exec("CREATE TABLE old_t (id int PRIMARY KEY, a int); CREATE TABLE new_t (id int PRIMARY KEY, a int);"
         "INSERT INTO old_t SELECT g, g FROM generate_series(1, 100) g; INSERT INTO new_t SELECT * FROM old_t;"
         "ANALYZE old_t, new_t");
  CHECK(hook.new_tables(c, {"new_t", "no_such_table"}) == 1);
  c.exec("CREATE INDEX ON new_t (a); ALTER TABLE new_t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES old_t (id) NOT VALID;"
         "ALTER TABLE new_t VALIDATE CONSTRAINT f");
  CHECK(hook.warnings().empty());
  c.exec("CREATE INDEX ON old_t (a)");
  REQUIRE(hook.warnings().size() == 1);
  CHECK(hook.warnings()[0].table == "old_t");
  lint::set_config(saved);
}

TEST_CASE("locks: the report gives the strongest lock per existing table and the longest write-blocking one", "[lint][locks]")
{
  connection c(mighost::test::fresh_database("locks"));
  c.exec("CREATE TABLE a (id int PRIMARY KEY, x int); CREATE TABLE b (id int PRIMARY KEY); CREATE TABLE c (x int);"
         "INSERT INTO a SELECT g, g FROM generate_series(1, 100) g");
  c.track_locks();
  c.exec("CREATE TABLE created_later (id int)");  // not an existing table: never reported
  c.begin();
  c.exec("UPDATE a SET x = x + 1 WHERE id < 10");
  c.commit();
  c.begin();
  c.exec("ALTER TABLE a ADD COLUMN y int");
  c.exec("INSERT INTO created_later VALUES (1)");
  c.commit();
  c.exec("CREATE INDEX CONCURRENTLY c_x ON c (x)");
  c.begin();
  c.exec("SAVEPOINT s");
  c.exec("LOCK TABLE b IN SHARE MODE");
  c.exec("ROLLBACK TO SAVEPOINT s");  // releases b's lock
  c.exec("SELECT count(*) FROM b");
  c.commit();
  auto report = c.lock_report();
  REQUIRE(report.size() == 3);
  CHECK(report[0].table == "public.a");
  CHECK(report[0].strongest == "AccessExclusiveLock");
  CHECK(report[0].strongest_statement == "ALTER TABLE a ADD COLUMN y int");
  CHECK(report[0].blocking == "AccessExclusiveLock");
  CHECK(report[1].table == "public.b");
  CHECK(report[1].strongest == "ShareLock");
  CHECK(report[1].blocking_statement == "LOCK TABLE b IN SHARE MODE");
  // outside a transaction, the CONCURRENTLY build is recorded with its own mode, which lets writes pass
  CHECK(report[2].table == "public.c");
  CHECK(report[2].strongest == "ShareUpdateExclusiveLock");
  CHECK(report[2].strongest_statement == "CREATE INDEX CONCURRENTLY c_x ON c (x)");
  CHECK(report[2].blocking.empty());
}
