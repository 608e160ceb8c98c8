// The JSON backup scanner against nlohmann's full parser: on any text it throws nothing but
// backup_error, and on every document nlohmann accepts as an object it finds the same members
// with the same values, and the same elements in each array.
#include "backup/files.hpp"
#include "backup/json_scan.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string_view>

using mighost::backup::backup_error;

namespace {
nlohmann::json parsed(std::string_view text) { return nlohmann::json::parse(text.begin(), text.end()); }

/// Walks an array's elements; their count, or -1 when the scanner rejects it.
long walk(std::string_view array, const nlohmann::json* expected)
{
  try {
    mighost::backup::json_array_cursor rows(array, "fuzz");
    std::string_view element;
    long n = 0;
    while (rows.next(element)) {
      if (expected && (static_cast<std::size_t>(n) >= expected->size() || parsed(element) != (*expected)[n]))
        std::abort();
      ++n;
    }
    return n;
  } catch (const backup_error&) {
    return -1;
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view doc(reinterpret_cast<const char*>(data), size);
  bool valid = nlohmann::json::accept(doc.begin(), doc.end());
  nlohmann::json whole = valid ? parsed(doc) : nlohmann::json();
  bool object = valid && whole.is_object();

  std::vector<mighost::backup::json_member> members;
  try {
    members = mighost::backup::top_level_members(doc, "fuzz");
  } catch (const backup_error&) {
    if (object) std::abort();  // a valid document refused
    return 0;
  }
  if (!object) {
    for (const auto& m : members)
      if (!m.value.empty() && m.value[0] == '[') walk(m.value, nullptr);
    return 0;
  }
  // nlohmann keeps the last of duplicate keys: compare each key's last member.
  std::map<std::string, std::string_view> last;
  for (const auto& m : members) last[m.key] = m.value;
  if (last.size() != whole.size()) std::abort();
  for (const auto& [key, value] : last) {
    if (!whole.contains(key) || parsed(value) != whole[key]) std::abort();
    if (whole[key].is_array() && walk(value, &whole[key]) != static_cast<long>(whole[key].size())) std::abort();
  }
  return 0;
}
