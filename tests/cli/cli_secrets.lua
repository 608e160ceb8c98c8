-- Puts the operator's connection string through every output path a script has.
local db = require "mighost.db"
local log = require "mighost.log"
local script = require "mighost.script"
log.info("connecting to %s", script.db)
log.warn(log.mask(script.db))
local conn = db.connect()
log.info("connected: %s", tostring(conn))
print("url: " .. conn:url())
local bad = script.db:gsub("host=[^&]*", "host=/nonexistent")
local ok, err = pcall(db.connect, bad)
print("refused: " .. tostring(err))
log.error("refused: %s", tostring(err))
conn:query("SELECT * FROM no_such_table")
