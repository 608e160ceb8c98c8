local db = require "mighost.db"
local conn = db.connect()  -- would fail against --db; must never run
local x = = 1
