// The backup engine's transaction guard and clock helpers.
#include "backup/session.hpp"

#include <chrono>
#include <ctime>

namespace mighost::backup {

scoped_tx::scoped_tx(pg::connection& c, mode m) : m_conn(c), m_own(c.tx_depth() == 0)
{
  m_conn.begin();
  if (m_own && m == mode::snapshot) {
    try {
      m_conn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    } catch (...) {
      m_conn.rollback();
      throw;
    }
  }
}

scoped_tx::~scoped_tx()
{
  if (m_done) return;
  try {
    m_conn.rollback();  // also undoes the search_path change (SET LOCAL semantics)
  } catch (...) {
    // The session is broken; the caller's error says why.
  }
}

void scoped_tx::qualify_names()
{
  auto r = m_conn.exec("SELECT pg_catalog.current_setting('search_path')");
  m_search_path = std::string(r.value(0, 0));
  m_path_saved = true;
  m_conn.exec("SELECT pg_catalog.set_config('search_path', '', true)");
}

void scoped_tx::commit()
{
  // In a savepoint, a SET LOCAL would outlive the RELEASE: put the caller's value back first.
  if (m_path_saved && !m_own)
    m_conn.exec_params("SELECT pg_catalog.set_config('search_path', $1, true)", {{m_search_path}});
  m_done = true;
  m_conn.commit();
}

namespace {
std::string utc_format(const char* fmt, bool micro)
{
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  std::string out = buf;
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us));
    out += frac;
  }
  return out;
}
} // namespace

std::string utc_now_iso() { return utc_format("%Y-%m-%dT%H:%M:%S", true); }
std::string utc_now_compact() { return utc_format("%Y%m%d_%H%M%S", false); }

} // namespace mighost::backup
