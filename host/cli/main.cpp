// mighost: runs PostgreSQL data migrations written in Lua. Command-line entry point.
#include "cli/command.hpp"
#include "cli/flags.hpp"
#include "cli/signals.hpp"

#include "bind/modules.hpp"
#include "mighost_version.hpp"
#include "pg/conninfo.hpp"
#include "sandbox/sandbox.hpp"
#include "util/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace {

using namespace mighost;

const char* k_description =
  "mighost runs PostgreSQL data migrations written as Lua scripts, on a real database\n"
  "(--db URL, DATABASE_URL or the PG* environment) or on a throwaway sandbox.\n\n"
  "Exit codes: 0 ok, 1 error, 2 refused, 3 validation failed, 64 usage error.";

/// A flag CLI11 did not expect that is a near miss of one of the parsed command's: a usage error
/// with a "did you mean".
void suggest_flag(const std::vector<std::pair<cli::command*, CLI::App*>>& subs, const std::vector<std::string>& args)
{
  for (const auto& [cmd, sub] : subs) {
    if (!sub->parsed()) continue;
    for (auto at = std::find(args.begin(), args.end(), sub->get_name()); at != args.end(); ++at) {
      std::string flag = at->substr(0, at->find('='));
      if (flag.rfind("-", 0) != 0) continue;
      std::string hint = cli::closest_flag(*sub, flag);
      if (!hint.empty()) throw cli::usage_error{flag + ": unknown option; did you mean " + hint + "?"};
    }
  }
}

/// Splits off everything after `--`: it belongs to the script, verbatim.
std::vector<std::string> split_passthrough(int argc, char** argv, std::vector<std::string>& rest)
{
  std::vector<std::string> args(argv + 1, argv + argc);
  auto dashes = std::find(args.begin(), args.end(), "--");
  if (dashes != args.end()) {
    rest.assign(dashes + 1, args.end());
    args.erase(dashes, args.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11's vector form takes the arguments reversed
  return args;
}

int main_impl(int argc, char** argv)
{
  CLI::App app{k_description, "mighost"};
  app.set_version_flag("--version", std::string("mighost ") + MIGHOST_VERSION);
  cli::global_options global;
  cli::add_log_options(app, global);
  app.require_subcommand(0, 1);
  std::vector<std::pair<cli::command*, CLI::App*>> subs;
  for (auto& cmd : cli::command_registry()) {
    CLI::App* sub = app.add_subcommand(cmd->name(), cmd->summary());
    cmd->setup(*sub, global);
    subs.emplace_back(cmd.get(), sub);
  }
  std::string topic;
  CLI::App* help = app.add_subcommand("help", "help for mighost or for one command");
  help->add_option("command", topic, "a command name");

  std::vector<std::string> args = split_passthrough(argc, argv, global.passthrough);
  global.args.assign(args.rbegin(), args.rend());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return cli::exit_code::ok;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    return cli::exit_code::ok;
  } catch (const CLI::ParseError& e) {
    suggest_flag(subs, global.args);  // a misspelt flag explains the error better than CLI11 can
    std::fprintf(stderr, "mighost: %s\nRun 'mighost --help' for usage.\n", e.what());
    return cli::exit_code::usage;
  }
  if (help->parsed()) {
    for (auto& [cmd, sub] : subs)
      if (topic == cmd->name()) return std::printf("%s", sub->help().c_str()), cli::exit_code::ok;
    if (!topic.empty()) throw cli::usage_error{"help: unknown command '" + topic + "'"};
    std::printf("%s", app.help().c_str());
    return cli::exit_code::ok;
  }
  try {
    util::setup_logging(global.log_level, global.log_file);
  } catch (const std::invalid_argument& e) {
    throw cli::usage_error{std::string("--log-level: ") + e.what()};
  }
  for (auto& [cmd, sub] : subs)
    if (sub->parsed()) return cmd->run(*sub, global);
  std::fprintf(stderr, "%s", app.help().c_str());
  return cli::exit_code::usage;
}

} // namespace

int main(int argc, char** argv)
{
  cli::install_signal_handlers();
  bind::set_interrupt_source([] { return cli::interrupt_count(); });
  try {
    return main_impl(argc, argv);
  } catch (const cli::usage_error& e) {
    std::fprintf(stderr, "mighost: %s\n", pg::mask_password(e.message).c_str());
    return cli::exit_code::usage;
  } catch (const sandbox::sandbox_error& e) {
    std::fprintf(stderr, "mighost: sandbox: %s\n", e.what());
    return cli::exit_code::error;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mighost: %s\n", pg::mask_password(e.what()).c_str());
    return cli::exit_code::error;
  }
}
