-- The globals a script sees must be exactly those of a plain LuaJIT state (luaL_openlibs),
-- also after requiring every mighost module. The plain state is made through the FFI from the
-- LuaJIT the binary runs on, so the comparison needs no separate luajit executable.
local ffi = require "ffi"
ffi.cdef [[
typedef struct lua_State lua_State;
lua_State *luaL_newstate(void);
void luaL_openlibs(lua_State *L);
int luaL_loadstring(lua_State *L, const char *s);
int lua_pcall(lua_State *L, int nargs, int nresults, int errfunc);
const char *lua_tolstring(lua_State *L, int idx, size_t *len);
void lua_close(lua_State *L);
]]
local list_globals = [[
  local keys = {}
  for k in pairs(_G) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return table.concat(keys, " ")
]]
local P = ffi.C.luaL_newstate()
ffi.C.luaL_openlibs(P)
assert(ffi.C.luaL_loadstring(P, list_globals) == 0 and ffi.C.lua_pcall(P, 0, 1, 0) == 0)
local plain = ffi.string(ffi.C.lua_tolstring(P, -1, nil))
ffi.C.lua_close(P)

for _, m in ipairs({"mighost.db", "mighost.log", "mighost.sys", "mighost.script"}) do require(m) end
local ours = assert(loadstring(list_globals))()
print("plain: " .. plain)
print("ours:  " .. ours)
if ours ~= plain then
  io.stderr:write("globals differ from a plain LuaJIT\n")
  return 1
end
