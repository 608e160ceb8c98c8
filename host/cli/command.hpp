#pragma once
/// @file Subcommands register themselves here, one file each (cmd_*.cpp), so adding a command
/// touches no shared file.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mighost::cli {

/// Exit codes, as README.md and mighost(1) document them.
namespace exit_code {
constexpr int ok = 0, error = 1, refused = 2, validation_failed = 3, usage = 64;
}

/// A usage error that names the flag: printed as `mighost: --db: ...`, exit 64.
struct usage_error
{
  std::string message;
};

/// Options every command accepts.
struct global_options
{
  std::string log_level = "info";
  std::string log_file;
  std::vector<std::string> passthrough;  ///< arguments after `--`
  std::vector<std::string> args;         ///< the command line before `--`, in order
};

/// One subcommand: declares its options on `sub`, then runs if it was the one parsed.
class command
{
public:
  virtual ~command() = default;
  virtual const char* name() const = 0;
  virtual const char* summary() const = 0;
  virtual void setup(CLI::App& sub, global_options& global) = 0;
  /// Runs after parsing and logging set-up; returns the exit code.
  virtual int run(CLI::App& sub, global_options& global) = 0;
};

/// All registered commands, in registration order.
std::vector<std::unique_ptr<command>>& command_registry();

/// `static registrar<my_command> reg;` in a cmd_*.cpp adds the command.
template <class T>
struct registrar
{
  registrar() { command_registry().push_back(std::make_unique<T>()); }
};

/// Adds --log-level and --log-file to a subcommand (bound to the global values).
void add_log_options(CLI::App& sub, global_options& global);

/// Throws usage_error naming `flag` when `value` is not a valid libpq connection string.
void check_db_flag(const std::string& flag, const std::string& value);

} // namespace mighost::cli
