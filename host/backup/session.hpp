#pragma once
/// @file The session helpers of a backup or restore: name qualification and clocks.
#include "pg/transaction.hpp"

#include <string>

namespace mighost::backup {

/// Sets `search_path = ''` until `tx` ends (call after resolving the names a person gave): every
/// name in generated SQL is then schema-qualified, as with pg_dump. A backup or restore runs in
/// one pg::transaction: its own (a snapshot is REPEATABLE READ READ ONLY so all tables are
/// consistent), or a savepoint of the caller's, whose snapshot and uncommitted rows it then sees.
void qualify_names(pg::transaction& tx);

/// UTC time as ISO-8601 with microseconds, e.g. 2025-01-25T14:30:22.123456Z.
std::string utc_now_iso();
/// UTC time as YYYYMMDD_HHMMSS (file names).
std::string utc_now_compact();

} // namespace mighost::backup
