#include "backup/manifest.hpp"

#include <limits>
#include <stdexcept>

namespace mighost::backup {

namespace {

/// A count as snapshot() writes it: a non-negative JSON integer that fits T (the parser reads
/// those as unsigned). Never a float: one beyond T's range does not even convert.
template <typename T>
T count_field(const nlohmann::json& t, const char* key)
{
  const nlohmann::json& v = t.at(key);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
    return static_cast<T>(v.get<std::uint64_t>());
  throw std::invalid_argument(std::string("\"") + key + "\" is " + v.dump() + ", not a count");
}

} // namespace

void to_json(nlohmann::json& j, const table_id& t) { j = {{"schema", t.schema}, {"name", t.name}}; }

void from_json(const nlohmann::json& j, table_id& t)
{
  t.schema = j.at("schema").get<std::string>();
  t.name = j.at("name").get<std::string>();
}

void to_json(nlohmann::json& j, const table_def& t)
{
  j = nlohmann::json{{"schema", t.id.schema}, {"name", t.id.name}};
  auto& cols = j["columns"] = nlohmann::json::array();
  for (const auto& c : t.columns)
    cols.push_back({{"name", c.name}, {"type", c.type}, {"type_oid", c.type_oid}, {"not_null", c.not_null},
                    {"generated", c.generated}, {"identity_always", c.identity_always}});
  auto& ddl = j["ddl"] = {{"create", t.create}, {"after_data", t.after_data}};
  auto& fks = ddl["foreign_keys"] = nlohmann::json::array();
  for (const auto& f : t.foreign_keys) fks.push_back({{"sql", f.sql}, {"references", f.references}});
  auto& enums = ddl["enums"] = nlohmann::json::array();
  for (const auto& e : t.enums)
    enums.push_back({{"schema", e.type.schema}, {"name", e.type.name}, {"labels", e.labels}});
  auto& seqs = ddl["sequences"] = nlohmann::json::array();
  for (const auto& s : t.sequences)
    seqs.push_back({{"schema", s.seq.schema}, {"name", s.seq.name}, {"create", s.create},
                    {"last_value", s.last_value}, {"is_called", s.is_called}});
  j["key_columns"] = t.key_columns;
}

void from_json(const nlohmann::json& j, table_def& t)
{
  from_json(j, t.id);
  for (const auto& c : j.at("columns"))
    t.columns.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>(),
                         c.contains("type_oid") ? count_field<unsigned>(c, "type_oid") : 0u, c.value("not_null", false), c.value("generated", false),
                         c.value("identity_always", false)});
  const auto& ddl = j.at("ddl");
  t.create = ddl.at("create").get<std::string>();
  t.after_data = ddl.value("after_data", std::vector<std::string>{});
  for (const auto& f : ddl.value("foreign_keys", nlohmann::json::array()))
    t.foreign_keys.push_back({f.at("sql").get<std::string>(), f.at("references").get<table_id>()});
  for (const auto& e : ddl.value("enums", nlohmann::json::array()))
    t.enums.push_back({e.get<table_id>(), e.at("labels").get<std::vector<std::string>>()});
  for (const auto& s : ddl.value("sequences", nlohmann::json::array()))
    t.sequences.push_back({s.get<table_id>(), s.value("create", std::string()), s.value("last_value", std::string()),
                           s.value("is_called", false)});
  t.key_columns = j.value("key_columns", std::vector<std::string>{});
}

namespace {

manifest_table table_entry(const nlohmann::json& t)
{
  manifest_table e;
  e.def = t.get<table_def>();
  e.file = t.at("file").get<std::string>();
  // Data files sit in the backup directory itself: a name with a slash would read another file.
  if (e.file.empty() || e.file.find('/') != std::string::npos || e.file == "." || e.file == "..")
    throw std::invalid_argument("\"file\" is \"" + e.file + "\", not a file name of this directory");
  e.rows = count_field<long long>(t, "rows");
  e.bytes = count_field<std::uint64_t>(t, "bytes");
  e.sha256 = t.at("sha256").get<std::string>();
  return e;
}

} // namespace

manifest parse_manifest(std::string_view text, const std::string& what)
{
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw backup_error(backup_error::kind::corrupt, what + ": " + e.what());
  }
  if (!m.is_object() || !m.contains("format") || m["format"] != "mighost-backup")
    throw backup_error(backup_error::kind::failed, what + " is not a mighost backup manifest");
  manifest out;
  const nlohmann::json& comp = m.contains("compression") ? m["compression"] : nlohmann::json("none");
  if (!comp.is_string()) throw backup_error(backup_error::kind::corrupt, what + ": \"compression\" is " + comp.dump());
  try {
    out.comp = parse_compression(comp.get<std::string>());
  } catch (const backup_error& e) {
    throw backup_error(backup_error::kind::corrupt, what + ": " + e.what());
  }
  if (!m.contains("tables") || !m["tables"].is_array())
    throw backup_error(backup_error::kind::corrupt, what + ": no \"tables\" array");
  for (const auto& t : m["tables"]) {
    try {
      out.tables.push_back(table_entry(t));
    } catch (const std::exception& e) {  // nlohmann's type and key errors, table_entry's own
      throw backup_error(backup_error::kind::corrupt,
                         what + ": table " + std::to_string(out.tables.size() + 1) + ": " + e.what());
    }
  }
  return out;
}

} // namespace mighost::backup
