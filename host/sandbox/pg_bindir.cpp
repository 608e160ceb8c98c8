#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "sandbox/sandbox.hpp"

namespace mighost::sandbox {
namespace {

namespace fs = std::filesystem;

/// A directory is usable when it holds the two binaries the sandbox starts itself.
bool has_server_binaries(const std::string& dir) {
  return ::access((dir + "/initdb").c_str(), X_OK) == 0 && ::access((dir + "/pg_ctl").c_str(), X_OK) == 0;
}

/// Major version from a Debian layout name like "15" or "9.6"; -1 when not a version.
double version_of(const std::string& name) {
  char* end = nullptr;
  double v = std::strtod(name.c_str(), &end);
  return end != name.c_str() && *end == '\0' ? v : -1;
}

/// Newest /usr/lib/postgresql/<version>/bin with server binaries, or "".
std::string newest_debian_bindir() {
  std::error_code ec;
  std::string best;
  double best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    double v = version_of(entry.path().filename().string());
    std::string bin = entry.path().string() + "/bin";
    if (v > best_version && has_server_binaries(bin)) {
      best = bin;
      best_version = v;
    }
  }
  return best;
}

}  // namespace

std::string find_pg_bindir() {
  if (const char* env = std::getenv("MIGHOST_PG_BINDIR"); env && *env) {
    if (has_server_binaries(env)) return env;
    throw sandbox_error(std::string("MIGHOST_PG_BINDIR=") + env +
                        " does not contain executable initdb and pg_ctl; point it at a PostgreSQL 15 bin directory");
  }
  if (has_server_binaries("/usr/lib/postgresql/15/bin")) return "/usr/lib/postgresql/15/bin";
  if (auto dir = newest_debian_bindir(); !dir.empty()) return dir;
  throw sandbox_error(
      "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin; "
      "install the Debian package postgresql-15 (apt-get install postgresql-15) "
      "or set MIGHOST_PG_BINDIR to the directory holding initdb and pg_ctl");
}

}  // namespace mighost::sandbox
