#pragma once
/// @file spdlog set-up shared by the CLI and the mighost.log binding.
#include <string>

namespace mighost::util {

/// Configures the default logger: stderr (coloured only on a TTY) and optionally a file.
/// `level` is trace|debug|info|warn|error|critical|off; throws std::invalid_argument otherwise.
void setup_logging(const std::string& level, const std::string& file);

} // namespace mighost::util
