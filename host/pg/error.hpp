#pragma once
/// @file SQL errors with every diagnostic field PostgreSQL sends.
#include <pqxx/except>

#include <optional>
#include <string>

namespace mighost::pg {

/// All diagnostic fields of one server error (libpq's PG_DIAG_*).
struct diagnostics
{
  std::string severity;  ///< ERROR, FATAL, ...
  std::string sqlstate;  ///< five-character SQLSTATE, "08006" for a lost connection
  std::string message;   ///< primary message
  std::string detail;
  std::string hint;
  std::string context;
  std::string query;     ///< the statement that failed
  int position = 0;      ///< 1-based character offset into query; 0 = unknown
};

/// An SQL error: a pqxx::sql_error (so sqlstate() and query() work as everywhere in libpqxx) that
/// also carries detail, hint, context and the error position, which libpqxx 6.4 does not expose.
class sql_error : public pqxx::sql_error
{
public:
  explicit sql_error(diagnostics d);
  const diagnostics& diag() const noexcept { return m_diag; }
  /// One readable line: `ERROR 42P01: message (DETAIL: ...) at character 15 in: SELECT ...`.
  std::string one_line() const;

private:
  diagnostics m_diag;
};

/// The connection to the server is gone (network, server crash, pg_terminate_backend).
class connection_lost : public sql_error
{
public:
  using sql_error::sql_error;
};

/// Bad use of the API (wrong state, wrong argument); not a server error.
class usage_error : public std::logic_error
{
public:
  using std::logic_error::logic_error;
};

} // namespace mighost::pg
