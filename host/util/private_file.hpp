#pragma once
/// @file Files only their owner may read: reports and JUnit files name tables, keys and rows.
#include <string>

namespace mighost::util {

/// Creates `path` empty with mode 0600, or empties an existing file and sets its mode to 0600, so
/// that a later open for writing keeps it private. Throws std::runtime_error naming the path.
void create_private_file(const std::string& path);

} // namespace mighost::util
