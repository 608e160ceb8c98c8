// `mighost verify SCRIPT [--db URL]`: only the script's validation checks, read-only.
#include "cli/command.hpp"
#include "cli/script_runner.hpp"

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
    m_opts.command = bind::script_command::verify;
    // verify promises not to change the database, whatever the script is: every session it opens
    // (workers' too) is read-only, so a plain script that writes fails with SQLSTATE 25006. The
    // framework's verify also runs its checks in a READ ONLY transaction.
    m_opts.read_only = true;
    m_opts.script_args = sub.remaining();
    m_opts.script_args.insert(m_opts.script_args.end(), global.passthrough.begin(), global.passthrough.end());
    return run_script(m_opts);
  }

private:
  run_options m_opts;
};

registrar<verify_command> reg;

} // namespace
} // namespace mighost::cli
