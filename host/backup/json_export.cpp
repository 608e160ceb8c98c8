// The JSON export of seed 004 and its restore.
//
// Representation (lossless for every type of the round-trip test):
//   { "_meta": {"format": "mighost-json", "format_version": 1, "prefix", "created_at" (UTC),
//               "mighost_version", "server_version", "database",
//               "row_counts": {key: n}, "tables": {key: {"schema", "name", "columns": [{name, type}]}}},
//     (plus the caller's own _meta fields, json_options.meta: e.g. "migration", "source_schema")
//     "<key>": [ <row>, ... ],            one key per table, as the caller named it
//     "_json_nulls": {key: {column: [row index, ...]}}   only when needed, see below }
// Each row is exactly PostgreSQL's row_to_json() of the table row, rendered by the server, rows
// in primary-key order (or json_options.order_by). So: int8 and numeric are JSON numbers with
// every digit PostgreSQL prints (beyond 2^53 and with any scale: read them with a parser that keeps big numbers, or let the
// server parse them, as restore_json does); float NaN/Infinity/-Infinity are the strings "NaN",
// "Infinity", "-Infinity", -0 is -0; bytea is "\\x<hex>"; date/time types are ISO text with
// microseconds ("2024-01-02T03:04:05.123456", timestamptz with its offset, "infinity", BC dates
// as "0044-03-15 BC"); json/jsonb are embedded as JSON (json keeps its exact text); arrays are
// JSON arrays (nested for several dimensions); NULL is null and '' is "".
// The one thing row_to_json cannot tell apart is SQL NULL from the JSON value null in a json or
// jsonb column: both print null. Such cells are listed in "_json_nulls" by 0-based position in
// the key's array. Not kept: array lower bounds other than 1, and JSON null elements inside
// json[] arrays or composite values (they read back as SQL NULL).
// Restore hands each batch of rows to the server (json_populate_recordset), so no value is ever
// converted on the client.
#include "backup/backup.hpp"
#include "backup/restore_common.hpp"
#include "backup/session.hpp"
#include "pg/copy_text.hpp"

#include "mighost_version.hpp"

#include <algorithm>
#include <map>
#include <unistd.h>

