#include "cli/signals.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <system_error>

namespace mighost::cli {
namespace {

// Lock-free atomics are the only shared state a signal handler may touch.
std::atomic<int> g_interrupts{0};
std::atomic<int> g_last_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "signal handler needs a lock-free counter");

extern "C" void count_signal(int signo) {
  int saved_errno = errno;  // the interrupted code may be about to read errno
  g_interrupts.fetch_add(1, std::memory_order_relaxed);
  g_last_signal.store(signo, std::memory_order_relaxed);
  errno = saved_errno;
}

void set_action(int signo, void (*handler)(int)) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(signo, &sa, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "sigaction(" + std::to_string(signo) + ")");
  }
}

}  // namespace

void install_signal_handlers() {
  set_action(SIGINT, count_signal);
  set_action(SIGTERM, count_signal);
  set_action(SIGPIPE, SIG_IGN);
}

int interrupt_count() noexcept { return g_interrupts.load(std::memory_order_relaxed); }

int last_signal() noexcept { return g_last_signal.load(std::memory_order_relaxed); }

void reset_interrupts() noexcept {
  g_interrupts.store(0, std::memory_order_relaxed);
  g_last_signal.store(0, std::memory_order_relaxed);
}

}  // namespace mighost::cli
