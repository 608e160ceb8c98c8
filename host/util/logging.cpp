#include "util/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <unistd.h>

namespace mighost::util {

void setup_logging(const std::string& level, const std::string& file)
{
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + level +
                                "' (use trace, debug, info, warn, error, critical or off)");
  std::vector<spdlog::sink_ptr> sinks;
  if (isatty(STDERR_FILENO)) sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  else sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  sinks.back()->set_pattern("%^%L%$ %H:%M:%S.%e %v");
  if (!file.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    sinks.back()->set_pattern("%Y-%m-%dT%H:%M:%S.%f%z %l [%P] %v");
  }
  auto logger = std::make_shared<spdlog::logger>("mighost", sinks.begin(), sinks.end());
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

} // namespace mighost::util
