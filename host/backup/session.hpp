#pragma once
/// @file The transaction a backup or restore runs in, and small helpers around it.
#include "pg/connection.hpp"

#include <string>

namespace mighost::backup {

/// One transaction for a whole backup or restore. Outside a transaction it is its own (BEGIN;
/// a snapshot is REPEATABLE READ READ ONLY so all tables are consistent); inside the caller's
/// transaction it is a SAVEPOINT, so the caller's snapshot and uncommitted rows are what it
/// sees. It sets `search_path = ''` (every name in generated SQL is then schema-qualified, as
/// with pg_dump) and puts the caller's back at the end. Rolls back unless commit() ran.
class scoped_tx
{
public:
  enum class mode { snapshot, write };
  scoped_tx(pg::connection& c, mode m);
  ~scoped_tx();
  scoped_tx(const scoped_tx&) = delete;
  scoped_tx& operator=(const scoped_tx&) = delete;

  /// search_path = '' until commit (call after resolving the names a person gave).
  void qualify_names();
  void commit();
  /// True when this is a top-level transaction of our own (not a savepoint).
  bool own() const noexcept { return m_own; }

private:
  pg::connection& m_conn;
  bool m_own;
  bool m_done = false;
  bool m_path_saved = false;
  std::string m_search_path;
};

/// UTC time as ISO-8601 with microseconds, e.g. 2025-01-25T14:30:22.123456Z.
std::string utc_now_iso();
/// UTC time as YYYYMMDD_HHMMSS (file names).
std::string utc_now_compact();

} // namespace mighost::backup
