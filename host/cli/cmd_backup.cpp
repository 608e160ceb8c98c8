// `mighost backup`: table snapshots (or the JSON export) from --db; `mighost backup verify DIR`.
#include "cli/command.hpp"

#include "backup/backup.hpp"
#include "bind/lint_hook.hpp"
#include "pg/conninfo.hpp"

#include <cstdio>

namespace mighost::cli {

namespace {

/// Exit code for an engine error: refused 2, damaged backup 3, anything else 1.
int exit_for(const backup::backup_error& e)
{
  std::fprintf(stderr, "mighost: %s\n", pg::mask_password(e.what()).c_str());
  switch (e.error_kind()) {
    case backup::backup_error::kind::refused: return exit_code::refused;
    case backup::backup_error::kind::corrupt: return exit_code::validation_failed;
    default: return exit_code::error;
  }
}

class backup_command : public command
{
public:
  const char* name() const override { return "backup"; }
  const char* summary() const override { return "back up tables into a directory (or JSON); `backup verify DIR`"; }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("--db", m_db, "libpq URL or key=value conninfo (default: DATABASE_URL, then PG*)");
    sub.add_option("--tables", m_tables, "tables to back up (comma-separated; name or schema.name)")->delimiter(',');
    sub.add_option("--schema", m_schema, "back up every table of this schema");
    sub.add_option("--out", m_out, "new directory for the backup (JSON: the directory for the file)");
    sub.add_option("--compress", m_compress, "data files: none (default) or zstd (3.6x smaller, ~25% slower here)")
      ->check(CLI::IsMember({"zstd", "none"}));
    sub.add_option("--zstd-level", m_level, "zstd level (default 1; negative levels are faster, larger)")
      ->check(CLI::Range(-7, 19));
    sub.add_option("--format", m_format, "dir (COPY files + manifest.json, default) or json (seed 004's export)")
      ->check(CLI::IsMember({"dir", "json"}));
    sub.add_option("--prefix", m_prefix, "json: file name prefix (<prefix>_backup_YYYYMMDD_HHMMSS.json)");
    sub.add_option("--script", m_script, "record this script name in the manifest");
    sub.add_option("--run-id", m_run_id, "record this run id in the manifest");
    add_log_options(sub, global);
    m_verify = sub.add_subcommand("verify", "re-hash every file and re-count its rows (exit 3 on a mismatch)");
    m_verify->add_option("dir", m_verify_dir, "the backup directory")->required();
    sub.footer("Exit codes: 0 ok, 1 error, 2 refused (the directory already holds a backup), 3 verify mismatch.");
  }

  int run(CLI::App&, global_options&) override
  {
    try {
      if (m_verify->parsed()) return verify();
      check_db_flag("--db", m_db);
      if (m_out.empty()) throw usage_error{"backup: --out DIR is required"};
      if (m_tables.empty() == m_schema.empty()) throw usage_error{"backup: give --tables or --schema (one of them)"};
      pg::connection conn(pg::default_conninfo(m_db));
      bind::install_lint(conn);
      return m_format == "json" ? export_json(conn) : snapshot(conn);
    } catch (const backup::backup_error& e) {
      return exit_for(e);
    }
  }

private:
  int snapshot(pg::connection& conn)
  {
    backup::snapshot_options o;
    o.tables = m_tables;
    o.schema = m_schema;
    o.dir = m_out;
    o.comp = backup::parse_compression(m_compress);
    o.level = m_level;
    o.script = m_script;
    o.run_id = m_run_id;
    auto m = backup::snapshot(conn, o);
    long long rows = 0;
    std::uint64_t bytes = 0;
    for (const auto& t : m["tables"]) {
      rows += t["rows"].get<long long>();
      bytes += t["bytes"].get<std::uint64_t>();
      std::printf("%s.%s\t%lld rows\t%s\n", t["schema"].get<std::string>().c_str(),
                  t["name"].get<std::string>().c_str(), t["rows"].get<long long>(), t["file"].get<std::string>().c_str());
    }
    std::printf("backup: %zu tables, %lld rows, %.1f MB (%s) in %s\n", m["tables"].size(), rows, bytes / 1e6,
                m_compress.c_str(), m_out.c_str());
    return exit_code::ok;
  }

  int export_json(pg::connection& conn)
  {
    if (!m_schema.empty()) throw usage_error{"backup: --format json takes --tables, not --schema"};
    backup::json_options o;
    o.tables = m_tables;
    o.prefix = m_prefix;
    o.dir = m_out;
    auto info = backup::export_json(conn, o);
    std::printf("%s\n", info["path"].get<std::string>().c_str());
    return exit_code::ok;
  }

  int verify()
  {
    auto rep = backup::verify(m_verify_dir);
    for (const auto& p : rep.problems) std::fprintf(stderr, "mighost: verify: %s\n", p.c_str());
    if (!rep.ok) return exit_code::validation_failed;
    std::printf("backup %s: every file matches its manifest\n", m_verify_dir.c_str());
    return exit_code::ok;
  }

  std::string m_db, m_schema, m_out, m_compress = "none", m_format = "dir", m_prefix = "backup", m_script, m_run_id;
  std::vector<std::string> m_tables;
  int m_level = 1;
  CLI::App* m_verify = nullptr;
  std::string m_verify_dir;
};

registrar<backup_command> reg;

} // namespace

int backup_exit_code(const backup::backup_error& e) { return exit_for(e); }

} // namespace mighost::cli
