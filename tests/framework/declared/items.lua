-- A declared phase over the demo fixture (examples/demo/fixture.sql): items -> stock_d, with a
-- reject rule, a reference rule, a serial column the target numbers itself and the target DDL.
-- `--stream` runs the same declaration streamed (through Lua and COPY) instead of set-based;
-- `--lua-label` maps one column with a Lua function (which streams too). Used by
-- tests/framework/declared_tests.sh.
local script = require "mighost.script"
local migration = require "mighost.migration"

local flag = dofile(script.dir .. "/flags.lua")

local m = migration.define {
  name = "declared",
  description = "items -> stock_d, declared",
  options = {stream = {type = "bool", help = "run the phase streamed"},
             lua_label = {type = "bool", help = "map label with a Lua function"},
             batch_size = {default = 50}},   -- small, so that grown batches show
  target_ddl = [[
    CREATE TABLE stock_d (n serial PRIMARY KEY, item_id text NOT NULL UNIQUE,
      quantity integer NOT NULL CHECK (quantity >= 0), price numeric(12,2) NOT NULL, owner_id integer,
      note text, label text);
    CREATE INDEX stock_d_owner_idx ON stock_d (owner_id);
    ALTER TABLE stock_d ADD CONSTRAINT stock_d_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);]],
  phases = {
    { name = "items",
      source = "items", key = "id",
      mode = flag("--stream") and "stream" or nil,
      target = {table = "stock_d", key = "item_id"},
      map = {item_id = "s.id", quantity = "s.qty", price = "COALESCE(s.price, 0)", owner_id = "s.owner_id",
             note = "s.note",
             label = flag("--lua-label") and function(row) return row.name:upper() end or "upper(s.name)"},
      rejects = {{"negative_quantity", "s.qty < 0", detail = "'qty ' || s.qty"}},
      references = {owner_id = {table = "owners", key = "id", rule = "orphan_owner"}} },
  },
}

return m:main()
