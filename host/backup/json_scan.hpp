#pragma once
/// @file Just enough JSON scanning to restore a JSON export without parsing its values: the
/// server parses every row (numbers stay exact), we only find where each one starts and ends.
#include <string>
#include <string_view>
#include <vector>

namespace mighost::backup {

/// A read-only memory map of a whole file.
class mapped_file
{
public:
  explicit mapped_file(const std::string& path);
  ~mapped_file();
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  std::string_view view() const noexcept { return {static_cast<const char*>(m_data), m_size}; }

private:
  void* m_data = nullptr;
  std::size_t m_size = 0;
};

/// One member of the top-level object: its key (unescaped) and the raw text of its value.
struct json_member
{
  std::string key;
  std::string_view value;
};

/// The members of the top-level JSON object in `doc`; throws backup_error(corrupt) naming
/// `what` and the byte offset when the text is not one JSON object.
std::vector<json_member> top_level_members(std::string_view doc, const std::string& what);

/// Walks the elements of a JSON array given as raw text (from top_level_members).
class json_array_cursor
{
public:
  json_array_cursor(std::string_view array, const std::string& what);
  /// The raw text of the next element; false after the last.
  bool next(std::string_view& element);

private:
  std::string_view m_text;
  std::size_t m_pos = 0;
  bool m_first = true;
  std::string m_what;
};

} // namespace mighost::backup
