-- A Lua runtime error on line 4, one call deep: the report names the line and has a traceback.
local function explode(t)
  local x = nil
  return x.field + t  -- line 4
end
explode(1)
