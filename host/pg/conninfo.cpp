#include "pg/conninfo.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <regex>

namespace mighost::pg {

std::string mask_password(const std::string& text)
{
  // URL userinfo: scheme://user:secret@host
  static const std::regex url_pw(R"(((?:postgres|postgresql)://[^:/@\s]*:)[^@\s]*@)",
                                 std::regex::icase);
  // A value that is already the mask, followed by punctuation and a space or the end, is left
  // alone: messages that quote a masked conninfo are masked again ("… password=***: connection to
  // server …"), and the ':' would otherwise be taken for part of the value. In a URL query '&' also
  // ends it; in the key=value form '&' is part of the value, so "***&…" there is a password.
  static const std::string masked_in_query = R"(\*\*\*(?=[:;,.)]?(?:\s|&|$)))";
  static const std::string masked_in_keyvalue = R"(\*\*\*(?=[:;,.)]?(?:\s|$)))";
  // One pass over both forms, so the leftmost match wins: a quoted key=value password holding
  // "&password=" is masked whole, and a URL query's password= is not read as a key=value one.
  // URL query parameter: ?password=secret&... (the value ends at the next '&').
  // key=value form: password=secret, password='s e c', password=a\ b (an unquoted value runs to
  // the next unescaped space).
  static const std::regex pw("([?&]password=)(?:" + masked_in_query + R"(|[^&\s#]*)|(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|)" +
                                 masked_in_keyvalue + R"(|(?:[^\s\\]|\\.)*))",
                             std::regex::icase);
  std::string out = std::regex_replace(text, url_pw, "$1***@");
  return std::regex_replace(out, pw, "$1$2***");
}

std::optional<std::string> conninfo_error(const std::string& conninfo)
{
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts) {
    PQconninfoFree(opts);
    return std::nullopt;
  }
  std::string msg = err ? err : "invalid connection string";
  if (err) PQfreemem(err);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return mask_password(msg);
}

std::string default_conninfo(const std::string& operator_db)
{
  if (!operator_db.empty()) return operator_db;
  if (const char* env = std::getenv("DATABASE_URL"); env && *env) return env;
  return {};
}

} // namespace mighost::pg
