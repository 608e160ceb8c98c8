#pragma once
/// @file An owned libpq result in text format.
#include <libpq-fe.h>

#include <memory>
#include <string_view>

namespace mighost::pg {

/// Move-only owner of a PGresult. All values are in PostgreSQL's text format.
class result
{
public:
  result() = default;
  explicit result(PGresult* r) : m_res(r, &PQclear) {}

  int rows() const noexcept { return m_res ? PQntuples(m_res.get()) : 0; }
  int columns() const noexcept { return m_res ? PQnfields(m_res.get()) : 0; }
  const char* column_name(int c) const noexcept { return PQfname(m_res.get(), c); }
  Oid column_type(int c) const noexcept { return PQftype(m_res.get(), c); }
  bool is_null(int r, int c) const noexcept { return PQgetisnull(m_res.get(), r, c) != 0; }
  std::string_view value(int r, int c) const noexcept
  {
    return {PQgetvalue(m_res.get(), r, c), static_cast<std::size_t>(PQgetlength(m_res.get(), r, c))};
  }
  /// Rows affected by INSERT/UPDATE/DELETE/MERGE/COPY/...; 0 for statements that report none.
  long long affected_rows() const noexcept;
  PGresult* get() const noexcept { return m_res.get(); }

private:
  std::shared_ptr<PGresult> m_res;
};

} // namespace mighost::pg
