#pragma once
/// @file The native modules a script can require, and the state set-up that registers them.
#include "lua/state.hpp"

#include <string>
#include <vector>

namespace mighost::bind {

/// The mighost command that runs a script (`script.command`).
enum class script_command
{
  run,
  verify,
  rollback,
};

/// The command's name as the CLI spells it ("run", "verify", "rollback").
const char* command_name(script_command c) noexcept;

/// What mighost.script tells a script about its run.
struct script_info
{
  std::string path;               ///< as given on the command line
  std::vector<std::string> args;  ///< after the script name
  std::string db;                 ///< --db, or ""
  script_command command = script_command::run;
  bool read_only = false;  ///< every session the script opens is read-only (verify)
  bool throwaway_db = false;  ///< `db` is a sandbox removed when mighost ends
};

int open_db(lua_State* L);
int open_log(lua_State* L);
int open_sys(lua_State* L);
int open_script(lua_State* L);
int open_worker(lua_State* L);  ///< mighost.worker (host/bind/worker.cpp)
int open_backup(lua_State* L);

/// Registers every native and embedded module in package.preload, the default connection and
/// the script facts (the state keeps its own copy of `info`); adds the script's folder to
/// package.path.
void prepare_state(lua::state& L, const script_info& info);

/// The script facts prepare_state gave this state, or nullptr for a state it did not prepare.
const script_info* script_info_of(lua_State* L);

/// Where sys.interrupted() reads the number of SIGINT/SIGTERM received (set by the CLI).
void set_interrupt_source(int (*count)());
/// How many interrupts abort the script at once (1, or 2 after sys.defer_interrupts(true)).
int interrupt_threshold() noexcept;

/// tostring() of any value, honouring __tostring.
std::string luaL_tolstring_compat(lua_State* L, int idx);

} // namespace mighost::bind
