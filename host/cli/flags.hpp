#pragma once
/// @file Host flags a command line misspells: caught before anything starts, with a suggestion.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mighost::cli {

/// The long flag of `sub` (with its dashes) that `flag` most likely misspells, or "" when none is
/// close: at most one edit away for names up to 4 characters, two for longer ones.
std::string closest_flag(const CLI::App& sub, const std::string& flag);

/// Throws usage_error for a flag of `args` (the command line after the subcommand's name) that
/// `sub` does not know, when it comes before the first positional argument (nothing before the
/// script belongs to it), or when it is a near miss of one of `sub`'s flags. `--` has been split off.
void check_host_flags(const CLI::App& sub, const std::vector<std::string>& args);

} // namespace mighost::cli
