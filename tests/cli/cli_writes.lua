-- A plain script (no mighost.migration) that writes: `mighost verify` must not let it change
-- anything, `mighost run` does.
local db = require "mighost.db"
local conn = db.connect()
conn:exec("CREATE TABLE cli_verify_probe (x int)")
print("wrote cli_verify_probe")
