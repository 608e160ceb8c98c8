#pragma once
/// @file What the backup engine reads from pg_catalog: which tables a request names, and the DDL
/// that recreates one of them in an empty database.
#include "pg/connection.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mighost::backup {

/// A table by its unquoted schema and name.
struct table_id
{
  std::string schema;
  std::string name;
  bool operator==(const table_id& o) const { return schema == o.schema && name == o.name; }
};

/// `"schema"."name"`, always quoted: any name is handled as a name.
std::string qualified(const pg::connection& c, const table_id& t);
/// schema.name for messages (unquoted, readable).
std::string display(const table_id& t);

/// One column as it must be recreated.
struct column_def
{
  std::string name;
  std::string type;          ///< format_type(): qualified when outside pg_catalog
  unsigned type_oid = 0;
  bool not_null = false;
  bool generated = false;    ///< GENERATED ALWAYS AS (...) STORED: never copied
  bool identity_always = false;
};

/// A foreign key, added after all data is loaded.
struct foreign_key
{
  std::string sql;   ///< ALTER TABLE ONLY ... ADD CONSTRAINT ... FOREIGN KEY ...
  table_id references;
};

/// An enum type used by a column (directly or as an array element type).
struct enum_def
{
  table_id type;
  std::vector<std::string> labels;
};

/// A sequence behind a column: serial (owned), identity, or a shared one named in a default.
struct sequence_def
{
  table_id seq;
  std::string create;      ///< CREATE SEQUENCE IF NOT EXISTS ...; empty for identity sequences
  std::string last_value;  ///< at snapshot time (exact decimal text)
  bool is_called = false;
};

/// Everything a restore needs to recreate one table and reload its data.
struct table_def
{
  table_id id;
  std::vector<column_def> columns;
  std::string create;                  ///< CREATE TABLE with columns, defaults, NOT NULL, CHECKs
  std::vector<std::string> after_data; ///< primary key, unique, exclusion, indexes, ownership
  std::vector<foreign_key> foreign_keys;
  std::vector<enum_def> enums;
  std::vector<sequence_def> sequences;
  std::vector<std::string> key_columns; ///< primary key (for a stable row order), may be empty

  /// The columns COPY moves (all but generated ones), quoted and comma-separated.
  std::string copy_column_list(const pg::connection& c) const;
};

/// The JSON form of a table in manifest.json (defined in manifest.cpp, which reads it).
void to_json(nlohmann::json& j, const table_id& t);
void from_json(const nlohmann::json& j, table_id& t);
void to_json(nlohmann::json& j, const table_def& t);
void from_json(const nlohmann::json& j, table_def& t);

/// Resolves names as a person writes them: a table visible on the search path by that exact
/// name, else `schema.table` split at the first dot. Only ordinary tables are accepted; anything
/// missing or of another kind throws backup_error naming it. Call before changing search_path.
std::vector<table_id> resolve_tables(pg::connection& c, const std::vector<std::string>& names);
/// Every ordinary table of a schema, by name.
std::vector<table_id> schema_tables(pg::connection& c, const std::string& schema);

/// Reads a table's definition. Expects `search_path = ''` so every name in the generated SQL is
/// schema-qualified (as pg_dump does).
table_def describe_table(pg::connection& c, const table_id& t);

/// Does the table exist in the connected database?
bool table_exists(pg::connection& c, const table_id& t);

/// Foreign-key edges (child → parent) among `tables`, as the connected database declares them.
std::vector<std::pair<table_id, table_id>> live_foreign_keys(pg::connection& c, const std::vector<table_id>& tables);

/// Orders `tables` so that every parent comes before its children (edges child → parent);
/// stable otherwise, and a cycle keeps the given order for its members.
std::vector<table_id> parents_first(const std::vector<table_id>& tables,
                                    const std::vector<std::pair<table_id, table_id>>& edges);

} // namespace mighost::backup
