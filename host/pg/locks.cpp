// The lock report of pg::connection (connection.hpp: track_locks, lock_report). Inside a
// transaction pg_locks says what this session holds: it is read after each statement that may
// take a table lock (DDL, LOCK, ANALYZE, …, and ROLLBACK TO SAVEPOINT, which releases some) and
// before the transaction ends (which also catches the row-writing statements' locks); a hold ends
// with the transaction. Outside a transaction only the CONCURRENTLY forms are expected; they take
// SHARE UPDATE EXCLUSIVE for the statement's duration, which is recorded as such.
#include "pg/connection.hpp"
#include "pg/lint.hpp"
#include "pg/locks.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

namespace mighost::pg {

namespace {

double now()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string excerpt(const std::string& sql)
{
  std::string out;
  for (char c : sql) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

std::string first_word(const std::string& sql)
{
  std::size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
  std::string w;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])))
    w += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  return w;
}

/// Statements after which pg_locks is read: those that take (or, ROLLBACK TO, release) table locks
/// beyond what a row-writing statement takes.
bool takes_table_locks(const std::string& w, const std::string& sql)
{
  static const std::set<std::string> words = {"alter", "create", "drop", "lock", "truncate", "analyze", "vacuum",
                                              "cluster", "reindex", "refresh", "comment", "grant", "revoke"};
  if (words.count(w)) return true;
  return w == "rollback" && sql.find(" TO ") != std::string::npos;
}

bool writes(const std::string& w)
{
  return w == "insert" || w == "update" || w == "delete" || w == "with" || w == "merge" || w == "copy";
}

/// PostgreSQL's lock modes, weakest first; SHARE and stronger block row writes.
int strength(const std::string& mode)
{
  static const char* order[] = {"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock",
                                "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"};
  for (int i = 0; i < 8; ++i)
    if (mode == order[i]) return i + 1;
  return 0;
}

void close_hold(lock_tracker& t, const lock_tracker::key& k, const lock_tracker::hold& h, double end)
{
  double seconds = end - h.start;
  auto it = t.longest.find(k);
  if (it == t.longest.end() || it->second.start < seconds) t.longest[k] = {seconds, h.statement};
}

} // namespace

