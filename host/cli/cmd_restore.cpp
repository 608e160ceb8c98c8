// `mighost restore DIR|FILE.json --db URL [--tables a,b] [--truncate]`.
#include "cli/command.hpp"

#include "backup/backup.hpp"
#include "bind/lint_hook.hpp"
#include "pg/conninfo.hpp"
#include "pg/error.hpp"

#include <cstdio>
#include <sys/stat.h>

namespace mighost::cli {

/// In cmd_backup.cpp: prints the error, returns 2 (refused), 3 (damaged backup) or 1.
int backup_exit_code(const backup::backup_error& e);

namespace {

class restore_command : public command
{
public:
  const char* name() const override { return "restore"; }
  const char* summary() const override { return "restore a backup directory (or a JSON export) in one transaction"; }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("source", m_source, "backup directory, or a *_backup_*.json file")->required();
    sub.add_option("--db", m_db, "libpq URL or key=value conninfo (default: DATABASE_URL, then PG*)");
    sub.add_option("--tables", m_tables, "restore only these (comma-separated; name or schema.name)")->delimiter(',');
    sub.add_flag("--truncate", m_truncate, "replace the rows of tables that are not empty");
    sub.add_option("--schema", m_schema, "JSON only: load into this schema instead of the recorded one");
    add_log_options(sub, global);
    sub.footer("Missing tables are created from the recorded DDL (directory backups). A non-empty table\n"
               "refuses the whole restore (exit 2, nothing changed) unless --truncate. A file that does\n"
               "not match its manifest rolls everything back (exit 3).");
  }

  int run(CLI::App&, global_options&) override
  {
    check_db_flag("--db", m_db);
    struct stat st {};
    if (::stat(m_source.c_str(), &st) != 0) throw usage_error{"restore: " + m_source + ": no such file or directory"};
    bool json = S_ISREG(st.st_mode);
    if (!json && !m_schema.empty()) throw usage_error{"restore: --schema is for JSON exports only"};
    try {
      pg::connection conn(pg::default_conninfo(m_db));
      bind::install_lint(conn);
      nlohmann::json out;
      if (json) {
        backup::json_restore_options o;
        o.tables = m_tables;
        o.schema = m_schema;
        o.truncate = m_truncate;
        out = backup::restore_json(conn, m_source, o);
      } else {
        backup::restore_options o;
        o.tables = m_tables;
        o.truncate = m_truncate;
        out = backup::restore(conn, m_source, o);
      }
      for (const auto& t : out["tables"])
        std::printf("%s.%s\t%lld rows%s%s\n", t["schema"].get<std::string>().c_str(),
                    t["name"].get<std::string>().c_str(), t["rows"].get<long long>(),
                    t["created"].get<bool>() ? "\tcreated" : "", t["truncated"].get<bool>() ? "\ttruncated" : "");
      std::printf("restore: %zu tables from %s, committed\n", out["tables"].size(), m_source.c_str());
      return exit_code::ok;
    } catch (const backup::backup_error& e) {
      return backup_exit_code(e);
    } catch (const pg::sql_error& e) {
      // e.g. a garbled row the server refused: say which backup, and that the one transaction rolled back
      std::fprintf(stderr, "mighost: restore from %s failed, nothing was committed: %s\n", m_source.c_str(),
                   pg::mask_password(e.what()).c_str());
      return exit_code::error;
    }
  }

private:
  std::string m_source, m_db, m_schema;
  std::vector<std::string> m_tables;
  bool m_truncate = false;
};

registrar<restore_command> reg;

} // namespace
} // namespace mighost::cli
