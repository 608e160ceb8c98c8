// `mighost run SCRIPT`: one Lua script, on --db or on a throwaway sandbox.
#include "cli/command.hpp"
#include "cli/flags.hpp"
#include "cli/script_runner.hpp"

#include <algorithm>

namespace mighost::cli {

namespace {

class run_command : public command
{
public:
  const char* name() const override { return "run"; }
  const char* summary() const override { return "run a Lua migration script"; }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.set_help_flag();  // `mighost run SCRIPT --help` asks the script for its options
    sub.add_flag("-h,--help", m_help, "this help; after SCRIPT: the script's own options");
    sub.add_option("script", m_opts.script, "the Lua script (its folder is on package.path)");
    sub.add_option("--db", m_opts.db,
                   "libpq URL or key=value conninfo (default: DATABASE_URL, then the PG* environment)");
    sub.add_flag("--sandbox", m_opts.sandbox, "run on a fresh throwaway PostgreSQL, removed afterwards");
    sub.add_option("--fixture", m_opts.fixtures, "SQL file loaded into the sandbox first (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);  // one file per --fixture: later words belong to the script
    sub.add_flag("--keep-sandbox", m_opts.keep_sandbox, "leave the sandbox's data directory (debugging)");
    // mighost test's runs: --db is a sandbox that is gone when the test ends (no resume hint)
    sub.add_flag("--throwaway-db", m_opts.throwaway_db)->group("");
    add_log_options(sub, global);
    sub.allow_extras();  // the script's own options and arguments
    sub.footer("Arguments after SCRIPT that mighost does not know are passed to the script\n"
               "(require \"mighost.script\").args; `--` passes everything after it verbatim. An unknown\n"
               "flag before SCRIPT, or one a letter or two away from a flag above, is refused (exit 64).");
  }

  int run(CLI::App& sub, global_options& global) override
  {
    auto at = std::find(global.args.begin(), global.args.end(), name());
    check_host_flags(sub, {at == global.args.end() ? at : at + 1, global.args.end()});
    if (m_help && m_opts.script.empty()) {
      std::printf("%s", sub.help().c_str());
      return exit_code::ok;
    }
    if (m_opts.script.empty()) throw usage_error{"run: SCRIPT is required (mighost run SCRIPT.lua)"};
    m_opts.script_args = sub.remaining();
    if (m_help) m_opts.script_args.push_back("--help");
    m_opts.script_args.insert(m_opts.script_args.end(), global.passthrough.begin(), global.passthrough.end());
    check_db_flag("--db", m_opts.db);
    if (m_opts.sandbox && !m_opts.db.empty()) throw usage_error{"--sandbox: cannot be combined with --db"};
    if (!m_opts.fixtures.empty() && !m_opts.sandbox) throw usage_error{"--fixture: needs --sandbox"};
    m_opts.throwaway_db = m_opts.throwaway_db || m_opts.sandbox;
    return run_script(m_opts);
  }

private:
  run_options m_opts;
  bool m_help = false;
};

registrar<run_command> reg;

} // namespace
} // namespace mighost::cli