void connection::track_locks(const std::function<bool(std::string_view schema)>& skip_schema)
{
  auto t = std::make_unique<lock_tracker>();
  result r = exec(
    "SELECT c.oid::int8, format('%I.%I', n.nspname, c.relname), n.nspname FROM pg_class c"
    "  JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    "   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'");
  for (int i = 0; i < r.rows(); ++i) {
    if (skip_schema && skip_schema(r.value(i, 2))) continue;
    t->tables[std::atoll(std::string(r.value(i, 0)).c_str())] = std::string(r.value(i, 1));
  }
  m_locks = std::move(t);
}

/// Reads pg_locks (in a savepoint inside a transaction, so that even a failed read leaves the
/// transaction as it was): holds seen for the first time start at `start`; open holds no longer
/// held end now. `ending`: the transaction's COMMIT or ROLLBACK follows, which ends the savepoint
/// too (no RELEASE: one round trip a transaction instead of three).
static void sample(connection& c, lock_tracker& t, PGconn* pg, double start, const std::string& label, bool ending)
{
  const bool in_tx = PQtransactionStatus(pg) == PQTRANS_INTRANS;
  if (!in_tx) return;
  t.busy = true;
  bool saved = false;
  try {
    saved = true;  // should the SAVEPOINT itself fail, the ROLLBACK TO below fails as harmlessly
    result r = c.exec(
      "SAVEPOINT mighost_locks; SELECT relation::int8, mode FROM pg_locks WHERE pid = pg_backend_pid()"
      " AND locktype = 'relation' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    if (!ending) c.exec("RELEASE SAVEPOINT mighost_locks");
    std::set<lock_tracker::key> held;
    for (int i = 0; i < r.rows(); ++i) {
      long long oid = std::atoll(std::string(r.value(i, 0)).c_str());
      if (!t.tables.count(oid)) continue;
      lock_tracker::key k{oid, std::string(r.value(i, 1))};
      held.insert(k);
      if (!t.open.count(k)) t.open[k] = {start, label};
    }
    double end = now();
    for (auto it = t.open.begin(); it != t.open.end();) {
      if (held.count(it->first)) { ++it; continue; }
      close_hold(t, it->first, it->second, end);
      it = t.open.erase(it);
    }
  } catch (const std::exception& e) {
    spdlog::debug("lock report: pg_locks not read ({})", e.what());
    try {
      if (saved && c.is_open()) c.exec("ROLLBACK TO SAVEPOINT mighost_locks; RELEASE SAVEPOINT mighost_locks");
    } catch (const std::exception&) {
      // the session is gone; the statement that follows will say so
    }
  }
  t.busy = false;
}

void connection::locks_before(const std::string& sql)
{
  if (!m_locks || m_locks->busy) return;
  lock_tracker& t = *m_locks;
  t.statement_start = now();
  if (PQtransactionStatus(m_pg) != PQTRANS_IDLE) return;
  auto target = lint::concurrent_statement(sql);
  if (!target) return;
  t.busy = true;
  try {
    result r = target->index
      ? exec_params("SELECT indrelid::int8 FROM pg_index WHERE indexrelid = to_regclass($1)", {{target->ref.text()}})
      : exec_params("SELECT to_regclass($1)::oid::int8", {{target->ref.text()}});
    if (r.rows() > 0 && !r.is_null(0, 0)) t.concurrent_oid = std::atoll(std::string(r.value(0, 0)).c_str());
  } catch (const std::exception&) {
    // a name the statement itself will complain about
  }
  t.busy = false;
}

void connection::locks_after(const std::string& sql)
{
  if (!m_locks || m_locks->busy) return;
  lock_tracker& t = *m_locks;
  double end = now();
  if (t.concurrent_oid) {
    if (t.tables.count(t.concurrent_oid))
      close_hold(t, {t.concurrent_oid, "ShareUpdateExclusiveLock"}, {t.statement_start, excerpt(sql)}, end);
    t.concurrent_oid = 0;
  }
  PGTransactionStatusType st = PQtransactionStatus(m_pg);
  if (st == PQTRANS_IDLE) {  // the transaction ended (also a COMMIT inside the statement's text)
    for (const auto& [k, h] : t.open) close_hold(t, k, h, end);
    t.open.clear();
    t.tx_writer.clear();
    return;
  }
  if (st != PQTRANS_INTRANS) return;
  const std::string w = first_word(sql);
  if (t.tx_writer.empty() && writes(w)) t.tx_writer = excerpt(sql);
  if (takes_table_locks(w, sql)) sample(*this, t, m_pg, t.statement_start, excerpt(sql), false);
}

void connection::locks_begin()
{
  if (!m_locks || m_depth != 0) return;
  m_locks->tx_start = now();
  m_locks->tx_writer.clear();
}

void connection::locks_end(bool)
{
  if (!m_locks || m_locks->busy || m_depth != 1) return;
  lock_tracker& t = *m_locks;
  sample(*this, t, m_pg, t.tx_start, t.tx_writer.empty() ? std::string("(the transaction's statements)") : t.tx_writer,
         true);
}

std::vector<lock_summary> connection::lock_report()
{
  std::vector<lock_summary> out;
  if (!m_locks) return out;
  lock_tracker& t = *m_locks;
  std::map<lock_tracker::key, lock_tracker::hold> all = t.longest;  // seconds in .start
  double end = now();
  for (const auto& [k, h] : t.open) {
    double s = end - h.start;
    if (!all.count(k) || all[k].start < s) all[k] = {s, h.statement};
  }
  std::map<long long, lock_summary> by_table;
  for (const auto& [k, h] : all) {
    lock_summary& s = by_table[k.first];
    s.table = t.tables[k.first];
    if (strength(k.second) > strength(s.strongest) ||
        (k.second == s.strongest && h.start > s.strongest_seconds)) {
      s.strongest = k.second;
      s.strongest_seconds = h.start;
      s.strongest_statement = h.statement;
    }
    if (strength(k.second) >= 5 && h.start > s.blocking_seconds) {
      s.blocking = k.second;
      s.blocking_seconds = h.start;
      s.blocking_statement = h.statement;
    }
  }
  for (auto& [oid, s] : by_table) out.push_back(std::move(s));
  std::sort(out.begin(), out.end(), [](const lock_summary& a, const lock_summary& b) { return a.table < b.table; });
  return out;
}

} // namespace mighost::pg
