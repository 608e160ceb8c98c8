-- A plain copy over the demo fixture (examples/demo/fixture.sql): items -> stock_k, keyed by the
-- source's own key, so the framework may build stock_k's primary key after the rows. The note
-- goes through fw_probe(text) when the test creates it (it records whether the key exists while
-- the batches run, and can fail or end a batch on demand); `--plain-source` reads items_plain, a
-- copy of items without a unique index; `--ref-key` puts a reference rule on the key column. Used
-- by tests/framework/key_tests.sh.
local migration = require "mighost.migration"
local flag = dofile(require("mighost.script").dir .. "/flags.lua")

local m = migration.define {
  name = "keyed",
  description = "items -> stock_k, its primary key built after the rows",
  options = {plain_source = {type = "bool", help = "copy items_plain (no unique index) instead of items"},
             probe = {type = "bool", help = "map note through fw_probe(text)"},
             ref_key = {type = "bool", help = "a reference rule on the key column"},
             workers = {type = "int", default = 1, min = 1, max = 4, help = "threads for the phase"},
             batch_size = {default = 50}},
  target_ddl = [[
    CREATE TABLE stock_k (item_id text PRIMARY KEY, quantity integer NOT NULL, owner_id integer, note text);
    CREATE INDEX stock_k_owner_idx ON stock_k (owner_id);]],
  phases = {
    { name = "items",
      source = flag("--plain-source") and "items_plain" or "items", key = "id", workers = true,
      target = {table = "stock_k", key = "item_id"},
      map = {item_id = "s.id", quantity = "s.qty", owner_id = "s.owner_id",
             note = flag("--probe") and "fw_probe(s.note)" or "s.note"},
      rejects = {{"negative_quantity", "s.qty < 0"}},
      references = flag("--ref-key") and {item_id = {table = "items", key = "id", rule = "unknown_item"}} or nil },
  },
}

return m:main()
