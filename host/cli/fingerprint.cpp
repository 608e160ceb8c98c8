#include "cli/fingerprint.hpp"

#include <algorithm>

namespace mighost::cli {

std::map<std::string, std::string> table_fingerprints(pg::connection& conn)
{
  pg::result tables = conn.exec(
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1, 2");
  std::map<std::string, std::string> out;
  for (int i = 0; i < tables.rows(); ++i) {
    std::string name = conn.quote_ident(tables.value(i, 0)) + "." + conn.quote_ident(tables.value(i, 1));
    pg::result r = conn.exec("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY "
                             "t::text COLLATE \"C\")), '') FROM " + name + " t");
    out[std::string(tables.value(i, 0)) + "." + std::string(tables.value(i, 1))] = std::string(r.value(0, 0));
  }
  return out;
}

std::vector<std::string> fingerprint_diff(const std::map<std::string, std::string>& before,
                                          const std::map<std::string, std::string>& after,
                                          const std::vector<std::string>& skip)
{
  auto skipped = [&](const std::string& t) { return std::find(skip.begin(), skip.end(), t) != skip.end(); };
  std::vector<std::string> diff;
  for (const auto& [table, fp] : before) {
    if (skipped(table)) continue;
    auto it = after.find(table);
    if (it == after.end()) diff.push_back("table " + table + " vanished");
    else if (it->second != fp) diff.push_back("table " + table + " changed (rows:md5 " + fp + " -> " + it->second + ")");
  }
  for (const auto& [table, fp] : after)
    if (!skipped(table) && !before.count(table)) diff.push_back("table " + table + " appeared");
  return diff;
}

} // namespace mighost::cli