namespace mighost::backup {

namespace {

constexpr unsigned k_json = 114, k_jsonb = 3802;

bool is_json(const column_def& c) { return c.type_oid == k_json || c.type_oid == k_jsonb; }

/// The SELECT one table's rows come from: row_to_json of the whole row (x.* cannot be taken for
/// a column named x), plus the positions of json columns holding JSON null, in key order.
std::string export_query(const pg::connection& c, const table_def& d, const std::vector<std::string>& order_by)
{
  std::string flags;
  for (std::size_t i = 0; i < d.columns.size(); ++i) {
    const auto& col = d.columns[i];
    if (!is_json(col)) continue;
    flags += std::string(", CASE WHEN pg_catalog.") + (col.type_oid == k_json ? "json" : "jsonb") + "_typeof(x." +
             c.quote_ident(col.name) + ") = 'null' THEN '" + std::to_string(i) + "' END";
  }
  std::string sql = "SELECT pg_catalog.row_to_json(x.*)";
  if (!flags.empty()) sql += ", pg_catalog.concat_ws(','" + flags + ")";
  sql += " FROM ONLY " + qualified(c, d.id) + " x";
  bool has_order = !order_by.empty();
  for (const auto& k : order_by)
    has_order = has_order && std::any_of(d.columns.begin(), d.columns.end(), [&](const column_def& col) { return col.name == k; });
  std::string order;
  for (const auto& k : has_order ? order_by : d.key_columns) order += (order.empty() ? " ORDER BY x." : ", x.") + c.quote_ident(k);
  return sql + order;
}

/// Writes one table's array; records JSON-null cells into `nulls`.
long long write_rows(pg::connection& c, const table_def& d, const std::vector<std::string>& order_by, file_sink& out,
                     nlohmann::json& nulls)
{
  c.begin_copy_out("COPY (" + export_query(c, d, order_by) + ") TO STDOUT");
  long long n = 0;
  std::string_view line;
  try {
    while (c.next_copy_row(line)) {
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      auto tab = line.find('\t');  // JSON text never holds a raw tab: COPY's delimiter is unambiguous
      out.write(n == 0 ? "\n" : ",\n");
      out.write(pg::copy_text_unescape(line.substr(0, tab)));
      if (tab != std::string_view::npos && tab + 1 < line.size()) {
        std::string_view idx = line.substr(tab + 1);
        for (std::size_t p = 0; p <= idx.size();) {
          std::size_t comma = std::min(idx.find(',', p), idx.size());
          nulls[d.columns[std::stoul(std::string(idx.substr(p, comma - p)))].name].push_back(n);
          p = comma + 1;
        }
      }
      ++n;
    }
  } catch (...) {
    c.drain_copy_out();
    throw;
  }
  out.write(n == 0 ? "]" : "\n]");
  return n;
}

/// `<dir>/<prefix>_backup_<UTC second>.json`, waiting for the next second while that name is taken
/// (two runs in one second must not collide, and the name keeps the seed's format).
std::string free_path(const json_options& o)
{
  for (int attempt = 0;; ++attempt) {
    std::string path = o.dir + "/" + o.prefix + "_backup_" + utc_now_compact() + ".json";
    if (::access(path.c_str(), F_OK) != 0 || attempt >= 25) return path;  // O_EXCL reports a lasting clash
    ::usleep(100 * 1000);
  }
}

} // namespace

nlohmann::json export_json(pg::connection& c, const json_options& o)
{
  if (o.tables.empty()) throw backup_error(backup_error::kind::failed, "JSON backup: no tables given");
  if (o.prefix.find('/') != std::string::npos)
    throw backup_error(backup_error::kind::failed, "JSON backup: the prefix must not contain '/'");
  prepare_output_dir(o.dir, false);
  std::string path;
  std::unique_ptr<file_sink> sink;
  try {
    pg::transaction tx(c);
    tx.begin(pg::transaction::kind::snapshot);
    std::vector<std::pair<std::string, table_id>> keyed;
    for (const auto& name : o.tables) {
      if (name == "_meta" || name == "_json_nulls")
        throw backup_error(backup_error::kind::failed, "JSON backup: \"" + name + "\" is a reserved key");
      bool seen = std::any_of(keyed.begin(), keyed.end(), [&](const auto& k) { return k.first == name; });
      if (!seen) keyed.push_back({name, resolve_tables(c, {o.schema.empty() ? name : o.schema + "." + name}).front()});
    }
    qualify_names(tx);
    auto r = c.exec("SELECT pg_catalog.current_setting('server_version'), pg_catalog.current_database()");
    nlohmann::json meta = o.meta.is_object() ? o.meta : nlohmann::json::object();
    const nlohmann::json own = {{"format", "mighost-json"}, {"format_version", 1}, {"prefix", o.prefix},
                                {"created_at", utc_now_iso()}, {"mighost_version", MIGHOST_VERSION},
                                {"server_version", std::string(r.value(0, 0))}, {"database", std::string(r.value(0, 1))}};
    for (auto it = own.begin(); it != own.end(); ++it) meta[it.key()] = *it;
    std::vector<table_def> defs;
    for (const auto& [key, id] : keyed) {
      defs.push_back(describe_table(c, id));
      auto count = c.exec("SELECT count(*) FROM ONLY " + qualified(c, id));
      meta["row_counts"][key] = std::stoll(std::string(count.value(0, 0)));
      auto& t = meta["tables"][key] = {{"schema", id.schema}, {"name", id.name}, {"columns", nlohmann::json::array()}};
      for (const auto& col : defs.back().columns) t["columns"].push_back({{"name", col.name}, {"type", col.type}});
    }
    path = free_path(o);
    sink = std::make_unique<file_sink>(path, compression::none);
    sink->write("{\"_meta\": " + meta.dump() + ",\n");
    nlohmann::json all_nulls = nlohmann::json::object();
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      sink->write(nlohmann::json(keyed[i].first).dump() + ": [");
      nlohmann::json nulls = nlohmann::json::object();
      long long n = write_rows(c, defs[i], o.order_by, *sink, nulls);
      if (n != meta["row_counts"][keyed[i].first].get<long long>())  // one snapshot: cannot differ
        throw backup_error(backup_error::kind::failed, "JSON backup: " + keyed[i].first + " gave " + std::to_string(n) +
                                                           " rows, counted " + meta["row_counts"][keyed[i].first].dump());
      if (!nulls.empty()) all_nulls[keyed[i].first] = std::move(nulls);
      sink->write(i + 1 < keyed.size() ? ",\n" : "");
    }
    if (!all_nulls.empty()) sink->write(",\n\"_json_nulls\": " + all_nulls.dump());
    sink->write("\n}\n");
    sink->finish();
    sync_dir(o.dir);  // the file's name survives a crash too
    tx.commit();
    return {{"path", path}, {"sha256", sink->digest()}, {"bytes", sink->bytes_on_disk()},
            {"created_at", meta["created_at"]}, {"row_counts", meta["row_counts"]}};
  } catch (...) {
    if (sink) remove_quietly(path);  // never a partial file
    throw;
  }
}

} // namespace mighost::backup
