#pragma once
/// @file Steps both restores share (snapshot directory and JSON export).
#include "backup/catalog.hpp"

#include <vector>

namespace mighost::backup {

/// Locks `tables` against concurrent writers, then throws backup_error(refused) naming every
/// non-empty one unless `truncate`. Runs before the restore changes anything.
void refuse_non_empty(pg::connection& c, const std::vector<table_id>& tables, bool truncate);

/// TRUNCATE ONLY of all of them in one statement (no CASCADE: a table outside the restore that
/// references one of them makes the server refuse, rather than silently emptying it too).
void truncate_tables(pg::connection& c, const std::vector<table_id>& tables);

} // namespace mighost::backup
