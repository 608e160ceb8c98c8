-- A declared copy over the demo fixture (examples/demo/fixture.sql) for the captured batches of
-- tests/framework/capture_tests.sh: items -> stock_c with a reject rule (and its detail), a
-- reference rule that nulls a dangling owner, and one with a fallback and `required`, so that a
-- row can need two fixups at once.
local migration = require "mighost.migration"

local m = migration.define {
  name = "captured",
  description = "items -> stock_c, rejects and fixups logged by the batch's insert",
  target_ddl = [[
    CREATE TABLE stock_c (item_id text PRIMARY KEY, quantity integer NOT NULL, price numeric(12,2),
      owner_id integer, keeper_id integer NOT NULL, note text);]],
  phases = {
    { name = "items",
      source = "items", key = "id", workers = true,
      target = {table = "stock_c", key = "item_id"},
      map = {item_id = "s.id", quantity = "s.qty", price = "s.price", owner_id = "s.owner_id",
             keeper_id = "s.owner_id", note = "s.note"},
      rejects = {{"negative_quantity", "s.qty < 0", detail = "'qty ' || s.qty"},
                 {"no_price", "s.price IS NULL AND s.qty > 40"}},
      references = {owner_id = {table = "owners", key = "id", rule = "orphan_owner"},
                    keeper_id = {table = "owners", key = "id", rule = "keeper_replaced",
                                 fallback = "1", required = true}} },
  },
}

return m:main()
