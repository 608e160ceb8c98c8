-- Reads the table the fixture made; fails on purpose when asked to.
local db = require "mighost.db"
local script = require "mighost.script"
local conn = db.connect()
print("rows=" .. tostring(conn:scalar("SELECT count(*) FROM fx")))
if script.args[1] == "fail" then error("failing on purpose") end
