-- Demo migration (the tutorial of stdlib/README.md, ## mighost.migration; used by tests/framework).
--
-- Runbook it replaces: "back up items; create stock; copy every item into stock (negative
-- quantities are rejected, unknown owners are set to NULL and noted); recompute the owners'
-- totals from the queue; add the index; check that every item is accounted for."
local db = require "mighost.db"
local migration = require "mighost.migration"

local REJ = [[EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'demo'
                      AND r.source_table = 'items' AND r.source_key = i.id)]]

local m = migration.define {
  name = "demo",
  description = "items -> stock (one stock row per item); owners' totals recomputed from a queue",
  options = {
    workers = {type = "int", default = 1, min = 1, max = 16, help = "threads for the items and totals phases"},
    sleep_ms = {type = "int", default = 0, min = 0, help = "pg_sleep in the middle of every batch (tests)"},
  },

  backup = {"items"},   -- mig_backup_demo.items: the snapshot the items phase reads

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('items') IS NOT NULL AND to_regclass('owners') IS NOT NULL]]},
    {name = "no_negative_prices", sql = [[SELECT count(*) FROM items WHERE price < 0]], expected = 0},
  },

  setup = function(ctx)
    ctx.db:exec [[
      CREATE TABLE IF NOT EXISTS stock (
        item_id  text PRIMARY KEY REFERENCES items (id),
        quantity integer NOT NULL CHECK (quantity >= 0),
        price    numeric(12,2) NOT NULL,
        owner_id integer REFERENCES owners (id),
        note     text);
      CREATE TABLE IF NOT EXISTS owner_queue (owner_id integer PRIMARY KEY REFERENCES owners (id));
      CREATE TABLE IF NOT EXISTS owner_totals (owner_id integer PRIMARY KEY REFERENCES owners (id),
                                               total bigint NOT NULL)]]
  end,

  phases = {
    { name = "items",
      source = [[SELECT * FROM mig_backup_demo.items]],
      key = "id",                                          -- ordered COLLATE "C" (a text key)
      migrated = [[EXISTS (SELECT 1 FROM stock t WHERE t.item_id = s.id)]],
      workers = true,
      batch = function(ctx, rows)
        local written, owners = 0, {}
        for i, item in ipairs(rows) do
          if i == math.floor(#rows / 2) + 1 and ctx.options.sleep_ms > 0 then
            ctx.db:exec("SELECT pg_sleep($1)", ctx.options.sleep_ms / 1000)  -- half the batch is written
          end
          if item.qty < 0 then
            ctx:reject(item, "negative_quantity", "qty " .. item.qty)
          else
            local owner = not db.is_null(item.owner_id) and item.owner_id or nil
            if owner and not ctx.db:scalar("SELECT true FROM owners WHERE id = $1", owner) then
              ctx:fixup(item, "owner_id", "orphan_owner", owner, nil)
              owner = nil
            end
            written = written + ctx.db:exec([[INSERT INTO stock (item_id, quantity, price, owner_id, note)
                SELECT id, qty, COALESCE(price, 0), $2, note FROM mig_backup_demo.items WHERE id = $1
                ON CONFLICT (item_id) DO NOTHING]], item.id, owner)
            if owner then owners[#owners + 1] = owner end
          end
        end
        table.sort(owners)  -- one order for every worker: no deadlock between their queue inserts
        for _, o in ipairs(owners) do
          ctx.db:exec("INSERT INTO owner_queue VALUES ($1) ON CONFLICT DO NOTHING", o)
        end
        return written
      end },

    { name = "totals", every = 5, workers = true,
      total = [[SELECT count(*) FROM owner_queue]],
      step = function(ctx)   -- one owner per transaction, claimed so that workers never collide
        local owner = ctx.db:scalar([[DELETE FROM owner_queue WHERE owner_id = (SELECT owner_id FROM owner_queue
            ORDER BY owner_id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING owner_id]])
        if not owner then return 0 end
        ctx.db:exec([[INSERT INTO owner_totals (owner_id, total)
            SELECT $1, COALESCE(sum(quantity), 0) FROM stock WHERE owner_id = $1
            ON CONFLICT (owner_id) DO UPDATE SET total = EXCLUDED.total]], owner)
        return 1
      end,
      counts = function(ctx, done) return {recomputed = done} end },
  },

  finalize = function(ctx)
    ctx.db:exec("CREATE INDEX IF NOT EXISTS stock_owner_idx ON stock (owner_id)")
  end,

  checks = {
    {name = "items_accounted", needs = "complete", sql = [[SELECT count(*) FROM mig_backup_demo.items i
        WHERE NOT EXISTS (SELECT 1 FROM stock t WHERE t.item_id = i.id) AND NOT ]] .. REJ},
    {name = "no_double_resolution", sql = [[SELECT count(*) FROM mig_backup_demo.items i
        JOIN stock t ON t.item_id = i.id WHERE ]] .. REJ},
    {name = "stock_values", sql = [[SELECT count(*) FROM mig_backup_demo.items i JOIN stock t ON t.item_id = i.id
        WHERE (t.quantity, t.price, t.note) IS DISTINCT FROM (i.qty, COALESCE(i.price, 0), i.note)
           OR t.owner_id IS DISTINCT FROM (SELECT o.id FROM owners o WHERE o.id = i.owner_id)]]},
    {name = "rejects_valid", sql = [[SELECT count(*) FROM mig_meta.rejects r JOIN mig_backup_demo.items i
        ON i.id = r.source_key WHERE r.migration = 'demo' AND NOT (r.reason = 'negative_quantity' AND i.qty < 0)]]},
    {name = "fixups_logged", sql = [[SELECT count(*) FROM mig_backup_demo.items i JOIN stock t ON t.item_id = i.id
        WHERE i.owner_id IS NOT NULL AND t.owner_id IS NULL AND NOT EXISTS (SELECT 1 FROM mig_meta.fixups f
          WHERE f.migration = 'demo' AND f.source_key = i.id AND f.rule = 'orphan_owner')]]},
    {name = "totals_match", sql = [[SELECT count(*) FROM owners o
        LEFT JOIN owner_totals ot ON ot.owner_id = o.id
        WHERE NOT EXISTS (SELECT 1 FROM owner_queue q WHERE q.owner_id = o.id)
          AND COALESCE(ot.total, 0) <> (SELECT COALESCE(sum(quantity), 0) FROM stock WHERE owner_id = o.id)]]},
    {name = "items_unchanged", sql = [[SELECT count(*) FROM mig_backup_demo.items s LEFT JOIN items i ON i.id = s.id
        WHERE i.id IS NULL OR to_jsonb(i) <> to_jsonb(s)]]},
    {name = "index_present", needs = "finalize",
     sql = [[SELECT CASE WHEN to_regclass('stock_owner_idx') IS NULL THEN 1 ELSE 0 END]]},
  },

  rollback = [[
    BEGIN;
    DROP TABLE IF EXISTS owner_totals, owner_queue, stock;
    DELETE FROM mig_meta.rejects WHERE migration = 'demo';
    DELETE FROM mig_meta.fixups  WHERE migration = 'demo';
    COMMIT;]],
}

return m:main()
