-- Not idempotent and not dry-run aware: every run inserts a row. `mighost test` must say so.
local db = require "mighost.db"
local c = db.connect()
c:exec("CREATE TABLE IF NOT EXISTS t (x int)")
c:exec("INSERT INTO t VALUES (1)")
