// manifest.json as restore and verify read it: any text gives a manifest or a backup_error, never
// another exception, a crash or undefined behaviour (counts, names and types come from a file).
#include "backup/manifest.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    mighost::backup::manifest m = mighost::backup::parse_manifest(text, "manifest.json");
    for (const auto& t : m.tables) {
      if (t.rows < 0 || t.file.empty() || t.file.find('/') != std::string::npos) std::abort();
      // What restore does with a table entry before it touches a database.
      nlohmann::json again = t.def;
      if (again.get<mighost::backup::table_def>().columns.size() != t.def.columns.size()) std::abort();
    }
  } catch (const mighost::backup::backup_error&) {
  }
  return 0;
}
