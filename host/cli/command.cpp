#include "cli/command.hpp"

#include "pg/conninfo.hpp"

namespace mighost::cli {

std::vector<std::unique_ptr<command>>& command_registry()
{
  static std::vector<std::unique_ptr<command>> list;
  return list;
}

void add_log_options(CLI::App& sub, global_options& global)
{
  sub.add_option("--log-level", global.log_level, "trace, debug, info, warn, error or off");
  sub.add_option("--log-file", global.log_file, "also write the log to this file");
}

void check_db_flag(const std::string& flag, const std::string& value)
{
  if (value.empty()) return;
  if (auto err = pg::conninfo_error(value))
    throw usage_error{flag + ": invalid connection string: " + *err};
}

} // namespace mighost::cli
