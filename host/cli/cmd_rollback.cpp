// `mighost rollback SCRIPT [--db URL] [--yes]`: the script's rollback, after confirmation.
#include "cli/command.hpp"
#include "cli/script_runner.hpp"

namespace mighost::cli {

namespace {

class rollback_command : public command
{
public:
  const char* name() const override { return "rollback"; }
  const char* summary() const override
  {
    return "run a migration script's rollback (asks on a terminal; --yes otherwise)";
  }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("script", m_opts.script, "the migration script (mighost.migration)")->required();
    sub.add_option("--db", m_opts.db,
                   "libpq URL or key=value conninfo (default: DATABASE_URL, then the PG* environment)");
    sub.add_flag("--yes", m_yes, "do not ask (required when stdin is not a terminal)");
    add_log_options(sub, global);
    sub.allow_extras();  // the script's own connection options, e.g. --target-db
  }

  int run(CLI::App& sub, global_options& global) override
  {
    check_db_flag("--db", m_opts.db);
    m_opts.command = bind::script_command::rollback;
    if (m_yes) m_opts.script_args.push_back("--yes");
    for (auto& a : sub.remaining()) m_opts.script_args.push_back(a);
    m_opts.script_args.insert(m_opts.script_args.end(), global.passthrough.begin(), global.passthrough.end());
    return run_script(m_opts);
  }

private:
  run_options m_opts;
  bool m_yes = false;
};

registrar<rollback_command> reg;

} // namespace
} // namespace mighost::cli
