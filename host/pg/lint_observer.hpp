#pragma once
/// @file The run-time lint as a statement observer: each DDL-looking statement a connection runs
/// is linted (pg/lint.hpp) before it is sent, with lint()'s catalog questions answered on the same
/// session (so the running transaction's uncommitted DDL is seen), and the findings are logged.
#include "pg/lint.hpp"
#include "pg/observer.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace mighost::pg::lint {

class observer final : public statement_observer
{
public:
  /// `owned_schema`: the installer's own schemas (catalog::owned_schema); empty = none.
  explicit observer(std::function<bool(std::string_view schema)> owned_schema = {})
    : m_owned_schema(std::move(owned_schema)) {}

  void before_statement(connection& c, const std::string& sql, bool multi) noexcept override;

  /// The findings on this session, oldest first (at most 100).
  const std::vector<warning>& warnings() const noexcept { return m_warnings; }
  void clear_warnings() noexcept { m_warnings.clear(); }
  /// Tables the running migration created (resolved to OIDs on `c`, so a later rename or
  /// search_path change cannot confuse them): judged as new, whatever their size. Returns how
  /// many of `names` exist.
  int new_tables(connection& c, const std::vector<std::string>& names);

private:
  catalog session_catalog(connection& c, bool in_tx, bool& saved);

  std::function<bool(std::string_view)> m_owned_schema;
  std::vector<warning> m_warnings;
  std::unordered_set<long long> m_created;
};

} // namespace mighost::pg::lint
