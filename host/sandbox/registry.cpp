#include "sandbox/registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <vector>

#include "sandbox/sandbox.hpp"

namespace mighost::sandbox {
namespace {

/// Recursive: a terminate handler may run while this thread already holds the lock.
struct registry {
  std::recursive_mutex mutex;
  std::vector<cluster*> live;
};

/// Never destroyed, so atexit handlers and static destructors can use it in any order.
registry& the_registry() noexcept {
  static auto* r = new registry;
  return *r;
}

std::terminate_handler g_previous_terminate = nullptr;

void stop_all_then_terminate() {
  stop_all();
  if (g_previous_terminate) g_previous_terminate();
  std::abort();
}

void stop_all_at_exit() { stop_all(); }

}  // namespace

namespace detail {

void register_cluster(cluster* c) noexcept {
  try {
    auto& r = the_registry();
    std::lock_guard lock(r.mutex);
    r.live.push_back(c);
  } catch (...) {
    // Out of memory: the cluster still stops in its destructor, just not on fatal paths.
  }
}

void unregister_cluster(cluster* c) noexcept {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  r.live.erase(std::remove(r.live.begin(), r.live.end(), c), r.live.end());
}

}  // namespace detail

void stop_all() noexcept {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  // Each stop() is idempotent and never throws; destructors unregister later.
  for (cluster* c : r.live) c->stop();
}

void stop_all_on_exit() noexcept {
  static std::once_flag once;
  try {
    std::call_once(once, [] {
      std::atexit(stop_all_at_exit);
      g_previous_terminate = std::set_terminate(stop_all_then_terminate);
    });
  } catch (...) {
    // call_once only throws on system errors; clusters still stop in their destructors.
  }
}

std::size_t live_cluster_count() noexcept {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  return r.live.size();
}

}  // namespace mighost::sandbox
