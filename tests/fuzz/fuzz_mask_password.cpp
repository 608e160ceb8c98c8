// Password masking: a password written in any of the forms libpq reads never survives
// mask_password, the text around it stays as it was, and a message that quotes an already masked
// connection string (as pg::connection's errors do) keeps every byte when it is masked again on
// its way to the log.
//
// Input: one byte choosing the form, the password up to the first '\n', then free text that
// follows the connection string the way libpq's messages follow it (": ...").
#include "pg/conninfo.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

bool has_any(std::string_view s, std::string_view chars) { return s.find_first_of(chars) != std::string_view::npos; }

std::string lower(std::string_view s)
{
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

/// Quotes a key=value value as libpq reads it: '...' with \ and ' escaped.
std::string quoted(std::string_view pw)
{
  std::string out = "'";
  for (char c : pw) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

struct form
{
  std::string before, after;  ///< the connection string is before + password + after
  std::string_view forbidden; ///< bytes the password cannot hold in this form
  bool quote = false;
  bool last = false;          ///< the password ends the string: a ':' after it would be its own
};

const form k_forms[] = {
    {"postgresql://app:", "@db.internal:5432/shop", "@/?# \t\n\r\f\v"},                       // URL userinfo
    {"postgres://db.internal/shop?user=app&password=", "&sslmode=disable", "&# \t\n\r\f\v"},  // URL query
    {"host=db.internal user=app password=", " dbname=shop", "' \t\n\r\f\v\\"},                // key=value
    {"host=db.internal password=", " dbname=shop", "", true},                                 // quoted value
    {"host=db.internal user=app dbname=shop password=", "", "' \t\n\r\f\v\\", false, true},   // last key
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mighost::pg::mask_password(std::string(in));  // any text: no crash, no undefined behaviour
  if (size < 2) return 0;

  const form& f = k_forms[data[0] % std::size(k_forms)];
  in.remove_prefix(1);
  std::string_view pw = in.substr(0, in.find('\n'));
  std::string_view rest = pw.size() < in.size() ? in.substr(pw.size() + 1) : std::string_view();
  if (pw.empty() || pw.find('\0') != std::string_view::npos || has_any(pw, f.forbidden)) return 0;

  std::string written = f.quote ? quoted(pw) : std::string(pw);
  std::string conninfo = f.before + written + f.after;
  std::string message = "could not connect to " + conninfo + ": " + std::string(rest);
  std::string masked = mighost::pg::mask_password(message);

  // The password is gone, unless the same bytes are also in the message as it should be masked.
  std::string expected = "could not connect to " + f.before + "***" + f.after + ": " + std::string(rest);
  if (expected.find(pw) == std::string::npos && masked.find(pw) != std::string::npos) std::abort();
  // Exactly the password is replaced when the rest of the message names no other connection.
  std::string r = lower(rest);
  bool plain_rest = r.find("password") == std::string::npos && r.find("://") == std::string::npos;
  if (plain_rest && !f.last && masked != expected) std::abort();
  // pg::connection's own messages: the masked connection string, then libpq's reason.
  std::string quoted_masked = mighost::pg::mask_password(conninfo);
  if (quoted_masked.find(pw) != std::string::npos && (f.before + "***" + f.after).find(pw) == std::string::npos)
    std::abort();
  std::string again = quoted_masked + ": " + std::string(rest);
  if (plain_rest && mighost::pg::mask_password(again) != again) std::abort();
  return 0;
}
