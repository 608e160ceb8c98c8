// Transactions and session settings of mighost::pg::connection.
#include "pg/connection.hpp"

namespace mighost::pg {

namespace {
std::string savepoint(int depth) { return "mighost_sp_" + std::to_string(depth); }
} // namespace

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

void connection::set_statement_timeout(int ms)
{
  exec("SET statement_timeout = " + std::to_string(ms < 0 ? 0 : ms));
}

void connection::set_lock_timeout(int ms)
{
  exec("SET lock_timeout = " + std::to_string(ms < 0 ? 0 : ms));
}

} // namespace mighost::pg
