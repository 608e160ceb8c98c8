// The backup engine's session helpers.
#include "backup/session.hpp"

#include <chrono>
#include <ctime>

namespace mighost::backup {

void qualify_names(pg::transaction& tx) { tx.set_local("search_path", ""); }

namespace {
std::string utc_format(const char* fmt, bool micro)
{
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  std::string out = buf;
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us));
    out += frac;
  }
  return out;
}
} // namespace

std::string utc_now_iso() { return utc_format("%Y-%m-%dT%H:%M:%S", true); }
std::string utc_now_compact() { return utc_format("%Y%m%d_%H%M%S", false); }

} // namespace mighost::backup
