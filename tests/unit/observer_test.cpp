// Statement observers (pg/observer.hpp): what a connection shows them, and the lint observer the
// binding layer installs (a connection without it runs no lint).
#include <catch2/catch.hpp>

#include "bind/lint_hook.hpp"
#include "pg.hpp"
#include "pg/connection.hpp"
#include "pg/lint.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

using namespace mighost::pg;

namespace {

/// Records what it is shown, and runs a statement of its own on the connection each time.
class recorder final : public statement_observer
{
public:
  void before_statement(connection& c, const std::string& sql, bool multi) noexcept override
  {
    seen.push_back((multi ? "multi: " : "one: ") + sql);
    try {
      c.exec_params("SELECT $1::text", {{"the observer's own"}});
    } catch (const std::exception& e) {
      seen.push_back(std::string("failed: ") + e.what());
    }
  }
  std::vector<std::string> seen;
};

/// Routes spdlog to a ring buffer for the scope's lifetime; lines() says what was logged.
class captured_log
{
public:
  captured_log() : m_sink(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)), m_saved(spdlog::default_logger())
  {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", m_sink));
  }
  ~captured_log() { spdlog::set_default_logger(m_saved); }
  std::string lines() const
  {
    std::string out;
    for (const std::string& l : m_sink->last_formatted()) out += l;
    return out;
  }

private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> m_sink;
  std::shared_ptr<spdlog::logger> m_saved;
};

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("observer: sees each statement once, before it is sent, and not its own", "[observer]")
{
  connection c(mighost::test::fresh_database("observer"));
  auto* rec = static_cast<recorder*>(c.observe(std::make_unique<recorder>()));
  c.exec("CREATE TABLE t (a int)");
  c.exec_params("INSERT INTO t VALUES ($1)", {{"1"}});
  c.begin();
  c.exec("SELECT 1; SELECT 2");
  c.commit();
  CHECK(rec->seen == strings{"multi: CREATE TABLE t (a int)", "one: INSERT INTO t VALUES ($1)", "multi: BEGIN",
                             "multi: SELECT 1; SELECT 2", "multi: COMMIT"});
  // Removing it: the connection runs unobserved again.
  c.observe(nullptr);
  c.exec("SELECT 3");
  CHECK(c.exec("SELECT count(*) FROM t").value(0, 0) == "1");
}

TEST_CASE("observer: a connection without the lint observer runs no lint; with it, it does", "[observer][lint]")
{
  const auto saved = lint::config();
  lint::set_config({true, {0, 0}});
  const std::string url = mighost::test::fresh_database("observer_lint");
  connection plain(url), linted(url);
  plain.exec("CREATE TABLE items (a int); INSERT INTO items SELECT generate_series(1, 100); ANALYZE items");
  {
    captured_log log;
    plain.exec("CREATE INDEX ON items (a)");
    CHECK(log.lines().find("lock-heavy DDL") == std::string::npos);
  }
  const lint::observer& hook = mighost::bind::install_lint(linted);
  {
    captured_log log;
    linted.exec("CREATE INDEX ON items (a)");
    CHECK(log.lines().find("lock-heavy DDL: CREATE INDEX on items (") != std::string::npos);
  }
  REQUIRE(hook.warnings().size() == 1);
  CHECK(hook.warnings()[0].rule == "create_index");
  lint::set_config(saved);
}

TEST_CASE("observer: the framework's schemas are known above host/pg, not in it", "[observer][lint]")
{
  // host/pg's lint alone judges a mig_meta table like any other; the binding layer's predicate
  // is what leaves the bookkeeping schemas alone.
  lint::catalog cat;
  CHECK(lint::lint("CREATE INDEX ON mig_meta.runs (a)", cat, lint::thresholds{}).size() == 1);
  cat.owned_schema = mighost::bind::bookkeeping_schema;
  CHECK(lint::lint("CREATE INDEX ON mig_meta.runs (a)", cat, lint::thresholds{}).empty());
  CHECK(lint::lint("CREATE INDEX ON mig_backup_x.t (a)", cat, lint::thresholds{}).empty());
  CHECK(lint::lint("CREATE INDEX ON mig_ddl_scratch.t (a)", cat, lint::thresholds{}).size() == 1);
  CHECK(lint::lint("CREATE INDEX ON mig_metadata.t (a)", cat, lint::thresholds{}).size() == 1);
  CHECK(mighost::bind::untracked_schema("mig_ddl_scratch"));
  CHECK_FALSE(mighost::bind::untracked_schema("public"));

  // The lock report leaves out what the caller's predicate names.
  connection c(mighost::test::fresh_database("observer_locks"));
  c.exec("CREATE SCHEMA mig_meta; CREATE TABLE mig_meta.runs (a int); CREATE TABLE public.items (a int)");
  c.track_locks(mighost::bind::untracked_schema);
  c.begin();
  c.exec("LOCK TABLE mig_meta.runs, public.items IN SHARE MODE");
  c.commit();
  auto report = c.lock_report();
  REQUIRE(report.size() == 1);
  CHECK(report[0].table == "public.items");
  c.track_locks();
  c.begin();
  c.exec("LOCK TABLE mig_meta.runs, public.items IN SHARE MODE");
  c.commit();
  CHECK(c.lock_report().size() == 2);
}
