#pragma once
/// @file The backup engine: table snapshots into a directory (COPY + DDL + manifest.json), their
/// verification and restore, and the JSON export of seed 004 with its restore. No Lua here; the
/// Lua module (host/bind/backup.cpp) and the CLI (cmd_backup.cpp, cmd_restore.cpp) call these.
///
/// Directory layout:
///   DIR/manifest.json           what was taken: tables, rows, sha256 per file, DDL, versions, time
///   DIR/NNN_<schema.table>.copy[.zst]   one file per table, COPY text format (zstd: optional)
/// Files are 0600, the directory 0700; every file is fsynced before manifest.json is renamed in,
/// so a directory with a manifest is a complete backup.
#include "backup/catalog.hpp"
#include "backup/files.hpp"
#include "pg/connection.hpp"
#include "pg/transaction.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mighost::backup {

/// What to back up and where.
struct snapshot_options
{
  std::vector<std::string> tables;  ///< names as a person writes them (see resolve_tables)
  std::string schema;               ///< or: every table of this schema
  std::string dir;                  ///< created 0700 if missing; must not hold a backup yet
  compression comp = compression::none;  ///< see the measurement in snapshot.cpp
  int level = 1;                    ///< zstd level
  std::string script;               ///< recorded in the manifest when given
  std::string run_id;               ///< recorded in the manifest when given
};

/// Takes the snapshot (one REPEATABLE READ READ ONLY transaction, or a savepoint of the caller's
/// transaction) and returns the manifest it wrote. The directory is checked and probed before
/// the first query; on any failure the files written so far are removed and backup_error (or
/// pg::sql_error) is thrown.
nlohmann::json snapshot(pg::connection& c, const snapshot_options& o);

/// A snapshot in two steps, so that its rows can be copied on another thread while the caller
/// goes on changing other tables: the constructor checks the directory, opens the transaction
/// (its view of every table is the one its first query fixes), resolves and describes the
/// tables; copy() writes the files, then the manifest, and returns it. On a failure of either
/// step, or when copy() never ran to its end, the files written are removed (and the directory,
/// when the job made it). The connection is the job's alone until it is destroyed.
class snapshot_job
{
public:
  snapshot_job(pg::connection& c, snapshot_options o);
  ~snapshot_job();
  snapshot_job(const snapshot_job&) = delete;
  snapshot_job& operator=(const snapshot_job&) = delete;

  nlohmann::json copy();

private:
  void remove_files() noexcept;

  pg::connection& m_conn;
  snapshot_options m_opts;
  bool m_created = false;  ///< the directory was made by this job
  bool m_done = false;
  std::unique_ptr<pg::transaction> m_tx;
  std::vector<table_def> m_defs;
  nlohmann::json m_manifest;
  std::vector<std::string> m_written;
};

/// Result of verify(): ok, or one line per problem naming the file.
struct verify_report
{
  bool ok = true;
  std::vector<std::string> problems;
};

/// Re-hashes every data file and re-counts its rows against manifest.json. Never throws for a
/// damaged backup: every problem is reported.
verify_report verify(const std::string& dir);

struct restore_options
{
  std::vector<std::string> tables;  ///< subset (name or schema.name); empty = all
  bool truncate = false;            ///< replace the rows of non-empty tables
};

/// Restores in one transaction (a savepoint inside the caller's): creates missing enum types,
/// sequences and tables from the recorded DDL, loads parents before children, adds keys, indexes
/// and foreign keys of the tables it created, and moves sequences forward to the recorded
/// values. A non-empty table without `truncate` refuses the whole restore before any change
/// (backup_error::kind::refused); a file that does not match its sha256 or row count rolls it
/// back (kind::corrupt). Returns {"tables": [{schema, name, rows, created, truncated}]}.
nlohmann::json restore(pg::connection& c, const std::string& dir, const restore_options& o);

/// The JSON export of seed 004 (see json_export.cpp for the exact representation).
struct json_options
{
  std::vector<std::string> tables;  ///< names; each becomes a key as written here
  std::string prefix = "backup";
  std::string dir = ".";
  std::string schema;               ///< when set, every name is a table of this schema (keys stay bare)
  std::vector<std::string> order_by;  ///< row order when a table has all these columns (else its primary key)
  nlohmann::json meta = nlohmann::json::object();  ///< extra fields of "_meta" (the caller's own)
};

/// Writes `<dir>/<prefix>_backup_YYYYMMDD_HHMMSS.json` (UTC; when that name exists, the next
/// second's) from one consistent snapshot — the caller's transaction when it has one open — and
/// returns {"path", "sha256", "bytes", "created_at", "row_counts": {key: n}}. The file is 0600,
/// fsynced, and its directory synced; on any failure it is removed.
nlohmann::json export_json(pg::connection& c, const json_options& o);

/// What verify_json found: every problem as a line, and what it counted.
struct json_verify_report
{
  bool ok = true;
  std::vector<std::string> problems;
  std::string sha256;                                   ///< of the file as read back
  std::uint64_t bytes = 0;
  nlohmann::json row_counts = nlohmann::json::object();  ///< elements of each top-level array
};

/// Re-reads a JSON export in blocks (memory stays flat whatever its size): its sha256, the rows of
/// each table key, and its own "_meta.row_counts". Problems: the text is not one JSON object, the
/// counts differ from "_meta" or from `expected_counts` (when not null), the digest differs from
/// `expected_sha256` (when not empty). Never throws for a damaged file.
json_verify_report verify_json(const std::string& path, const std::string& expected_sha256,
                               const nlohmann::json& expected_counts);

struct json_restore_options
{
  std::vector<std::string> tables;  ///< keys of the file to load; empty = all
  std::string schema;               ///< load into this schema instead of the recorded one
  bool truncate = false;
};

/// Loads a JSON export back into existing tables (the file holds rows, not DDL), parents first,
/// in one transaction; refuses non-empty tables unless `truncate`. Returns like restore().
nlohmann::json restore_json(pg::connection& c, const std::string& path, const json_restore_options& o);

} // namespace mighost::backup
