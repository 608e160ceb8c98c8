// COPY FROM STDIN / TO STDOUT of mighost::pg::connection: rows stream, nothing is held in memory.
#include "pg/connection.hpp"

#include <poll.h>

#include <cerrno>

namespace mighost::pg {

namespace {
ExecStatusType status_of(PGresult* r) { return r ? PQresultStatus(r) : PGRES_FATAL_ERROR; }

/// Sends all COPY data libpq still holds (the session is non-blocking during COPY FROM STDIN),
/// waiting for the socket as needed. False on a connection error.
bool flush_all(PGconn* pg) noexcept
{
  for (;;) {
    int r = PQflush(pg);  // also reads what the server sent meanwhile (an error, a notice)
    if (r <= 0) return r == 0;
    pollfd p{PQsocket(pg), POLLOUT | POLLIN, 0};  // libpq asks callers to wait for both
    if (poll(&p, 1, -1) < 0 && errno != EINTR) return false;
    if ((p.revents & POLLIN) && !PQconsumeInput(pg)) return false;
  }
}
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
  // Non-blocking while the data streams: put_copy_data returns once a chunk is queued, and the
  // socket drains into the server while the caller builds the next chunk. A blocking send would
  // wait for the whole chunk, leaving the server idle whenever the caller is busy (or descheduled).
  PQsetnonblocking(handle(), 1);
  m_copy_sql = copy_sql;
  m_copy_in = true;
}

void connection::put_copy_data(std::string_view data)
{
  if (!m_copy_in) throw usage_error("no COPY FROM STDIN in progress");
  if (data.empty()) return;
  const int n = static_cast<int>(data.size());
  // At most one chunk waits in libpq: the one before this is sent first (memory stays flat).
  int r = flush_all(handle()) ? PQputCopyData(handle(), data.data(), n) : -1;
  if (r == 0 && flush_all(handle())) r = PQputCopyData(handle(), data.data(), n);  // 0: no room yet
  if (r == 1 && PQflush(handle()) >= 0) return;  // PQflush 1: the rest goes out while the caller works
  m_copy_in = false;
  PQsetnonblocking(handle(), 0);
  throw_error(nullptr, m_copy_sql);
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
  bool sent = flush_all(handle());
  PQsetnonblocking(handle(), 0);
  if (!sent || PQputCopyEnd(handle(), nullptr) != 1) throw_error(nullptr, m_copy_sql);
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
  flush_all(m_pg);  // a failed flush leaves the connection broken; PQputCopyEnd then fails too
  PQsetnonblocking(m_pg, 0);
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
