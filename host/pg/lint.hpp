#pragma once
/// @file Run-time lint of lock-heavy DDL: the statements a script actually runs are checked before
/// they are sent, and each risky one gets a warning that names the safer form.
///
/// `lint()` is a pure function of the SQL text and a catalog lookup, so it is unit-tested without
/// a server; the lint observer (pg/lint_observer.hpp) calls it (through `worth_linting()`, a
/// first-word check that keeps the hot path free) with a lookup that reads pg_class /
/// pg_attribute on the session that runs the statement.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mighost::pg::lint {

/// A table as written in the statement: schema "" means "resolved through search_path".
struct table_ref
{
  std::string schema;
  std::string name;
  /// `schema.name` with each part quoted only when it needs quotes (for messages).
  std::string text() const;
};

/// Planner estimate and on-disk size of a table (pg_class.reltuples, pg_relation_size).
struct table_size
{
  double rows = -1;     ///< -1 = never analyzed
  long long bytes = 0;
  /// Created by the running migration (observer::new_tables): no one else uses it yet,
  /// so no lock on it can block anyone, whatever its size.
  bool created = false;
};

/// What lint() may ask about the database. Every member may be empty: no size lookup means every
/// table counts as large (the strict, pure mode); the others then simply assume the worst.
struct catalog
{
  /// nullopt: no such table (created later in the same batch, or a typo the server will report).
  std::function<std::optional<table_size>(const table_ref&)> size;
  /// True when the column is already NOT NULL or a validated CHECK (col IS NOT NULL) exists, so
  /// SET NOT NULL needs no scan (PostgreSQL 12+).
  std::function<bool(const table_ref&, const std::string& column)> not_null_proven;
  /// format_type() of a column ("character varying(20)"), nullopt if unknown.
  std::function<std::optional<std::string>(const table_ref&, const std::string& column)> column_type;
  /// True for a schema the caller owns (its own bookkeeping, which no one else locks): statements
  /// on its tables are neither checked nor looked up.
  std::function<bool(std::string_view schema)> owned_schema;
};

/// A table is "large" (worth a warning) above either limit. 0/0 makes every non-empty table large.
struct thresholds
{
  double rows = 10000;
  long long bytes = 10LL << 20;
};

/// One finding.
struct warning
{
  std::string rule;       ///< create_index, add_constraint, add_unique, set_not_null, column_type, volatile_default
  std::string table;      ///< the table, as text
  std::string statement;  ///< the statement (whitespace collapsed, cut to ~200 characters)
  std::string message;    ///< what is risky and why
  std::string safer;      ///< the safer form
  /// One line for the log: `<message>; safer: <safer>. Statement: <statement>`.
  std::string text() const;
};

/// Checks every statement in `sql` (several may be separated by `;`). Statements on temporary
/// tables (a session's own: they block no one) and on cat.owned_schema's are not checked.
std::vector<warning> lint(std::string_view sql, const catalog& cat, const thresholds& limits);

/// The same with the process-wide thresholds (config()).
std::vector<warning> lint(std::string_view sql, const catalog& cat);

/// A statement that must run outside a transaction block and takes only SHARE UPDATE EXCLUSIVE:
/// `CREATE [UNIQUE] INDEX CONCURRENTLY … ON table` (`ref` = the table) or `DROP INDEX
/// CONCURRENTLY name` (`ref` = the index, `index` = true). nullopt for any other statement.
struct concurrent_target
{
  table_ref ref;
  bool index = false;
};
std::optional<concurrent_target> concurrent_statement(std::string_view sql);

/// The hot-path filter: true when the first word is CREATE or ALTER, or (for the simple-query
/// protocol, `multi` = true) when the text holds more than one statement.
bool worth_linting(std::string_view sql, bool multi) noexcept;

/// Process-wide settings, read once from the environment: MIGHOST_LINT=off disables the hook,
/// MIGHOST_LINT_ROWS / MIGHOST_LINT_BYTES set the thresholds.
struct config_values
{
  bool enabled = true;
  thresholds limits;
};
config_values config();
void set_config(const config_values& c);

} // namespace mighost::pg::lint
