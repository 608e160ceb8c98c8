#pragma once
/// \file
/// Run a child process without a shell and capture what it prints.
///
/// The sandbox drives initdb, pg_ctl and psql through this helper instead of
/// system(): arguments are never re-parsed by a shell, so paths with spaces or
/// quotes are safe, and stderr is kept so errors can say what went wrong.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace mighost::sandbox {

/// How to run one child process.
struct run_options {
  std::string cwd;                                      ///< chdir() here in the child; empty: inherit
  std::vector<std::pair<std::string, std::string>> env; ///< set (or override) these variables
  bool strip_pg_env = true;          ///< drop inherited PG* variables so PGHOST etc. cannot redirect us
  bool new_process_group = false;    ///< own process group: a terminal Ctrl-C does not reach the child
  std::chrono::milliseconds timeout{0};  ///< 0: wait forever; else SIGKILL the child and report a timeout
  std::size_t max_capture = 1 << 20; ///< keep at most this many bytes of stdout/stderr (the tail)
};

/// What a finished child did.
struct process_result {
  int exit_code = -1;     ///< exit status, or -1 when killed by a signal
  int term_signal = 0;    ///< signal that ended it, 0 if it exited
  bool timed_out = false; ///< we killed it because run_options::timeout passed
  std::string out;        ///< captured stdout (tail, see max_capture)
  std::string err;        ///< captured stderr (tail, see max_capture)

  /// True when the child exited with status 0.
  bool ok() const noexcept { return exit_code == 0 && !timed_out; }
  /// "exit 1", "killed by signal 9", "timed out" — for error messages.
  std::string status_text() const;
};

/// Start argv[0] (searched in $PATH unless it contains '/') with argv, wait for it.
/// Throws std::system_error when the process cannot be started at all
/// (fork/pipe failure); an exec failure is reported as exit code 127 with the
/// reason in `err`, like a shell would.
process_result run_process(const std::vector<std::string>& argv, const run_options& opts = {});

/// The command line quoted for a human reader (for messages, not for a shell).
std::string format_command(const std::vector<std::string>& argv);

/// Last `max_lines` lines of `text` (at most `max_bytes`), without trailing blank lines.
std::string tail_lines(const std::string& text, std::size_t max_lines = 20, std::size_t max_bytes = 4000);

/// Full path of `program` found in $PATH (or the name itself if it contains '/'); empty if not found.
std::string find_in_path(const std::string& program);

}  // namespace mighost::sandbox
