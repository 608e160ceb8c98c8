#pragma once
/// @file COPY's text format, one field at a time: the escaping mighost writes into COPY FROM STDIN
/// and the unescaping of what COPY TO STDOUT sends. Pure functions (no connection, no Lua).
#include <string>
#include <string_view>

namespace mighost::pg {

/// Appends `value` to a COPY text line with backslash, tab, newline and carriage return escaped;
/// every other byte goes out as it is.
void append_copy_escaped(std::string& line, std::string_view value);

/// Undoes COPY's text-format escaping of one field as the server reads it: \b \f \n \r \t \v,
/// one to three octal digits, \x with one or two hex digits, and any other escaped character
/// for itself. `\N` (NULL) is the caller's to recognise before this.
std::string copy_text_unescape(std::string_view field);

} // namespace mighost::pg
