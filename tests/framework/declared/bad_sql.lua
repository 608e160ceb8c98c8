-- A declared mapping whose SQL fails in every batch (declared_tests.sh: the error names the
-- phase's line here, the SQLSTATE and the statement).
local migration = require "mighost.migration"

local m = migration.define {
  name = "bad_sql",
  setup = function(ctx) ctx.db:exec("CREATE TABLE IF NOT EXISTS stock_b (item_id text PRIMARY KEY, q integer)") end,
  phases = {
    { name = "items", source = "items", key = "id",
      target = {table = "stock_b", key = "item_id"},
      map = {item_id = "s.id", q = "s.qty / (s.qty - s.qty)"} },
  },
}

return m:main()
