-- script.exit(code, message) from a nested call: the code, the message, no traceback.
local script = require "mighost.script"
local function finish() script.exit(tonumber(script.args[1]), script.args[2]) end
finish()
error("not reached")
