-- A declared migration whose schema, source and target names carry quotes, ';', '--', a
-- backslash and Unicode (tests/faults/hostile_input.sh): every one must reach SQL quoted.
local db = require "mighost.db"
local migration = require "mighost.migration"
local SCHEMA = [[sch"ema;--]]
local SRC = SCHEMA .. "." .. [[we"ird'; DROP TABLE canary; --]]
local TGT = [[tär\get"; DELETE FROM canary; --]]
return migration.define {
  name = "hostile_names",
  backup = {SRC},
  target_ddl = "CREATE TABLE " .. db.quote_ident(TGT) .. " (id integer PRIMARY KEY, v text NOT NULL)",
  phases = {
    { name = "rows", source = SRC, key = "id",
      target = {table = TGT, key = "id"},
      map = {id = "s.id", v = "s.v"},
      rejects = {{"empty_value", "s.v = ''"}} },
  },
}:main()
