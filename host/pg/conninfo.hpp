#pragma once
/// @file Connection strings: masking passwords, validating, choosing the default.
#include <optional>
#include <string>

namespace mighost::pg {

/// The string with any password replaced by `***` (URL `user:pw@`, `?password=`, `password=` keys).
/// Safe to log. Also masks passwords embedded in longer text such as error messages.
std::string mask_password(const std::string& text);

/// libpq's own parse of a URL or key=value string; the error text when it does not parse.
std::optional<std::string> conninfo_error(const std::string& conninfo);

/// The connection string to use when a script calls db.connect() without one: the operator's
/// `--db`, else `DATABASE_URL`, else "" (libpq then reads PGHOST, PGPORT, PGDATABASE, ...).
std::string default_conninfo(const std::string& operator_db);

} // namespace mighost::pg
