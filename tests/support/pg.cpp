#include "pg.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace mighost::test {
namespace {

struct shared_state {
  std::mutex mutex;
  std::unique_ptr<sandbox::cluster> cluster;
  std::exception_ptr failure;
};

// A function-local static: destroyed at exit, which stops the server and removes its dir.
shared_state& state() {
  static shared_state s;
  return s;
}

/// Only [a-z0-9_] so names never need quoting in tests' own SQL.
std::string sanitize(const std::string& prefix) {
  std::string out;
  for (unsigned char c : prefix) out += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(0, "t_");
  return out;
}

}  // namespace

sandbox::cluster& shared_cluster() {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (s.cluster) return *s.cluster;
  if (s.failure) std::rethrow_exception(s.failure);
  try {
    sandbox::options opts;
    opts.keep = std::getenv("MIGHOST_TEST_KEEP") != nullptr;  // debugging: inspect the data dir afterwards
    s.cluster = std::make_unique<sandbox::cluster>(opts);
  } catch (...) {
    s.failure = std::current_exception();
    throw;
  }
  return *s.cluster;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<unsigned> counter{0};
  std::string suffix = "_";  // appended piecewise: GCC 12 -O3 -Wrestrict false positive on "_" + string
  suffix += std::to_string(::getpid());
  suffix += '_';
  suffix += std::to_string(++counter);
  std::string base = sanitize(prefix);
  if (base.size() + suffix.size() > 63) base.resize(63 - suffix.size());
  return base + suffix;
}

std::string fresh_database(const std::string& prefix) {
  auto& c = shared_cluster();
  std::string name = unique_name(prefix);
  c.create_database(name);
  return c.url_for(name);
}

std::string fresh_copy(const std::string& template_db, const std::string& prefix) {
  auto& c = shared_cluster();
  std::string name = unique_name(prefix);
  c.create_database(name, template_db);
  return c.url_for(name);
}

std::string source_dir() {
  if (const char* env = std::getenv("MIGHOST_SOURCE_DIR"); env && *env) return env;
#ifdef MIGHOST_SOURCE_DIR
  return MIGHOST_SOURCE_DIR;
#else
  return ".";
#endif
}

std::string mighost_binary() {
  if (const char* env = std::getenv("MIGHOST_BINARY"); env && *env) return env;
  std::error_code ec;
  auto bin = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "mighost";
  return !ec && std::filesystem::exists(bin) ? bin.string() : "";
}

}  // namespace mighost::test
