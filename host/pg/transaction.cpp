// Transactions of mighost::pg::connection, the transaction guard (pg/transaction.hpp) and the
// session settings.
#include "pg/transaction.hpp"

namespace mighost::pg {

namespace {
std::string savepoint(int depth) { return "mighost_sp_" + std::to_string(depth); }
} // namespace

void transaction::transition(state to, const std::function<void()>& statement)
{
  try {
    statement();
  } catch (...) {
    m_state = state::failed;
    throw;
  }
  m_state = to;
}

void connection::begin()
{
  locks_begin();
  exec(m_depth == 0 ? std::string("BEGIN") : "SAVEPOINT " + savepoint(m_depth));
  ++m_depth;
}

void connection::commit()
{
  if (m_depth == 0) throw usage_error("commit without a transaction");
  locks_end(true);
  // Count down first: a failed COMMIT still ends the transaction on the server.
  --m_depth;
  exec(m_depth == 0 ? std::string("COMMIT") : "RELEASE SAVEPOINT " + savepoint(m_depth));
}

void connection::rollback()
{
  if (m_depth == 0) throw usage_error("rollback without a transaction");
  if (is_open() && PQtransactionStatus(m_pg) == PQTRANS_INTRANS) locks_end(false);
  --m_depth;
  if (!is_open()) return;  // the server already dropped the transaction with the session
  if (m_depth == 0) exec("ROLLBACK");
  else exec("ROLLBACK TO SAVEPOINT " + savepoint(m_depth) + "; RELEASE SAVEPOINT " + savepoint(m_depth));
}

transaction::~transaction()
{
  if (m_state != state::active) return;
  try {
    abort();
  } catch (const std::exception&) {
    // The session is broken; the caller's error says why.
  }
}

const char* transaction::name(state s) noexcept
{
  switch (s) {
  case state::idle: return "idle";
  case state::active: return "active";
  case state::committed: return "committed";
  case state::aborted: return "aborted";
  case state::failed: return "failed";
  }
  return "?";
}

void transaction::expect(state s, const char* what) const
{
  if (m_state != s)
    throw usage_error(std::string("transaction: ") + what + " needs an " + name(s) + " transaction, this one is " +
                      name(m_state));
}

void transaction::begin(kind k)
{
  expect(state::idle, "begin()");
  m_top = m_conn.tx_depth() == 0;
  transition(state::active, [this] { m_conn.begin(); });
  if (m_top && k == kind::snapshot) {
    try {
      m_conn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    } catch (...) {
      abort();
      throw;
    }
  }
}

void transaction::set_local(const std::string& name, const std::string& value)
{
  expect(state::active, "set_local()");
  if (!m_top) {
    result r = m_conn.exec_params("SELECT pg_catalog.current_setting($1)", {{name}});
    m_restore.emplace_back(name, std::string(r.value(0, 0)));
  }
  m_conn.exec_params("SELECT pg_catalog.set_config($1, $2, true)", {{name}, {value}});
}

void transaction::commit()
{
  expect(state::active, "commit()");
  // Still active if this fails: the destructor or abort() rolls the savepoint back.
  for (auto it = m_restore.rbegin(); it != m_restore.rend(); ++it)
    m_conn.exec_params("SELECT pg_catalog.set_config($1, $2, true)", {{it->first}, {it->second}});
  transition(state::committed, [this] { m_conn.commit(); });
}

void transaction::abort()
{
  if (m_state == state::aborted || m_state == state::failed) return;
  expect(state::active, "abort()");
  if (!m_conn.is_open()) {  // the server dropped the transaction with the session
    m_state = state::failed;
    return;
  }
  transition(state::aborted, [this] { m_conn.rollback(); });  // also undoes set_local()
}

void connection::set_statement_timeout(int ms)
{
  exec("SET statement_timeout = " + std::to_string(ms < 0 ? 0 : ms));
}

void connection::set_lock_timeout(int ms)
{
  exec("SET lock_timeout = " + std::to_string(ms < 0 ? 0 : ms));
}

} // namespace mighost::pg
