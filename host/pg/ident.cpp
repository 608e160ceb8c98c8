#include "pg/ident.hpp"

#include <cctype>

namespace mighost::pg {

std::string quote_if_needed(const std::string& s)
{
  bool plain = !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0]));
  for (char c : s) plain = plain && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

} // namespace mighost::pg
