#pragma once
/// @file The one transaction guard: a transaction of its own, or a savepoint inside the caller's,
/// as an explicit state machine (after libpqxx's transaction_base).
///
///   idle --begin()--> active --commit()--> committed
///                       |  \--abort() or destructor--> aborted
///                       \--a BEGIN/COMMIT/ROLLBACK that fails--> failed
///
/// Any other transition is a usage_error; abort() is idempotent once the transaction is over
/// without committing (aborted or failed). A failed COMMIT ends the transaction on the server all
/// the same, so `failed` never holds anything open.
#include "pg/connection.hpp"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mighost::pg {

class transaction
{
public:
  enum class state { idle, active, committed, aborted, failed };
  enum class kind
  {
    plain,
    /// A transaction of its own is REPEATABLE READ READ ONLY (one view of every table); a
    /// savepoint keeps the caller's snapshot.
    snapshot,
  };

  /// Idle: nothing is sent until begin().
  explicit transaction(connection& c) noexcept : m_conn(c) {}
  /// Rolls back an active transaction (errors are swallowed: the first one is the one to report).
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  /// idle -> active: BEGIN outside a transaction, SAVEPOINT inside one.
  void begin(kind k = kind::plain);
  /// active -> committed: COMMIT, or RELEASE of the savepoint after putting back set_local()'s.
  void commit();
  /// active -> aborted: ROLLBACK (or ROLLBACK TO the savepoint); active -> failed when the
  /// session is already lost. No-op when aborted or failed.
  void abort();

  /// Sets a run-time parameter until this transaction ends. PostgreSQL keeps a SET LOCAL made in
  /// a savepoint after its RELEASE, so for a savepoint commit() puts the caller's value back.
  void set_local(const std::string& name, const std::string& value);

  state current() const noexcept { return m_state; }
  bool active() const noexcept { return m_state == state::active; }
  /// True when begin() opened a transaction of its own (not a savepoint).
  bool top_level() const noexcept { return m_top; }
  connection& conn() noexcept { return m_conn; }

  static const char* name(state s) noexcept;

private:
  void expect(state s, const char* what) const;
  /// Runs the statement of a transition: the state becomes `to`, or failed when it throws.
  void transition(state to, const std::function<void()>& statement);

  connection& m_conn;
  state m_state = state::idle;
  bool m_top = false;
  std::vector<std::pair<std::string, std::string>> m_restore;  ///< name, the caller's value
};

} // namespace mighost::pg
