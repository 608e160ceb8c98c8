// Restore of a table snapshot directory: one transaction, parents first, nothing overwritten
// unless asked.
#include "backup/backup.hpp"
#include "backup/manifest.hpp"
#include "backup/restore_common.hpp"
#include "backup/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

namespace mighost::backup {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// One table of the manifest chosen for this restore.
struct planned : manifest_table
{
  bool exists = false;
  bool truncated = false;
  long long loaded = 0;
};

std::vector<planned> choose(const manifest& m, const std::vector<std::string>& wanted)
{
  std::vector<planned> all;
  for (const auto& t : m.tables) all.push_back({t});
  if (wanted.empty()) return all;
  std::vector<planned> out;
  for (const auto& w : wanted) {
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const planned& p) { return p.def.id.name == w || display(p.def.id) == w; });
    if (it == all.end()) throw backup_error(backup_error::kind::failed, "table \"" + w + "\" is not in this backup");
    out.push_back(*it);
  }
  return out;
}

/// Enum types and schemas the tables to be created need, when the database lacks them.
void create_prerequisites(pg::connection& c, const std::vector<planned>& plan)
{
  std::set<std::string> done;
  auto ensure_schema = [&](const std::string& s) {
    auto r = c.exec_params("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {{s}});
    if (r.rows() == 0) c.exec("CREATE SCHEMA " + c.quote_ident(s));
  };
  for (const auto& p : plan) {
    if (p.exists) continue;
    ensure_schema(p.def.id.schema);
    for (const auto& e : p.def.enums) {
      if (!done.insert(display(e.type)).second) continue;
      auto r = c.exec_params("SELECT pg_catalog.to_regtype($1) IS NULL", {{qualified(c, e.type)}});
      if (r.value(0, 0) != "t") continue;
      ensure_schema(e.type.schema);
      std::string labels;
      for (const auto& l : e.labels) labels += (labels.empty() ? "" : ", ") + c.quote_literal(l);
      c.exec("CREATE TYPE " + qualified(c, e.type) + " AS ENUM (" + labels + ")");
    }
    for (const auto& s : p.def.sequences)
      if (!s.create.empty()) {
        ensure_schema(s.seq.schema);
        c.exec(s.create);
      }
    c.exec(p.def.create);
  }
}

/// Streams one data file into its table; checks sha256 and row count before returning.
void load(pg::connection& c, const std::string& dir, compression comp, planned& p, bool freeze)
{
  std::string path = dir + "/" + p.file;
  file_source src(path, comp);  // opened first: a missing file fails before the COPY starts
  std::string cols = p.def.copy_column_list(c);
  c.begin_copy_in("COPY " + qualified(c, p.def.id) + (cols.empty() ? "" : " (" + cols + ")") + " FROM STDIN" +
                  (freeze ? " WITH (FREEZE)" : ""));
  long long lines = 0;
  try {
    std::string_view chunk;
    while (src.next(chunk)) {
      lines += std::count(chunk.begin(), chunk.end(), '\n');
      c.put_copy_data(chunk);
    }
    std::string digest = src.digest();
    if (digest != p.sha256)
      throw backup_error(backup_error::kind::corrupt,
                         p.file + ": sha256 " + digest + " does not match the manifest's " + p.sha256 + "; nothing restored");
    if (lines != p.rows)
      throw backup_error(backup_error::kind::corrupt, p.file + ": " + std::to_string(lines) +
                                                          " rows, the manifest says " + std::to_string(p.rows));
  } catch (const std::exception& e) {
    c.abort_copy_in(e.what());
    throw;
  }
  p.loaded = c.end_copy_in();
}

/// Moves a sequence forward to the recorded position, never backwards.
void advance_sequence(pg::connection& c, const sequence_def& s)
{
  if (s.last_value.empty()) return;
  auto exists = c.exec_params("SELECT pg_catalog.to_regclass($1) IS NOT NULL", {{qualified(c, s.seq)}});
  if (exists.value(0, 0) != "t") return;
  c.exec_params("SELECT pg_catalog.setval($1::pg_catalog.regclass, $2::bigint, $3::boolean) FROM " +
                    qualified(c, s.seq) +
                    " WHERE (CASE WHEN is_called THEN last_value::numeric ELSE last_value::numeric - 1 END)"
                    " < (CASE WHEN $3::boolean THEN $2::numeric ELSE $2::numeric - 1 END)",
                {{qualified(c, s.seq)}, {s.last_value}, {s.is_called ? "true" : "false"}});
}

} // namespace

