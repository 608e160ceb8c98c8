// Span-level JSON scanning for restore_json.
#include "backup/json_scan.hpp"

#include "backup/files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mighost::backup {

namespace {

[[noreturn]] void malformed(const std::string& what, std::size_t pos, const char* expected)
{
  throw backup_error(backup_error::kind::corrupt,
                     what + ": not a JSON backup: expected " + expected + " at byte " + std::to_string(pos));
}

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::size_t skip_ws(std::string_view s, std::size_t p)
{
  while (p < s.size() && is_ws(s[p])) ++p;
  return p;
}

/// p at the opening quote; returns the position after the closing quote.
std::size_t skip_string(std::string_view s, std::size_t p, const std::string& what)
{
  for (++p; p < s.size(); ++p) {
    if (s[p] == '\\') ++p;
    else if (s[p] == '"') return p + 1;
  }
  malformed(what, p, "the end of a string");
}

/// p at the first character of a value; returns the position after it.
std::size_t skip_value(std::string_view s, std::size_t p, const std::string& what)
{
  if (p >= s.size()) malformed(what, p, "a value");
  if (s[p] == '"') return skip_string(s, p, what);
  if (s[p] == '{' || s[p] == '[') {
    int depth = 0;
    for (; p < s.size(); ++p) {
      char c = s[p];
      if (c == '"') p = skip_string(s, p, what) - 1;
      else if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
    }
    malformed(what, p, "the end of an object or array");
  }
  std::size_t start = p;
  while (p < s.size() && !is_ws(s[p]) && s[p] != ',' && s[p] != ']' && s[p] != '}') ++p;
  if (p == start) malformed(what, p, "a value");
  return p;
}

void append_utf8(std::string& out, unsigned cp)
{
  if (cp < 0x80) out += static_cast<char>(cp);
  else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// The 4 hex digits of a \u escape at raw[at..at+3]; -1 when they are not 4 hex digits.
long hex4(std::string_view raw, std::size_t at)
{
  if (at + 4 > raw.size()) return -1;
  long v = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    char c = raw[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/// The unescaped text of the JSON string whose raw text (with quotes) starts at byte `pos` of
/// the document; a bad escape is malformed(what, its offset).
std::string unescape_key(std::string_view raw, std::size_t pos, const std::string& what)
{
  std::string out;
  for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case '"': case '\\': case '/': out += e; break;
      case 'u': {
        long cp = hex4(raw, i + 1);
        if (cp < 0) malformed(what, pos + i, "4 hex digits after \\u");
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
          long lo = hex4(raw, i + 3);
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, static_cast<unsigned>(cp));
        break;
      }
      default: malformed(what, pos + i, "a JSON escape");
    }
  }
  return out;
}

} // namespace

mapped_file::mapped_file(const std::string& path)
{
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw backup_error(backup_error::kind::failed, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    m_size = static_cast<std::size_t>(st.st_size);
    m_data = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m_data == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      m_data = nullptr;
      throw backup_error(backup_error::kind::failed, "cannot map " + path + ": " + std::strerror(err));
    }
    ::madvise(m_data, m_size, MADV_SEQUENTIAL);
  }
  ::close(fd);
}

mapped_file::~mapped_file()
{
  if (m_data) ::munmap(m_data, m_size);
}

std::vector<json_member> top_level_members(std::string_view s, const std::string& what)
{
  std::vector<json_member> out;
  std::size_t p = skip_ws(s, 0);
  if (p >= s.size() || s[p] != '{') malformed(what, p, "'{'");
  p = skip_ws(s, p + 1);
  if (p < s.size() && s[p] == '}') return out;
  for (;;) {
    if (p >= s.size() || s[p] != '"') malformed(what, p, "a key");
    std::size_t key_end = skip_string(s, p, what);
    std::string key = unescape_key(s.substr(p, key_end - p), p, what);
    p = skip_ws(s, key_end);
    if (p >= s.size() || s[p] != ':') malformed(what, p, "':'");
    p = skip_ws(s, p + 1);
    std::size_t end = skip_value(s, p, what);
    out.push_back({std::move(key), s.substr(p, end - p)});
    p = skip_ws(s, end);
    if (p < s.size() && s[p] == ',') {
      p = skip_ws(s, p + 1);
      continue;
    }
    if (p < s.size() && s[p] == '}') return out;
    malformed(what, p, "',' or '}'");
  }
}

json_array_cursor::json_array_cursor(std::string_view array, const std::string& what) : m_text(array), m_what(what)
{
  if (m_text.empty() || m_text[0] != '[') malformed(m_what, 0, "an array of rows");
  m_pos = 1;
}

bool json_array_cursor::next(std::string_view& element)
{
  std::size_t p = skip_ws(m_text, m_pos);
  if (p < m_text.size() && m_text[p] == ']') return false;
  if (!m_first) {
    if (p >= m_text.size() || m_text[p] != ',') malformed(m_what, p, "',' between rows");
    p = skip_ws(m_text, p + 1);
  }
  m_first = false;
  std::size_t end = skip_value(m_text, p, m_what);
  element = m_text.substr(p, end - p);
  m_pos = end;
  return true;
}

} // namespace mighost::backup
