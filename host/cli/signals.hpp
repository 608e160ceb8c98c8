#pragma once
/// \file
/// SIGINT/SIGTERM become a counter the CLI polls, so it can unwind normally
/// (stopping sandboxes, rolling back) instead of dying mid-migration.

namespace mighost::cli {

/// Installs handlers for SIGINT and SIGTERM that only count (async-signal-safe), and ignores
/// SIGPIPE so a closed pipe surfaces as EPIPE instead of killing us. Uses SA_RESTART: blocking
/// calls are resumed, so poll interrupt_count() between steps (or from a watchdog thread).
void install_signal_handlers();

/// How many SIGINT/SIGTERM arrived since start or the last reset_interrupts().
int interrupt_count() noexcept;

/// The last signal counted (SIGINT or SIGTERM), 0 if none.
int last_signal() noexcept;

/// Sets the counter back to 0 (e.g. after a handled interrupt in an interactive loop).
void reset_interrupts() noexcept;

}  // namespace mighost::cli
