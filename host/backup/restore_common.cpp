// Steps both restores share.
#include "backup/restore_common.hpp"

#include "backup/files.hpp"

namespace mighost::backup {

void refuse_non_empty(pg::connection& c, const std::vector<table_id>& tables, bool truncate)
{
  std::string full;
  for (const auto& t : tables) {
    // SHARE ROW EXCLUSIVE: nobody else writes between this check and our COPY.
    c.exec("LOCK TABLE ONLY " + qualified(c, t) + " IN SHARE ROW EXCLUSIVE MODE");
    auto r = c.exec("SELECT EXISTS (SELECT 1 FROM ONLY " + qualified(c, t) + ")");
    if (r.value(0, 0) == "t") full += (full.empty() ? "" : ", ") + display(t);
  }
  if (!full.empty() && !truncate)
    throw backup_error(backup_error::kind::refused,
                       "restore refused: not empty: " + full + " (truncate replaces their rows); nothing was changed");
}

void truncate_tables(pg::connection& c, const std::vector<table_id>& tables)
{
  if (tables.empty()) return;
  std::string list;
  for (const auto& t : tables) list += (list.empty() ? "" : ", ") + qualified(c, t);
  c.exec("TRUNCATE ONLY " + list);
}

} // namespace mighost::backup
