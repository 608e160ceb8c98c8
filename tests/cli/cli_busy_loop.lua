-- A pure Lua loop: JIT-compiled, it never calls back into the host.
local sys = require "mighost.sys"
sys.write("ready\n")
local i = 0
while true do i = i + 1 end
