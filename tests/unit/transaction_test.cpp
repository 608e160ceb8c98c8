// pg::transaction, the one transaction guard: its states and transitions on a real server.
#include <catch2/catch.hpp>

#include "pg.hpp"
#include "pg/transaction.hpp"

#include <stdexcept>
#include <string>

using namespace mighost::pg;
using state = transaction::state;

namespace {

std::string count(connection& c, const std::string& table)
{
  return std::string(c.exec("SELECT count(*) FROM " + table).value(0, 0));
}

std::string setting(connection& c, const std::string& name)
{
  return std::string(c.exec_params("SELECT current_setting($1)", {{name}}).value(0, 0));
}

} // namespace

TEST_CASE("transaction: idle -> active -> committed keeps the rows", "[transaction]")
{
  connection c(mighost::test::fresh_database("tx_commit"));
  c.exec("CREATE TABLE t (a int)");
  transaction tx(c);
  CHECK(tx.current() == state::idle);
  CHECK(c.transaction_status() == PQTRANS_IDLE);  // nothing sent yet
  tx.begin();
  CHECK(tx.current() == state::active);
  CHECK(tx.top_level());
  CHECK(c.transaction_status() == PQTRANS_INTRANS);
  c.exec("INSERT INTO t VALUES (1)");
  tx.commit();
  CHECK(tx.current() == state::committed);
  CHECK(c.tx_depth() == 0);
  CHECK(count(c, "t") == "1");
  // Every other transition from committed is refused.
  CHECK_THROWS_AS(tx.commit(), usage_error);
  CHECK_THROWS_AS(tx.abort(), usage_error);
  CHECK_THROWS_AS(tx.begin(), usage_error);
  CHECK(tx.current() == state::committed);
}

TEST_CASE("transaction: abort and the destructor roll an active one back", "[transaction]")
{
  connection c(mighost::test::fresh_database("tx_abort"));
  c.exec("CREATE TABLE t (a int)");
  {
    transaction tx(c);
    tx.begin();
    c.exec("INSERT INTO t VALUES (1)");
    tx.abort();
    CHECK(tx.current() == state::aborted);
    tx.abort();  // idempotent once over
    CHECK(tx.current() == state::aborted);
    CHECK_THROWS_AS(tx.commit(), usage_error);
  }
  CHECK(count(c, "t") == "0");
  {
    transaction tx(c);
    tx.begin();
    c.exec("INSERT INTO t VALUES (2)");
  }  // destructor
  CHECK(c.tx_depth() == 0);
  CHECK(c.transaction_status() == PQTRANS_IDLE);
  CHECK(count(c, "t") == "0");
  // An idle one neither commits nor aborts, and its destructor sends nothing.
  transaction idle(c);
  CHECK_THROWS_AS(idle.commit(), usage_error);
  CHECK_THROWS_AS(idle.abort(), usage_error);
}

TEST_CASE("transaction: inside another it is a savepoint", "[transaction]")
{
  connection c(mighost::test::fresh_database("tx_nested"));
  c.exec("CREATE TABLE t (a int)");
  transaction outer(c);
  outer.begin();
  c.exec("INSERT INTO t VALUES (1)");
  {
    transaction inner(c);
    inner.begin();
    CHECK_FALSE(inner.top_level());
    CHECK(c.tx_depth() == 2);
    c.exec("INSERT INTO t VALUES (2)");
  }  // rolled back to the savepoint only
  CHECK(c.tx_depth() == 1);
  CHECK(count(c, "t") == "1");
  transaction kept(c);
  kept.begin();
  c.exec("INSERT INTO t VALUES (3)");
  kept.commit();
  outer.commit();
  CHECK(count(c, "t") == "2");
}

TEST_CASE("transaction: a failed COMMIT leaves it failed, with nothing open", "[transaction]")
{
  connection c(mighost::test::fresh_database("tx_failed"));
  c.exec("CREATE TABLE parent (id int PRIMARY KEY);"
         "CREATE TABLE child (p int REFERENCES parent DEFERRABLE INITIALLY DEFERRED)");
  transaction tx(c);
  tx.begin();
  c.exec("INSERT INTO child VALUES (1)");  // checked at COMMIT
  try {
    tx.commit();
    FAIL("the deferred foreign key should refuse the COMMIT");
  } catch (const sql_error& e) {
    CHECK(e.diag().sqlstate == "23503");
  }
  CHECK(tx.current() == state::failed);
  tx.abort();  // nothing left to roll back
  CHECK(tx.current() == state::failed);
  CHECK_THROWS_AS(tx.commit(), usage_error);
  CHECK(c.tx_depth() == 0);
  CHECK(c.transaction_status() == PQTRANS_IDLE);
  CHECK(count(c, "child") == "0");
}

TEST_CASE("transaction: snapshot kind and set_local", "[transaction]")
{
  connection c(mighost::test::fresh_database("tx_snapshot"));
  c.exec("SET search_path = public");
  {
    transaction tx(c);
    tx.begin(transaction::kind::snapshot);
    CHECK(setting(c, "transaction_isolation") == "repeatable read");
    CHECK(setting(c, "transaction_read_only") == "on");
    tx.set_local("search_path", "");
    CHECK(setting(c, "search_path").empty());
    tx.commit();
  }
  CHECK(setting(c, "search_path") == "public");
  // In a savepoint the caller's snapshot and settings stay: commit puts search_path back even
  // though PostgreSQL keeps a SET LOCAL past RELEASE.
  transaction outer(c);
  outer.begin();
  transaction inner(c);
  inner.begin(transaction::kind::snapshot);
  CHECK(setting(c, "transaction_isolation") == "read committed");
  inner.set_local("search_path", "");
  inner.commit();
  CHECK(setting(c, "search_path") == "public");
  transaction aborted(c);
  aborted.begin();
  aborted.set_local("search_path", "pg_catalog");
  aborted.abort();
  CHECK(setting(c, "search_path") == "public");
  outer.commit();
}
