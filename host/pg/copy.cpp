// COPY FROM STDIN / TO STDOUT of mighost::pg::connection: rows stream, nothing is held in memory.
#include "pg/connection.hpp"

namespace mighost::pg {

namespace {
ExecStatusType status_of(PGresult* r) { return r ? PQresultStatus(r) : PGRES_FATAL_ERROR; }
} // namespace

void connection::begin_copy_in(const std::string& copy_sql)
{
  settle();
  PGresult* r = PQexec(handle(), copy_sql.c_str());
  if (status_of(r) != PGRES_COPY_IN) {
    if (status_of(r) == PGRES_COMMAND_OK || status_of(r) == PGRES_TUPLES_OK) {
      PQclear(r);
      throw usage_error("not a COPY ... FROM STDIN statement: " + copy_sql);
    }
    throw_error(r, copy_sql);
  }
  PQclear(r);
  m_copy_sql = copy_sql;
  m_copy_in = true;
}

void connection::put_copy_data(std::string_view data)
{
  if (!m_copy_in) throw usage_error("no COPY FROM STDIN in progress");
  if (data.empty()) return;
  if (PQputCopyData(handle(), data.data(), static_cast<int>(data.size())) != 1) {
    m_copy_in = false;
    throw_error(nullptr, m_copy_sql);
  }
}

void connection::finish_copy(const std::string& sql)
{
  // Collect the final result(s); the first error wins, later results are drained.
  PGresult* failed = nullptr;
  while (PGresult* r = PQgetResult(handle())) {
    ExecStatusType st = status_of(r);
    if (!failed && st != PGRES_COMMAND_OK) failed = r;
    else PQclear(r);
  }
  if (failed) throw_error(failed, sql);
}

long long connection::end_copy_in()
{
  if (!m_copy_in) throw usage_error("no COPY FROM STDIN in progress");
  m_copy_in = false;
  if (PQputCopyEnd(handle(), nullptr) != 1) throw_error(nullptr, m_copy_sql);
  PGresult* r = PQgetResult(handle());
  if (status_of(r) != PGRES_COMMAND_OK) {
    while (PGresult* extra = PQgetResult(handle())) PQclear(extra);
    throw_error(r, m_copy_sql);
  }
  result res(r);
  finish_copy(m_copy_sql);
  return res.affected_rows();
}

void connection::abort_copy_in(const std::string& reason) noexcept
{
  if (!m_pg) return;
  m_copy_in = false;
  PQputCopyEnd(m_pg, reason.c_str());
  while (PGresult* r = PQgetResult(m_pg)) PQclear(r);
}

void connection::begin_copy_out(const std::string& copy_sql)
{
  settle();
  PGresult* r = PQexec(handle(), copy_sql.c_str());
  if (status_of(r) != PGRES_COPY_OUT) {
    if (status_of(r) == PGRES_COMMAND_OK || status_of(r) == PGRES_TUPLES_OK) {
      PQclear(r);
      throw usage_error("not a COPY ... TO STDOUT statement: " + copy_sql);
    }
    throw_error(r, copy_sql);
  }
  PQclear(r);
  m_copy_sql = copy_sql;
  m_copy_out = true;
}

bool connection::next_copy_row(std::string_view& line)
{
  if (m_copy_buf) {
    PQfreemem(m_copy_buf);
    m_copy_buf = nullptr;
  }
  if (!m_copy_out) return false;
  int n = PQgetCopyData(handle(), &m_copy_buf, 0);
  if (n > 0) {
    line = std::string_view(m_copy_buf, static_cast<std::size_t>(n));
    return true;
  }
  m_copy_out = false;
  if (n == -2) throw_error(nullptr, m_copy_sql);
  finish_copy(m_copy_sql);
  return false;
}

void connection::drain_copy_out() noexcept
{
  try {
    std::string_view line;
    while (m_copy_out && next_copy_row(line)) {}
  } catch (...) {
    m_copy_out = false;  // the error is moot: the caller stopped reading
  }
}

} // namespace mighost::pg
