#pragma once
/// @file Whole-database fingerprints: proof that a run changed nothing (or only what it may).
#include "pg/connection.hpp"

#include <map>
#include <string>
#include <vector>

namespace mighost::cli {

/// md5 of each user table's rows (order-independent: rows sorted by their text form), keyed by
/// `schema.table`; system schemas are skipped. A table's DDL is not part of it; the set of keys
/// shows tables that appear or vanish.
std::map<std::string, std::string> table_fingerprints(pg::connection& conn);

/// Human lines describing how two fingerprint maps differ (empty = identical), ignoring `skip`.
std::vector<std::string> fingerprint_diff(const std::map<std::string, std::string>& before,
                                          const std::map<std::string, std::string>& after,
                                          const std::vector<std::string>& skip = {});

} // namespace mighost::cli
