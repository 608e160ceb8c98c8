-- An SQL error on line 5; the statement spans two lines.
local db = require "mighost.db"
local conn = db.connect()
conn:query("SELECT 1")
conn:query("SELECT id\n  FROM no_such_table")
