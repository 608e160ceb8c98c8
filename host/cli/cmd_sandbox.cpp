// `mighost sandbox`: a throwaway PostgreSQL 15 until Ctrl-C.
#include "cli/command.hpp"
#include "cli/signals.hpp"

#include "sandbox/sandbox.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

namespace mighost::cli {

namespace {

class sandbox_command : public command
{
public:
  const char* name() const override { return "sandbox"; }
  const char* summary() const override
  {
    return "start a throwaway PostgreSQL 15, print its URL, wait for Ctrl-C, remove it";
  }

  void setup(CLI::App& sub, global_options& global) override
  {
    sub.add_option("--fixture", m_fixtures, "SQL file to load (repeatable, in order)")
      ->check(CLI::ExistingFile);
    sub.add_flag("--keep", m_keep, "leave the data directory behind");
    add_log_options(sub, global);
  }

  int run(CLI::App&, global_options&) override
  {
    sandbox::options so;
    so.fixtures = m_fixtures;
    so.keep = m_keep;
    sandbox::cluster box(so);
    std::printf("%s\n", box.url().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "sandbox ready (data in %s); Ctrl-C stops and removes it\n",
                 box.data_dir().c_str());
    while (interrupt_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return exit_code::ok;
  }

private:
  std::vector<std::string> m_fixtures;
  bool m_keep = false;
};

registrar<sandbox_command> reg;

} // namespace
} // namespace mighost::cli
