-- The declared test scripts' switches: flag("--name") is true when the script was run with it.
-- Read before migration.define (which parses the options), since they change the declaration.
local script = require "mighost.script"

return function(name)
  for _, a in ipairs(script.args or {}) do if a == name then return true end end
  return false
end
