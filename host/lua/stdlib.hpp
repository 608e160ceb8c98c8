#pragma once
/// @file Lua modules of stdlib/mighost/*.lua compiled into the binary (host/lua/embed.cmake).
#include <lua.hpp>

#include <cstddef>
#include <vector>

namespace mighost::lua {

/// One embedded Lua file.
struct embedded_module
{
  const char* name;        ///< module name for require: "mighost.migration"
  const char* chunk_name;  ///< "@stdlib/mighost/migration.lua": tracebacks name the real file
  const char* source;
  std::size_t size;
};

/// All of stdlib/mighost/*.lua (generated at build time).
const std::vector<embedded_module>& embedded_modules();

/// A C module to register in package.preload under its name.
struct native_module
{
  const char* name;
  lua_CFunction open;
};

/// Registers the embedded Lua modules and the given native ones in package.preload.
/// Throws std::runtime_error if an embedded file does not compile (a build defect).
void register_preload(lua_State* L, const std::vector<native_module>& natives);

} // namespace mighost::lua
