// Restore of a JSON export (json_export.cpp describes the format): rows only, into existing
// tables, parsed by the server so every value comes back exactly.
#include "backup/backup.hpp"
#include "backup/json_scan.hpp"
#include "backup/restore_common.hpp"
#include "backup/session.hpp"

#include <algorithm>

namespace mighost::backup {

namespace {

constexpr std::size_t k_batch_rows = 2000;
constexpr std::size_t k_batch_bytes = 8 << 20;

/// One key of the file chosen for this restore.
struct json_table
{
  std::string key;
  std::string_view rows;  // raw text of the array
  table_id target;
  nlohmann::json nulls;   // {column: [row index, ...]}
  long long loaded = 0;
  bool truncated = false;
  bool done = false;
};

const json_member* find_member(const std::vector<json_member>& ms, const std::string& key)
{
  auto it = std::find_if(ms.begin(), ms.end(), [&](const json_member& m) { return m.key == key; });
  return it == ms.end() ? nullptr : &*it;
}

std::vector<json_table> choose(pg::connection& c, const std::vector<json_member>& members, const nlohmann::json& meta,
                               const nlohmann::json& nulls, const json_restore_options& o, const std::string& path)
{
  std::vector<std::string> keys = o.tables;
  if (keys.empty())
    for (const auto& m : members)
      if (meta.contains("tables") ? meta["tables"].contains(m.key) : (m.key != "_meta" && m.key != "_json_nulls"))
        keys.push_back(m.key);
  std::vector<json_table> out;
  for (const auto& key : keys) {
    const json_member* m = find_member(members, key);
    if (!m) throw backup_error(backup_error::kind::failed, path + " holds no table \"" + key + "\"");
    json_table t{key, m->value, {}, nulls.value(key, nlohmann::json::object())};
    nlohmann::json recorded = meta.contains("tables") ? meta["tables"].value(key, nlohmann::json()) : nlohmann::json();
    std::string name = recorded.is_object() ? recorded.value("name", key) : key;
    if (!o.schema.empty()) t.target = {o.schema, name};
    else if (recorded.is_object()) t.target = {recorded.value("schema", "public"), name};
    else t.target = resolve_tables(c, {key}).front();
    out.push_back(std::move(t));
  }
  return out;
}

/// INSERT ... SELECT from the server's own parse of a batch ($1, a JSON array). Tables with
/// JSON-null cells go row by row with their position ($2 = the batch's first index) so those
/// cells become the JSON null rather than SQL NULL.
std::string insert_sql(const pg::connection& c, const table_def& d, const json_table& t)
{
  std::string cols, exprs;
  bool overriding = false;
  int param = 2;
  for (const auto& col : d.columns) {
    if (col.generated) continue;
    overriding |= col.identity_always;
    std::string q = c.quote_ident(col.name);
    cols += (cols.empty() ? "" : ", ") + q;
    std::string e = "p." + q;
    if (t.nulls.contains(col.name))
      e = "CASE WHEN e.i - 1 + $2::bigint = ANY($" + std::to_string(++param) + "::bigint[]) THEN 'null'::" + col.type +
          " ELSE p." + q + " END";
    exprs += (exprs.empty() ? "" : ", ") + e;
  }
  std::string table = qualified(c, d.id);
  std::string sql = "INSERT INTO " + table + " (" + cols + ")" + (overriding ? " OVERRIDING SYSTEM VALUE" : "") +
                    " SELECT " + exprs;
  if (t.nulls.empty()) return sql + " FROM pg_catalog.json_populate_recordset(NULL::" + table + ", $1::json) p";
  return sql + " FROM pg_catalog.json_array_elements($1::json) WITH ORDINALITY e(v, i)" +
         " CROSS JOIN LATERAL pg_catalog.json_populate_record(NULL::" + table + ", e.v) p";
}

void load(pg::connection& c, json_table& t, const std::string& path)
{
  table_def d = describe_table(c, t.target);
  std::string sql = insert_sql(c, d, t);
  std::vector<std::string> null_lists;  // "{1,5}" per flagged column, in column order
  for (const auto& col : d.columns) {
    if (col.generated || !t.nulls.contains(col.name)) continue;
    std::string list;
    for (const auto& i : t.nulls[col.name]) {
      if (!list.empty()) list += ',';
      list += std::to_string(i.get<long long>());  // (not "," + to_string: GCC 12 -O3 warns falsely)
    }
    null_lists.push_back("{" + list + "}");
  }
  json_array_cursor rows(t.rows, path + " (" + t.key + ")");
  std::string batch;
  std::size_t in_batch = 0;
  long long first = 0;
  auto flush = [&] {
    if (in_batch == 0) return;
    std::vector<pg::param> params{{"[" + batch + "]"}};
    if (!t.nulls.empty()) {
      params.push_back({std::to_string(first)});
      for (const auto& l : null_lists) params.push_back({l});
    }
    t.loaded += c.exec_params(sql, params).affected_rows();
    first += static_cast<long long>(in_batch);
    batch.clear();
    in_batch = 0;
  };
  std::string_view row;
  while (rows.next(row)) {
    if (in_batch) batch += ',';
    batch.append(row);
    if (++in_batch >= k_batch_rows || batch.size() >= k_batch_bytes) flush();
  }
  flush();
  // A serial or identity column's sequence must not hand out an id that is now taken.
  for (const auto& col : d.columns) {
    if (col.type_oid != 20 && col.type_oid != 21 && col.type_oid != 23) continue;
    c.exec_params("SELECT pg_catalog.setval(s, m) FROM (SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS s, "
                  "(SELECT max(" + c.quote_ident(col.name) + ") FROM ONLY " + qualified(c, d.id) + ") AS m) z "
                  "WHERE s IS NOT NULL AND m IS NOT NULL "
                  "AND m > COALESCE(pg_catalog.pg_sequence_last_value(s::pg_catalog.regclass), 0)",
                  {{qualified(c, d.id)}, {col.name}});
  }
}

} // namespace

nlohmann::json restore_json(pg::connection& c, const std::string& path, const json_restore_options& o)
{
  mapped_file file(path);
  auto members = top_level_members(file.view(), path);
  nlohmann::json meta = nlohmann::json::object(), nulls = nlohmann::json::object();
  try {
    if (auto* m = find_member(members, "_meta")) meta = nlohmann::json::parse(m->value);
    if (auto* m = find_member(members, "_json_nulls")) nulls = nlohmann::json::parse(m->value);
  } catch (const nlohmann::json::exception& e) {
    throw backup_error(backup_error::kind::corrupt, path + ": bad _meta or _json_nulls: " + e.what());
  }

  pg::transaction tx(c);
  tx.begin();
  std::vector<json_table> plan = choose(c, members, meta, nulls, o, path);
  qualify_names(tx);
  std::vector<table_id> ids;
  for (const auto& t : plan) {
    if (!table_exists(c, t.target))
      throw backup_error(backup_error::kind::failed,
                         "table " + display(t.target) + " does not exist: a JSON backup holds rows, not DDL; create it first");
    ids.push_back(t.target);
  }
  refuse_non_empty(c, ids, o.truncate);
  if (o.truncate) {
    truncate_tables(c, ids);
    for (auto& t : plan) t.truncated = true;
  }
  for (const auto& id : parents_first(ids, live_foreign_keys(c, ids)))
    for (auto& t : plan)
      if (t.target == id && !t.done) {
        load(c, t, path);
        t.done = true;
      }
  tx.commit();

  nlohmann::json out = {{"tables", nlohmann::json::array()}};
  for (const auto& t : plan)
    out["tables"].push_back({{"key", t.key}, {"schema", t.target.schema}, {"name", t.target.name},
                             {"rows", t.loaded}, {"created", false}, {"truncated", t.truncated}});
  return out;
}

} // namespace mighost::backup
