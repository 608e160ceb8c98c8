// COPY text format: any bytes, escaped as copy_in writes them, decode back to the same bytes; and
// any line as COPY TO might send it decodes field by field without reading past its end.
#include "pg/copy_text.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string line;
  mighost::pg::append_copy_escaped(line, in);
  for (char c : line)
    if (c == '\t' || c == '\n' || c == '\r') std::abort();  // would split the field or the row
  if (mighost::pg::copy_text_unescape(line) != in) std::abort();

  // The input as a line of fields: each decodes to at most its own length.
  std::size_t start = 0;
  for (;;) {
    std::size_t tab = in.find('\t', start);
    std::string_view field = in.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (field != "\\N" && mighost::pg::copy_text_unescape(field).size() > field.size()) std::abort();
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return 0;
}
