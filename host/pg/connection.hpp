#pragma once
/// @file One PostgreSQL session: statements with typed parameters, COPY, transactions.
///
/// libpqxx opens and owns the session (connection policy, conninfo parsing, errors at connect).
/// The data path talks to libpq directly through the handle libpqxx connected, because libpqxx
/// 6.4 exposes neither per-parameter binary formats (needed to send bytea untouched) nor the
/// detail/hint/position fields of an error, nor row-at-a-time COPY without its own copies.
#include "pg/error.hpp"
#include "pg/observer.hpp"
#include "pg/result.hpp"

#include <pqxx/connection>

#include <memory>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_map>
#include <vector>

namespace mighost::pg {

struct lock_tracker;
struct lock_watch;

/// One table's line of the lock report. Modes are pg_locks' names ("AccessExclusiveLock").
struct lock_summary
{
  std::string table;              ///< schema.name
  std::string strongest;          ///< the strongest mode this session held on it
  double strongest_seconds = 0;   ///< the longest time that mode was held
  std::string strongest_statement;
  std::string blocking;           ///< the longest-held mode that blocks writes (SHARE or stronger), "" if none
  double blocking_seconds = 0;
  std::string blocking_statement;
};

/// Well-known type OIDs (pg_type.dat); stable across PostgreSQL versions.
namespace oid {
constexpr Oid boolean = 16, bytea = 17, int8 = 20, int2 = 21, int4 = 23, text = 25, oid = 26,
              json = 114, float4 = 700, float8 = 701, numeric = 1700, jsonb = 3802, unknown = 705;
}

/// One bound parameter: text (or raw bytes for bytea), or NULL.
struct param
{
  std::string value;
  bool is_null = false;
};

/// What a session is set to right after it connects, whatever its connection string says.
struct session_options
{
  /// Every transaction starts READ ONLY (default_transaction_read_only = on): a write fails with
  /// SQLSTATE 25006. A guard against writing by mistake, not a sandbox: the session's own SET,
  /// RESET ALL or BEGIN READ WRITE can still lift it.
  bool read_only = false;
};

/// A PostgreSQL session. Not thread-safe: one thread (one Lua state) owns it.
class connection
{
public:
  /// Connects with a libpq URL or key=value string ("" = libpq environment) and applies `opts`.
  /// Throws sql_error (sqlstate 08001) with the password masked out of the message.
  explicit connection(const std::string& conninfo, const session_options& opts = {});
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Simple-query protocol: may hold several statements; returns the last result.
  result exec(const std::string& sql);
  /// Extended protocol with bound parameters. The statement is described once per session so
  /// each parameter is sent as the type the server expects (bytea in binary, the rest as text).
  result exec_params(const std::string& sql, const std::vector<param>& params);
  /// Describes a statement without running it: the result's columns and types (no rows).
  result describe(const std::string& sql);
  /// Parameter types of a statement (cached per session).
  const std::vector<Oid>& param_types(const std::string& sql);

  /// COPY ... FROM STDIN: start, then put_copy_data() any number of times, then end_copy_in().
  void begin_copy_in(const std::string& copy_sql);
  void put_copy_data(std::string_view data);
  /// Finishes the COPY; returns the number of rows the server stored.
  long long end_copy_in();
  /// Abandons the COPY (the server rolls back the statement).
  void abort_copy_in(const std::string& reason) noexcept;
  bool in_copy_in() const noexcept { return m_copy_in; }

  /// COPY ... TO STDOUT: start, then next_copy_row() until it returns false.
  void begin_copy_out(const std::string& copy_sql);
  /// The next raw COPY text line (including its trailing newline); valid until the next call.
  bool next_copy_row(std::string_view& line);
  /// Reads and discards what is left of a COPY TO (an iterator abandoned early).
  void drain_copy_out() noexcept;
  bool in_copy_out() const noexcept { return m_copy_out; }

  /// Transactions: depth 0 = autocommit. begin() at depth ≥ 1 makes a SAVEPOINT.
  void begin();
  void commit();
  void rollback();
  int tx_depth() const noexcept { return m_depth; }

  void set_statement_timeout(int ms);
  void set_lock_timeout(int ms);

