-- A module next to cli_require.lua.
local M = {}
function M.greet(who) return "hello " .. who .. " from cli_helper" end
return M
