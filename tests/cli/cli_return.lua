-- The main chunk's integer result is the exit code.
local script = require "mighost.script"
return tonumber(script.args[1])
