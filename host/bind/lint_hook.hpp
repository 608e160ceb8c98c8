#pragma once
/// @file The framework's knowledge the layers below it do without: which schemas are its own
/// bookkeeping (mig_meta: the ledger; mig_backup_*: backups), and the lint observer it installs
/// on the connections it opens.
#include "pg/connection.hpp"
#include "pg/lint_observer.hpp"

#include <string_view>

namespace mighost::bind {

/// mig_meta and mig_backup_*: no one else locks their tables, so the lint does not judge them.
bool bookkeeping_schema(std::string_view schema);
/// The bookkeeping schemas and mig_ddl_scratch (mig_ddl's scratch tables): left out of the lock
/// report.
bool untracked_schema(std::string_view schema);

/// Installs on `c` the lint that leaves the bookkeeping schemas alone; returns it (owned by `c`).
pg::lint::observer& install_lint(pg::connection& c);

} // namespace mighost::bind
