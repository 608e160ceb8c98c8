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
  std::string s = compose(m_diag);
  if (!m_diag.detail.empty()) s += " (DETAIL: " + m_diag.detail + ")";
  if (!m_diag.hint.empty()) s += " (HINT: " + m_diag.hint + ")";
  if (m_diag.position > 0) s += " at character " + std::to_string(m_diag.position);
  if (!m_diag.query.empty()) s += " in: " + excerpt(m_diag.query, m_diag.position);
  return s;
}

} // namespace mighost::pg
