// Statements sent asynchronously while watch_lock_waits is on, so that a second session can name
// whoever the statement waits for before a lock timeout ends the wait.
#include "pg/connection.hpp"
#include "pg/lock_wait.hpp"

#include <poll.h>

#include <cerrno>
#include <vector>

namespace mighost::pg {

namespace {

/// A session like `main` (same host, port, database, user, password), named for pg_stat_activity.
PGconn* open_observer(PGconn* main)
{
  PQconninfoOption* opts = PQconninfo(main);
  if (!opts) return nullptr;
  std::vector<const char*> keys, values;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || std::string(o->keyword) == "application_name") continue;
    keys.push_back(o->keyword);
    values.push_back(o->val);
  }
  keys.push_back("application_name");
  values.push_back("mighost lock watch");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  PQconninfoFree(opts);
  if (PQstatus(c) != CONNECTION_OK) {
    PQfinish(c);
    return nullptr;
  }
  return c;
}

/// One look at who blocks backend `pid` now; keeps the last answer that named someone.
void look_for_blockers(lock_watch& w, PGconn* main)
{
  if (w.failed) return;
  if (!w.observer && !(w.observer = open_observer(main))) {
    w.failed = true;
    return;
  }
  const std::string pid = std::to_string(PQbackendPID(main));
  const char* params[] = {pid.c_str()};
  PGresult* r = PQexecParams(w.observer, R"(
      SELECT string_agg(format('pid %s (application_name %L, state %s, query: %s)', a.pid,
                               a.application_name, COALESCE(a.state, 'unknown'),
                               left(regexp_replace(COALESCE(a.query, ''), '\s+', ' ', 'g'), 200)),
                        '; ' ORDER BY a.pid)
        FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1::int)))",
                             1, nullptr, params, nullptr, nullptr, 0);
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
    w.blockers = PQgetvalue(r, 0, 0);
  PQclear(r);
}

} // namespace

lock_watch::~lock_watch()
{
  if (observer) PQfinish(observer);
}

void name_blockers(const lock_watch& w, diagnostics& d)
{
  if (w.blockers.empty()) return;
  d.detail += (d.detail.empty() ? "" : "; ") + std::string("blocked by ") + w.blockers;
}

void connection::watch_lock_waits(int every_ms)
{
  if (every_ms <= 0) {
    m_watch.reset();
    return;
  }
  if (!m_watch) m_watch = std::make_unique<lock_watch>();
  m_watch->every = std::chrono::milliseconds(every_ms);
}

PGresult* connection::await_watched(bool sent)
{
  PGconn* h = handle();
  if (!sent) return nullptr;  // check() reports PQerrorMessage
  m_watch->blockers.clear();
  while (PQisBusy(h)) {
    pollfd p{PQsocket(h), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(m_watch->every.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      look_for_blockers(*m_watch, h);
      continue;
    }
    if (!PQconsumeInput(h)) break;  // the connection broke: PQgetResult reports it
  }
  // As PQexec: the last result, an error in preference, stopping at a COPY.
  PGresult* last = nullptr;
  while (PGresult* r = PQgetResult(h)) {
    ExecStatusType st = PQresultStatus(r);
    if (last && PQresultStatus(last) == PGRES_FATAL_ERROR) {
      PQclear(r);
      continue;
    }
    if (last) PQclear(last);
    last = r;
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) break;
  }
  return last;
}

} // namespace mighost::pg