nlohmann::json restore(pg::connection& c, const std::string& dir, const restore_options& o)
{
  manifest m = parse_manifest(read_whole_file(dir + "/manifest.json"), dir + "/manifest.json");
  compression comp = m.comp;
  std::vector<planned> plan = choose(m, o.tables);

  pg::transaction tx(c);
  tx.begin();
  qualify_names(tx);
  // Keys and indexes of created tables are built after the data: give their sorts room (as
  // one would for pg_restore), for this transaction only and never less than configured.
  c.exec("SELECT pg_catalog.set_config('maintenance_work_mem', '256MB', true) "
         "WHERE (SELECT setting::bigint FROM pg_catalog.pg_settings WHERE name = 'maintenance_work_mem') < 262144");
  std::vector<table_id> ids;
  for (auto& p : plan) {
    p.exists = table_exists(c, p.def.id);
    ids.push_back(p.def.id);
  }
  for (const auto& p : plan)
    for (const auto& fk : p.def.foreign_keys)
      if (!p.exists && std::find(ids.begin(), ids.end(), fk.references) == ids.end() && !table_exists(c, fk.references))
        throw backup_error(backup_error::kind::failed,
                           display(p.def.id) + " references " + display(fk.references) +
                               ", which is neither in the database nor in this restore; restore it too");
  std::vector<table_id> existing;
  for (const auto& p : plan)
    if (p.exists) existing.push_back(p.def.id);
  refuse_non_empty(c, existing, o.truncate);  // before any change
  create_prerequisites(c, plan);
  if (o.truncate && !existing.empty()) {
    truncate_tables(c, existing);
    for (auto& p : plan) p.truncated = p.exists;
  }
  auto edges = live_foreign_keys(c, ids);
  for (const auto& p : plan)
    for (const auto& fk : p.def.foreign_keys) edges.push_back({p.def.id, fk.references});
  for (const auto& id : parents_first(ids, edges)) {
    auto& p = *std::find_if(plan.begin(), plan.end(), [&](const planned& x) { return x.def.id == id; });
    // COPY FREEZE skips the later hint-bit rewrite; allowed on a table created or truncated in
    // this (sub)transaction. Only in a transaction of our own, where no older snapshot is open.
    auto t0 = std::chrono::steady_clock::now();
    load(c, dir, comp, p, tx.top_level() && (!p.exists || p.truncated));
    spdlog::debug("restore: {} rows into {} in {:.2f} s", p.loaded, display(p.def.id), seconds_since(t0));
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : plan)
    if (!p.exists)
      for (const auto& sql : p.def.after_data) c.exec(sql);
  spdlog::debug("restore: keys and indexes in {:.2f} s", seconds_since(t0));
  t0 = std::chrono::steady_clock::now();
  for (const auto& p : plan)
    if (!p.exists)
      for (const auto& fk : p.def.foreign_keys) c.exec(fk.sql);
  spdlog::debug("restore: foreign keys in {:.2f} s", seconds_since(t0));
  for (const auto& p : plan)
    for (const auto& s : p.def.sequences) advance_sequence(c, s);
  tx.commit();

  nlohmann::json out = {{"tables", nlohmann::json::array()}};
  for (const auto& p : plan)
    out["tables"].push_back({{"schema", p.def.id.schema}, {"name", p.def.id.name}, {"rows", p.loaded},
                             {"created", !p.exists}, {"truncated", p.truncated}});
  return out;
}

} // namespace mighost::backup
