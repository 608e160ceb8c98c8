#include "cli/script_runner.hpp"

#include "cli/command.hpp"
#include "cli/signals.hpp"

#include "bind/modules.hpp"
#include "pg/cancel.hpp"
#include "pg/conninfo.hpp"
#include "sandbox/sandbox.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

namespace mighost::cli {

namespace {

/// Raised inside Lua by the hook the watchdog installs when the operator interrupts.
void interrupt_hook(lua_State* L, lua_Debug*)
{
  lua_sethook(L, nullptr, 0, 0);
  luaL_error(L, "interrupted by signal (Ctrl-C / SIGTERM)");
}

/// Watches the signal counter; once it reaches the script's threshold it arms a Lua hook, which
/// raises an error at the next Lua instruction (lua_sethook is safe to call asynchronously).
class interrupt_watchdog
{
public:
  explicit interrupt_watchdog(lua_State* L) : m_L(L), m_thread([this] { loop(); }) {}
  ~interrupt_watchdog()
  {
    m_stop = true;
    m_thread.join();
  }
  interrupt_watchdog(const interrupt_watchdog&) = delete;
  interrupt_watchdog& operator=(const interrupt_watchdog&) = delete;

private:
  void loop()
  {
    while (!m_stop) {
      if (!m_fired && interrupt_count() >= bind::interrupt_threshold()) {
        m_fired = true;
        // Count events only: they fire in Lua code, never on the call of a C message handler,
        // so an error already unwinding (e.g. the cancelled statement's) is not disturbed.
        lua_sethook(m_L, interrupt_hook, LUA_MASKCOUNT, 1);
        pg::cancel_all();  // a statement in flight ends now (57014), not when it would finish
      } else if (m_fired && interrupt_count() > bind::interrupt_threshold()) {
        // Still running after one more signal: JIT-compiled loops never see the hook. Stop the
        // sandboxes (their destructors will not run) and leave.
        std::fprintf(stderr, "mighost: interrupted again; exiting now\n");
        sandbox::stop_all();
        std::_Exit(130);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  lua_State* m_L;
  std::atomic<bool> m_stop{false};
  bool m_fired = false;
  std::thread m_thread;
};

int run_in_state(const run_options& opts, const std::string& db)
{
  bind::script_info info{opts.script, opts.script_args, db, opts.command, opts.read_only, opts.throwaway_db};
  lua::state L;
  bind::prepare_state(L, info);
  lua::call_status st = lua::load_file(L, opts.script);
  if (!st.ok) {
    std::fprintf(stderr, "mighost: %s\n", st.message.c_str());
    return exit_code::error;
  }
  interrupt_watchdog watchdog(L);
  st = lua::pcall(L, 0, 1);
  std::fflush(stdout);  // what the script printed comes before any error
  if (!st.ok) {
    if (!st.message.empty())
      std::fprintf(stderr, "%s%s\n", st.exit_request ? "" : "mighost: error: ",
                   pg::mask_password(st.message).c_str());
    if (!st.traceback.empty()) std::fprintf(stderr, "%s\n", st.traceback.c_str());
    return st.exit_code;
  }
  int code = lua_isnumber(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : exit_code::ok;
  lua_pop(L, 1);
  return code;
}

} // namespace

int run_script(const run_options& opts)
{
  {
    // Syntax check before a sandbox is started or a connection opened.
    lua::state probe;
    lua::call_status st = lua::load_file(probe, opts.script);
    if (!st.ok) {
      std::fprintf(stderr, "mighost: %s\n", st.message.c_str());
      return exit_code::error;
    }
  }
  std::optional<sandbox::cluster> box;
  std::string db = opts.db;
  if (opts.sandbox) {
    sandbox::options so;
    so.fixtures = opts.fixtures;
    so.keep = opts.keep_sandbox;
    box.emplace(so);
    db = box->url();
    spdlog::info("sandbox PostgreSQL at {}", db);
  }
  return run_in_state(opts, db);
}

} // namespace mighost::cli
