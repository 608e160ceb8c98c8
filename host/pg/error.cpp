#include "pg/error.hpp"

namespace mighost::pg {

namespace {
std::string compose(const diagnostics& d)
{
  std::string s = d.severity.empty() ? "ERROR" : d.severity;
  if (!d.sqlstate.empty()) s += " " + d.sqlstate;
  s += ": " + d.message;
  return s;
}

/// Line breaks (and the indentation after them) become one space. libpq's own texts, such as a
/// lost connection's "server closed the connection unexpectedly\n\tThis probably means ...", and
/// multi-line details would otherwise break the one line.
std::string join_lines(const std::string& s)
{
  std::string out;
  out.reserve(s.size());
  bool line_break = false;
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      line_break = true;
    } else if (!line_break || (c != ' ' && c != '\t')) {
      if (line_break && !out.empty() && out.back() != ' ') out += ' ';
      line_break = false;
      out += c;
    }
  }
  return out;
}

/// The statement shortened to one line around the error position, so a 2 kB INSERT stays readable.
std::string excerpt(const std::string& q, int position)
{
  std::string flat;
  flat.reserve(q.size());
  for (char c : q) flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  constexpr std::size_t width = 160;
  if (flat.size() <= width) return flat;
  std::size_t centre = position > 0 ? static_cast<std::size_t>(position - 1) : 0;
  std::size_t from = centre > width / 2 ? centre - width / 2 : 0;
  if (from + width > flat.size()) from = flat.size() - width;
  return (from > 0 ? "..." : "") + flat.substr(from, width) + (from + width < flat.size() ? "..." : "");
}
} // namespace

sql_error::sql_error(diagnostics d)
  : pqxx::sql_error(compose(d), d.query, d.sqlstate.empty() ? nullptr : d.sqlstate.c_str()),
    m_diag(std::move(d))
{}

std::string sql_error::one_line() const
{
  std::string s = join_lines(compose(m_diag));
  if (!m_diag.detail.empty()) s += " (DETAIL: " + join_lines(m_diag.detail) + ")";
  if (!m_diag.hint.empty()) s += " (HINT: " + join_lines(m_diag.hint) + ")";
  if (m_diag.position > 0) s += " at character " + std::to_string(m_diag.position);
  if (!m_diag.query.empty()) s += " in: " + excerpt(m_diag.query, m_diag.position);
  return s;
}

} // namespace mighost::pg
