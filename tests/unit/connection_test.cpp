// pg::connection's own lifetime: what closing it, or destroying it, does to the server session.
#include <catch2/catch.hpp>

#include "pg.hpp"
#include "pg/connection.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

using namespace mighost::pg;

namespace {

/// Whether the server has a backend with this pid, asked from another session.
bool backend_alive(connection& observer, int pid)
{
  auto r = observer.exec_params("SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = $1",
                                {{std::to_string(pid)}});
  return std::string(r.value(0, 0)) != "0";
}

/// A backend leaves pg_stat_activity a moment after its client hangs up: waits up to 30 s.
bool backend_gone(connection& observer, int pid)
{
  for (int i = 0; i < 600; ++i) {
    if (!backend_alive(observer, pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

} // namespace

TEST_CASE("connection: close() ends the server session", "[connection]")
{
  std::string url = mighost::test::fresh_database("conn_close");
  connection observer(url);
  connection c(url);
  int pid = c.backend_pid();
  REQUIRE(pid != 0);
  CHECK(backend_alive(observer, pid));
  c.close();
  CHECK_FALSE(c.is_open());
  CHECK(c.backend_pid() == 0);
  CHECK(backend_gone(observer, pid));
  c.close();  // a second close is harmless
}

TEST_CASE("connection: destroying it ends the server session", "[connection]")
{
  std::string url = mighost::test::fresh_database("conn_destroy");
  connection observer(url);
  auto c = std::make_unique<connection>(url);
  int pid = c->backend_pid();
  REQUIRE(pid != 0);
  CHECK(backend_alive(observer, pid));
  c.reset();
  CHECK(backend_gone(observer, pid));
}