  /// Asks the server to cancel the statement this session runs now (callable from any thread:
  /// the statement then fails with SQLSTATE 57014 in the thread that runs it).
  bool cancel_running() const noexcept;

  /// Is the socket still usable (no error seen that broke it)?
  bool is_open() const noexcept;
  void close() noexcept;
  int backend_pid() const noexcept;
  int server_version() const noexcept;
  /// The connection string this session was opened with, password masked.
  const std::string& masked_conninfo() const noexcept { return m_masked; }
  /// A second session of the caller: connected with what this one connected with (libpq's
  /// PQconninfo, so a password never leaves this class) under another application_name, with
  /// this session's search_path, lock_timeout and statement_timeout.
  std::unique_ptr<connection> open_sibling(const std::string& application_name);
  std::string quote_ident(std::string_view s) const;
  std::string quote_literal(std::string_view s) const;

  /// Server-side transaction status (PQTRANS_IDLE, _INTRANS, _INERROR, ...).
  PGTransactionStatusType transaction_status() const noexcept;

  /// Installs the observer that sees every statement from now on (pg/observer.hpp), replacing
  /// any earlier one; nullptr removes it. Returns the observer, owned by the connection.
  statement_observer* observe(std::unique_ptr<statement_observer> o) noexcept;

  /// Lock report (pg/locks.cpp): from now on, the relation locks this session takes on the
  /// tables that exist at this moment are recorded with how long each was held (from the
  /// statement that took it to the end of its transaction).
  /// Tables in schemas `skip_schema` says yes to (the caller's own bookkeeping) are left out,
  /// as are PostgreSQL's own.
  void track_locks(const std::function<bool(std::string_view schema)>& skip_schema = {});
  /// Per table, the strongest lock taken and the longest write-blocking one (see lock_summary).
  std::vector<lock_summary> lock_report();

  /// Lock waits (pg/lock_wait.cpp): from now on a statement still running after `every_ms` has
  /// the sessions blocking it (pg_blocking_pids, asked by a second session opened on first need)
  /// looked up every `every_ms` until it ends, so that a lock timeout (55P03) names them in its
  /// detail: pid, application_name, state and current query. 0 turns it off.
  void watch_lock_waits(int every_ms);

private:
  /// What this session connected with, as a key=value string with another application_name.
  std::string sibling_conninfo(const std::string& application_name) const;
  /// Shows the statement to the observer, if any and not already inside it.
  void notify(const std::string& sql, bool multi) noexcept;
  PGconn* handle() const;
  /// Finishes a COPY TO the caller abandoned, so the next statement can run.
  void settle() noexcept { if (m_copy_out) drain_copy_out(); }
  result check(PGresult* r, const std::string& sql);
  [[noreturn]] void throw_error(PGresult* r, const std::string& sql);
  void finish_copy(const std::string& what);

  /// The libpqxx connection, of pg/connection.cpp's own class: it is destroyed as that class,
  /// because pqxx::connection_base has no virtual destructor (deleting the base would leave the
  /// session open and its libpq handle allocated).
  struct session;
  std::unique_ptr<session> m_conn;
  PGconn* m_pg = nullptr;
  std::string m_masked;
  std::unordered_map<std::string, std::vector<Oid>> m_param_types;
  std::string m_copy_sql;
  char* m_copy_buf = nullptr;
  bool m_copy_in = false;
  bool m_copy_out = false;
  int m_depth = 0;
  std::unique_ptr<statement_observer> m_observer;
  bool m_observing = false;

  /// Lock tracking hooks (pg/locks.cpp): before and after each statement, around transactions.
  void locks_before(const std::string& sql);
  void locks_after(const std::string& sql);
  void locks_begin();
  void locks_end(bool commit_pending);
  std::unique_ptr<lock_tracker> m_locks;

  /// Waits for the result of a statement just sent (`sent`: whether sending worked) as PQexec
  /// would, looking up who blocks it while it runs (pg/lock_wait.cpp). Only with watch_lock_waits on.
  PGresult* await_watched(bool sent);
  std::unique_ptr<lock_watch> m_watch;
};

} // namespace mighost::pg
