-- A set-based migration over the demo fixture (examples/demo/fixture.sql) with fetch = "range":
-- the framework ships only each window's last key, size and pending count; the batch reads its
-- rows through ctx.window.source. Used by tests/framework/tests.sh (test_19_fetch_range).
local migration = require "mighost.migration"

local m = migration.define {
  name = "range_demo",
  description = "items -> stock_r, one statement per window",
  options = {workers = {type = "int", default = 1, min = 1, max = 16, help = "threads for the items phase"}},
  setup = function(ctx)
    ctx.db:exec [[CREATE TABLE IF NOT EXISTS stock_r (item_id text PRIMARY KEY REFERENCES items (id),
                    quantity integer NOT NULL CHECK (quantity >= 0), price numeric(12,2) NOT NULL)]]
  end,
  phases = {
    { name = "items", source = [[SELECT * FROM items]], key = "id", workers = true, fetch = "range",
      migrated = [[EXISTS (SELECT 1 FROM stock_r t WHERE t.item_id = s.id)]],
      batch = function(ctx, rows)
        assert(#rows == 0 and rows.count > 0, "fetch = range: no rows, a positive count")
        local w = ctx.window
        local n = ctx:write_batch({
          with = "b AS MATERIALIZED (" .. w.source .. ")",
          rejects = [[SELECT b.id AS source_key, 'negative_quantity' AS reason, 'qty ' || b.qty AS detail,
                             to_jsonb(b) AS row_data FROM b WHERE b.qty < 0]],
          write = [[INSERT INTO stock_r SELECT b.id, b.qty, COALESCE(b.price, 0) FROM b WHERE b.qty >= 0
                    ON CONFLICT (item_id) DO NOTHING]]}, unpack(w.params))
        return n
      end },
  },
  checks = {
    {name = "items_accounted", needs = "complete", sql = [[SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM stock_r t
        WHERE t.item_id = i.id) AND NOT EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'range_demo'
        AND r.source_key = i.id)]]},
  },
}

return m:main()
