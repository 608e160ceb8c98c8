-- Prints the script's facts: args joined by "|", then name and dir.
local script = require "mighost.script"
print("args=" .. table.concat(script.args, "|") .. "#" .. #script.args)
print("name=" .. script.name)
print("version=" .. require("mighost.sys").version)
