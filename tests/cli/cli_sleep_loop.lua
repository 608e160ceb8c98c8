-- Runs statements until interrupted.
local db = require "mighost.db"
local sys = require "mighost.sys"
local conn = db.connect()
sys.write("ready\n")
for _ = 1, 6000 do conn:query("SELECT pg_sleep(0.05)") end
sys.write("not interrupted\n")
