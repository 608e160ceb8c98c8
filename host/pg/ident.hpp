#pragma once
/// @file Identifiers as PostgreSQL prints them (for messages and listings, not for SQL that is
/// run: that quotes every name with connection::quote_ident).
#include <string>

namespace mighost::pg {

/// `s` as PostgreSQL would print it: bare when it is lower-case letters, digits and underscores
/// not starting with a digit, else double-quoted with inner quotes doubled.
std::string quote_if_needed(const std::string& s);

} // namespace mighost::pg
