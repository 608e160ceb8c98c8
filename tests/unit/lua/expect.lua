-- Assertions of the Lua test files (tests/unit/lua/*.lua, run by tests/support/lua_harness.cpp).
-- They raise at the caller's line, so a failure reads FILE:LINE of the test.
local M = {}

--- eq(got, want, what): got == want, else an error naming both.
function M.eq(got, want, what)
  if got ~= want then
    error(("%s: got %s, want %s"):format(what, tostring(got), tostring(want)), 2)
  end
end

--- fails(fn, pattern, what): fn() raises an error whose text matches `pattern` (plain text).
function M.fails(fn, pattern, what)
  local ok, err = pcall(fn)
  if ok then error(what .. ": no error", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error(("%s: error %q lacks %q"):format(what, tostring(err), pattern), 2)
  end
  return tostring(err)
end

return M
