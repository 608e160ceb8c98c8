#pragma once
/// @file Running one Lua script in a fresh state: shared by run and the commands built on it.
#include "bind/modules.hpp"

#include <string>
#include <vector>

namespace mighost::cli {

/// How to run a script.
struct run_options
{
  std::string script;
  std::vector<std::string> script_args;
  std::string db;
  bool sandbox = false;
  std::vector<std::string> fixtures;
  bool keep_sandbox = false;
  bool throwaway_db = false;  ///< the database is removed when mighost ends (`script.throwaway_db`)
  bind::script_command command = bind::script_command::run;  ///< `script.command`
  bool read_only = false;  ///< every session the script opens is read-only (`script.read_only`)
};

/// Compiles the script (a syntax error is reported before any database is touched), starts a
/// sandbox if asked, runs the script under pcall with a traceback, and prints any error.
/// Returns the exit code: the script's own (script.exit / returned integer), 1 on error.
int run_script(const run_options& opts);

} // namespace mighost::cli
