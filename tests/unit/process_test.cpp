#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <unistd.h>
#include <string>

#include "cli/signals.hpp"
#include "sandbox/process.hpp"

using namespace mighost::sandbox;
using namespace std::chrono_literals;

TEST_CASE("run_process captures output, status and exec failures", "[process]") {
  auto res = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(res.exit_code == 3);
  CHECK_FALSE(res.ok());
  CHECK(res.out == "out\n");
  CHECK(res.err == "err\n");
  CHECK(res.status_text() == "exit 3");

  auto missing = run_process({"mighost-no-such-binary"});
  CHECK(missing.exit_code == 127);
  CHECK(missing.err.find("mighost-no-such-binary") != std::string::npos);

  auto not_exec = run_process({"/etc/hostname"});
  CHECK(not_exec.exit_code == 127);
  CHECK(not_exec.err.find("cannot execute") != std::string::npos);
}

TEST_CASE("run_process passes arguments verbatim and controls the environment", "[process]") {
  auto res = run_process({"printf", "%s|", "a b", "'q'", "$HOME", ""});
  CHECK(res.out == "a b|'q'|$HOME||");

  ::setenv("PGHOST", "/should/not/leak", 1);
  run_options ro;
  ro.env = {{"MIGHOST_X", "1"}};
  ro.cwd = std::string(1, '/');  // not = "/": GCC 12 -Wrestrict false positive
  auto env = run_process({"sh", "-c", "echo ${PGHOST:-none} $MIGHOST_X $(pwd)"}, ro);
  CHECK(env.out == "none 1 /\n");
  ro.strip_pg_env = false;
  CHECK(run_process({"sh", "-c", "echo $PGHOST"}, ro).out == "/should/not/leak\n");
  ::unsetenv("PGHOST");
}

TEST_CASE("run_process copes with a parent whose stdin is closed", "[process]") {
  int saved = ::dup(0);
  REQUIRE(saved >= 0);
  ::close(0);
  auto res = run_process({"sh", "-c", "cat; echo done"});
  ::dup2(saved, 0);
  ::close(saved);
  CHECK(res.out == "done\n");
  CHECK(res.err == "");
}

TEST_CASE("run_process kills a child that outlives its timeout", "[process]") {
  run_options ro;
  ro.timeout = 200ms;
  ro.new_process_group = true;
  auto start = std::chrono::steady_clock::now();
  auto res = run_process({"sh", "-c", "sleep 30 & sleep 30"}, ro);
  CHECK(res.timed_out);
  CHECK(res.status_text() == "timed out");
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("run_process keeps the tail of large output", "[process]") {
  run_options ro;
  ro.max_capture = 1000;
  auto res = run_process({"sh", "-c", "seq 1 100000"}, ro);
  CHECK(res.ok());
  CHECK(res.out.size() == 1000);
  CHECK(res.out.substr(res.out.size() - 7) == "100000\n");
}

TEST_CASE("format_command and tail_lines make readable messages", "[process]") {
  CHECK(format_command({"psql", "-c", "select 'x'", "a b"}) == "psql -c 'select '\\''x'\\''' 'a b'");
  CHECK(tail_lines("a\nb\nc\nd\n\n", 2) == "c\nd");
  CHECK(tail_lines("one line", 5) == "one line");
  CHECK(tail_lines("\nx\ny", 5) == "x\ny");
  CHECK(tail_lines("  \n\n") == "");
  CHECK(tail_lines("abcdef", 5, 3) == "def");
}

TEST_CASE("signal handlers count SIGINT and SIGTERM and ignore SIGPIPE", "[signals]") {
  struct sigaction old_int {}, old_term {}, old_pipe {};
  ::sigaction(SIGINT, nullptr, &old_int);
  ::sigaction(SIGTERM, nullptr, &old_term);
  ::sigaction(SIGPIPE, nullptr, &old_pipe);

  mighost::cli::install_signal_handlers();
  mighost::cli::reset_interrupts();
  CHECK(mighost::cli::interrupt_count() == 0);
  std::raise(SIGINT);
  std::raise(SIGTERM);
  CHECK(mighost::cli::interrupt_count() == 2);
  CHECK(mighost::cli::last_signal() == SIGTERM);
  std::raise(SIGPIPE);  // ignored: we are still here
  mighost::cli::reset_interrupts();
  CHECK(mighost::cli::interrupt_count() == 0);

  // Children still get the default SIGPIPE disposition (an ignored signal survives exec).
  auto res = run_process({"sh", "-c", "grep SigIgn /proc/$$/status"});
  REQUIRE(res.ok());
  unsigned long long ignored = std::stoull(res.out.substr(res.out.find(':') + 1), nullptr, 16);
  CHECK((ignored & (1ULL << (SIGPIPE - 1))) == 0);

  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
}
