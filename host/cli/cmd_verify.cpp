// `mighost verify SCRIPT [--db URL]`: only the script's validation checks, read-only.
#include "cli/command.hpp"
#include "cli/script_runner.hpp"

#include <cstdlib>
#include <string>

namespace mighost::cli {

namespace {

class verify_command : public command
{
public:
  const char* name() const override { return "verify"; }
  const char* summary() const override { return "run only a migration script's checks (read-only)"; }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("script", m_opts.script, "the migration script (mighost.migration)")->required();
    sub.add_option("--db", m_opts.db,
                   "libpq URL or key=value conninfo (default: DATABASE_URL, then the PG* environment)");
    add_log_options(sub, global);
    sub.allow_extras();  // the script's own connection options, e.g. --target-db
  }

  int run(CLI::App& sub, global_options& global) override
  {
    check_db_flag("--db", m_opts.db);
    // The framework (stdlib/mighost/migration.lua) reads the command from this hidden option.
    m_opts.script_args = {"--mighost-command=verify"};
    for (auto& a : sub.remaining()) m_opts.script_args.push_back(a);
    m_opts.script_args.insert(m_opts.script_args.end(), global.passthrough.begin(), global.passthrough.end());
    read_only_sessions();
    return run_script(m_opts);
  }

  /// verify promises not to change the database, whatever the script is: every session the
  /// script opens starts with default_transaction_read_only (libpq adds PGOPTIONS to each
  /// connection), so a plain script that writes fails with SQLSTATE 25006 instead of writing.
  /// A --db URL with its own `options=` parameter replaces PGOPTIONS; the framework's verify
  /// also runs its checks in a READ ONLY transaction.
  static void read_only_sessions()
  {
    const char* old = std::getenv("PGOPTIONS");
    std::string opts = old ? std::string(old) + " " : std::string();
    opts += "-c default_transaction_read_only=on";
    ::setenv("PGOPTIONS", opts.c_str(), 1);
  }

private:
  run_options m_opts;
};

registrar<verify_command> reg;

} // namespace
} // namespace mighost::cli
