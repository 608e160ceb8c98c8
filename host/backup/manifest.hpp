#pragma once
/// @file Reading a snapshot directory's manifest.json (snapshot.cpp writes it): the one parse that
/// verify and restore share. manifest.cpp also holds the JSON form of table_def (catalog.hpp).
/// No database here.
#include "backup/catalog.hpp"
#include "backup/files.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mighost::backup {

/// One table of a manifest: its definition and its data file's name, rows, bytes and digest.
struct manifest_table
{
  table_def def;
  std::string file;
  long long rows = 0;
  std::uint64_t bytes = 0;
  std::string sha256;
};

/// What a restore or a verify needs of manifest.json.
struct manifest
{
  compression comp = compression::none;
  std::vector<manifest_table> tables;
};

/// Parses the text of a manifest. Throws backup_error naming `what`: kind::failed when it is JSON
/// but not a mighost backup manifest, kind::corrupt when it is not JSON, a field is missing or has
/// the wrong type, a count is not a non-negative integer, or a file name leaves the directory.
manifest parse_manifest(std::string_view text, const std::string& what);

} // namespace mighost::backup
