#include "pg/copy_text.hpp"

#include <cstdint>
#include <cstring>

namespace mighost::pg {

namespace {
/// Might any of the 8 bytes in w need escaping? True when one is a backslash or below 0x0E (which
/// covers \t \n \r); exact per word (bit tricks from "Bit Twiddling Hacks": haszero / hasless).
bool maybe_special(std::uint64_t w)
{
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const std::uint64_t bs = w ^ (ones * '\\');
  return (((bs - ones) & ~bs) | ((w - ones * 0x0E) & ~w)) & highs;
}

int hex_digit(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
} // namespace

void append_copy_escaped(std::string& line, std::string_view v)
{
  // This loop sees every byte copy_in writes: words without a candidate byte are skipped 8 bytes at
  // a time, and runs without a special byte are appended whole (most fields have none at all).
  const char* run = v.data();
  const char* end = run + v.size();
  const char* p = run;
  while (p != end) {
    if (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (!maybe_special(w)) {
        p += 8;
        continue;
      }
    }
    const char c = *p++;
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
    line.append(run, static_cast<std::size_t>(p - 1 - run));
    line += '\\';
    line += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
    run = p;
  }
  line.append(run, static_cast<std::size_t>(end - run));
}

std::string copy_text_unescape(std::string_view f)
{
  std::string out;
  out.reserve(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    char e = f[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'x': {
        // As the server reads it: \x without a hex digit is a plain 'x'.
        int v = 0, n = 0;
        for (; n < 2 && i + 1 < f.size() && hex_digit(f[i + 1]) >= 0; ++n) v = v * 16 + hex_digit(f[++i]);
        out += n ? static_cast<char>(v) : 'x';
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int n = 1; n < 3 && i + 1 < f.size() && f[i + 1] >= '0' && f[i + 1] <= '7'; ++n) v = v * 8 + (f[++i] - '0');
          out += static_cast<char>(v & 0xFF);
        } else {
          out += e;  // \\ and any other escaped character stand for themselves
        }
    }
  }
  return out;
}

} // namespace mighost::pg
