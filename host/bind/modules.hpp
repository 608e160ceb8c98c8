#pragma once
/// @file The native modules a script can require, and the state set-up that registers them.
#include "lua/state.hpp"

#include <string>
#include <vector>

namespace mighost::bind {

/// What mighost.script tells a script about its run.
struct script_info
{
  std::string path;               ///< as given on the command line
  std::vector<std::string> args;  ///< after the script name
  std::string db;                 ///< --db, or ""
};

int open_db(lua_State* L);
int open_log(lua_State* L);
int open_sys(lua_State* L);
int open_script(lua_State* L);
int open_worker(lua_State* L);  ///< mighost.worker (host/bind/worker.cpp)
int open_backup(lua_State* L);

/// Registers every native and embedded module in package.preload, the default connection and
/// the script facts; adds the script's folder to package.path.
void prepare_state(lua::state& L, const script_info& info);

/// Where sys.interrupted() reads the number of SIGINT/SIGTERM received (set by the CLI).
void set_interrupt_source(int (*count)());
/// How many interrupts abort the script at once (1, or 2 after sys.defer_interrupts(true)).
int interrupt_threshold() noexcept;

/// tostring() of any value, honouring __tostring.
std::string luaL_tolstring_compat(lua_State* L, int idx);

} // namespace mighost::bind
