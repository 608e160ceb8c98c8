-- stock_batches: items -> stock_batches, zero data loss (docs/stock_batches.md).
--
-- Runbook it replaces (seed 003): "back up items; create stock_batches; copy every item into one
-- batch; add items.useBatchSystem (stays false); check that batch count = item count, quantities
-- and totals match and no batch is orphaned". Unlike the seed, every item is accounted for:
-- negative quantities and NaN/Infinity/negative costs are rejected, dangling location and user
-- references are nulled and logged as fixups, batch ids are deterministic ('mig_' || md5(id)).
--
-- Every batch is ONE statement over the window's key range (ctx.window.source, an index range scan
-- of the pending items): data-modifying CTEs insert the rejects, the fixups and the batches
-- (ctx:write_batch). Values are copied inside PostgreSQL (floats bit for bit).
local db = require "mighost.db"
local schema = require "mighost.schema"
local migration = require "mighost.migration"

-- The rejects rule of §3 (first matching rule wins), over alias i; NULL when the item migrates.
local REJECT_REASON = [[CASE
  WHEN i."quantityInStock" < 0 THEN 'negative_quantity'
  WHEN i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0 THEN 'invalid_cost'
  WHEN i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0 THEN 'invalid_cost'
END]]

-- The items of the batch (ctx.window.source: the window's key range, its pending items only),
-- read once: the item's columns, the rule that applies (__reason), the source row for a reject
-- and the location / user ids that exist.
local function batch_items(source)
  return [[b AS MATERIALIZED (
  SELECT i.*, x.__reason, CASE WHEN x.__reason IS NOT NULL THEN to_jsonb(i) END AS __row_data,
         l."id" AS __location_id, u."id" AS __user_id
    FROM (]] .. source .. [[) i
   CROSS JOIN LATERAL (SELECT ]] .. REJECT_REASON .. [[ AS __reason) x
    LEFT JOIN "locations" l ON l."id" = i."locationId"
    LEFT JOIN "users" u ON u."id" = i."assignedUserId")]]
end

-- The rejects of the batch: source_key, reason, detail, row_data (for ctx:write_batch).
local REJECTS = [[SELECT b."id" AS source_key, b.__reason AS reason, CASE
    WHEN b."quantityInStock" < 0 THEN 'quantityInStock ' || b."quantityInStock"
    WHEN b."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR b."costPerUnitUSD" < 0
      THEN 'costPerUnitUSD ' || b."costPerUnitUSD"
    ELSE 'freightCostUSD ' || b."freightCostUSD" END AS detail, b.__row_data AS row_data
  FROM b WHERE b.__reason IS NOT NULL]]

-- The fixups of the batch: dangling references of migrating items, nulled. (The items with one are
-- picked before the VALUES pair is built, which then covers only them.)
local FIXUPS = [[SELECT b."id" AS source_key, f.field, f.rule, f.old_value, NULL AS new_value
  FROM b CROSS JOIN LATERAL (VALUES ('locationId', 'orphan_location', b."locationId", b.__location_id),
                                    ('assignedUserId', 'orphan_user', b."assignedUserId", b.__user_id)) f(field, rule, old_value, kept)
 WHERE b.__reason IS NULL AND ((b."locationId" IS NOT NULL AND b.__location_id IS NULL)
                               OR (b."assignedUserId" IS NOT NULL AND b.__user_id IS NULL))
   AND f.old_value IS NOT NULL AND f.kept IS NULL]]

-- The mapping table of §3; an existing batch is never rewritten.
local INSERT_SQL = [[
  INSERT INTO "stock_batches" ("id", "quantity", "status", "costPerUnitUSD", "freightCostUSD",
      "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes", "createdAt", "updatedAt",
      "itemId", "locationId", "assignedUserId")
  SELECT 'mig_' || md5(b."id"), b."quantityInStock", COALESCE(b."status", 'ToOrder'),
         COALESCE(b."costPerUnitUSD", 0), COALESCE(b."freightCostUSD", 0),
         b."orderDate", b."expectedArrival", b."orderNumber", b."arrivedDate", b."notes", b."createdAt", b."updatedAt",
         b."id", b.__location_id, b.__user_id
    FROM b WHERE b.__reason IS NULL
  ON CONFLICT ("id") DO NOTHING]]

-- A first run's windows (ctx.window.all_pending: no migrated batch existed when the phase began)
-- cannot meet an existing id, so they insert without ON CONFLICT's per-row speculative insertion
-- (~15 % of psql's INSERT … SELECT on 1M items); a duplicate would fail the batch, never be lost.
local INSERT_FRESH, replaced = INSERT_SQL:gsub('%s*ON CONFLICT %("id"%) DO NOTHING$', "")
assert(replaced == 1, "INSERT_SQL must end with its ON CONFLICT clause")

-- §2 as the spec writes it: the table with its key and CHECK, then its indexes and foreign keys.
local TARGET_DDL = [[
CREATE TABLE "stock_batches" (
  "id" TEXT NOT NULL,
  "quantity" INTEGER NOT NULL DEFAULT 0,
  "status" "Status" NOT NULL DEFAULT 'ToOrder',
  "costPerUnitUSD" DOUBLE PRECISION NOT NULL,
  "freightCostUSD" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "orderDate" TIMESTAMP(3), "expectedArrival" TIMESTAMP(3), "orderNumber" TEXT, "arrivedDate" TIMESTAMP(3),
  "notes" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" TIMESTAMP(3) NOT NULL,
  "itemId" TEXT NOT NULL, "locationId" TEXT, "assignedUserId" TEXT,
  CONSTRAINT "stock_batches_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "stock_batches_quantity_check" CHECK ("quantity" >= 0));
CREATE INDEX "stock_batches_itemId_idx" ON "stock_batches"("itemId");
CREATE INDEX "stock_batches_locationId_idx" ON "stock_batches"("locationId");
CREATE INDEX "stock_batches_status_idx" ON "stock_batches"("status");
ALTER TABLE "stock_batches" ADD CONSTRAINT "stock_batches_itemId_fkey" FOREIGN KEY ("itemId")
  REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "stock_batches" ADD CONSTRAINT "stock_batches_locationId_fkey" FOREIGN KEY ("locationId")
  REFERENCES "locations"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "stock_batches" ADD CONSTRAINT "stock_batches_assignedUserId_fkey" FOREIGN KEY ("assignedUserId")
  REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;]]

-- TARGET_DDL is applied the way pg_restore and pgloader load a table. Setup creates the table with
-- its key and CHECK, which the batches need ("insert if absent", the migrated probe, the quantity
-- rule). Finalize adds the secondary indexes and foreign keys, each built or validated once over all
-- rows, instead of three index insertions and three foreign-key lookups per migrated row.
-- Until a complete run has finalized, the table (new, unused by the application: useBatchSystem
-- stays false) has neither; each later statement runs only when its object is missing, so a
-- resumed, repeated or partial-then-complete run ends with exactly §2. An item deleted while the
-- batches run (the runbook stops the application first) makes the itemId key fail in finalize:
-- finalize is rolled back and the run ends with status error, naming the key.
local TARGET_TABLE, LATER = TARGET_DDL:match("^(CREATE TABLE .-%);)\n(.*)$")
assert(TARGET_TABLE and LATER, "TARGET_DDL must start with its CREATE TABLE")

local function complete_target(ctx)
  for stmt in LATER:gmatch("(.-;)\n?") do
    local index = stmt:match('^CREATE INDEX "([^"]+)"')
    local fkey = stmt:match('ADD CONSTRAINT "([^"]+)"')
    local exists = index and ctx.db:scalar("SELECT to_regclass($1) IS NOT NULL", db.quote_ident(index))
      or fkey and ctx.db:scalar([[SELECT EXISTS (SELECT 1 FROM pg_constraint
           WHERE conrelid = '"stock_batches"'::regclass AND conname = $1)]], fkey)
    assert(index or fkey, "TARGET_DDL: neither an index nor a constraint: " .. stmt)
    if not exists then ctx.db:exec(stmt) end
  end
end

-- Section-2 columns and their types (format_type), for target_compatible.
local TARGET_COLUMNS = {
  id = "text", quantity = "integer", status = '"Status"', costPerUnitUSD = "double precision",
  freightCostUSD = "double precision", orderDate = "timestamp(3) without time zone",
  expectedArrival = "timestamp(3) without time zone", orderNumber = "text",
  arrivedDate = "timestamp(3) without time zone", notes = "text",
  createdAt = "timestamp(3) without time zone", updatedAt = "timestamp(3) without time zone",
  itemId = "text", locationId = "text", assignedUserId = "text",
}

local function target_compatible(ctx)
  local cols = schema.columns(ctx.db, "stock_batches")
  if not cols then return true, "stock_batches does not exist yet" end
  local have, bad = {}, {}
  for _, c in ipairs(cols) do have[c.name] = c.type end
  for name, want in pairs(TARGET_COLUMNS) do
    if have[name] ~= want then
      bad[#bad + 1] = string.format('"%s" is %s, expected %s', name, have[name] or "missing", want)
    end
  end
  table.sort(bad)
  if #bad > 0 then return false, "stock_batches: " .. table.concat(bad, "; ") end
  return true, "stock_batches has the section-2 columns"
end

-- Checks of §5. REJ(key): the item has a reject row.
local function REJ(key)
  return [[EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'stock_batches'
      AND r.source_table = 'items' AND r.source_key = ]] .. key .. ")"
end
local MB = [[(SELECT * FROM "stock_batches" WHERE "id" LIKE 'mig\_%')]]

-- items_unchanged. The spec compares (to_jsonb(i) - 'useBatchSystem') <> to_jsonb(s); this compares
-- the backup's columns one by one (IS DISTINCT FROM: the same verdict for every value — NaN = NaN,
-- -0 = 0 — without building 2M jsonb values). When "items" no longer has
-- exactly the backup's columns (same types) plus "useBatchSystem", every row differs, as with jsonb.
local ITEMS_UNCHANGED_SPEC = [[SELECT count(*) FROM mig_backup_stock_batches.items s
    LEFT JOIN "items" i ON i."id" = s."id"
    WHERE i."id" IS NULL OR (to_jsonb(i) - 'useBatchSystem') <> to_jsonb(s) OR i."useBatchSystem" IS DISTINCT FROM false]]
local function items_unchanged(ctx)
  local backup = schema.columns(ctx.db, "mig_backup_stock_batches.items")
  local items = schema.columns(ctx.db, "items")
  if not backup or not items then return ITEMS_UNCHANGED_SPEC end  -- fails as the spec's query does
  local type_of = {}
  for _, c in ipairs(items) do type_of[c.name] = c.type end
  local same = #items == #backup + 1 and type_of.useBatchSystem ~= nil
  local left, right = {}, {}
  for i, c in ipairs(backup) do
    same = same and type_of[c.name] == c.type
    left[i], right[i] = "i." .. db.quote_ident(c.name), "s." .. db.quote_ident(c.name)
  end
  if not same then return "SELECT count(*) FROM mig_backup_stock_batches.items" end
  return [[SELECT count(*) FROM mig_backup_stock_batches.items s LEFT JOIN "items" i ON i."id" = s."id"
    WHERE i."id" IS NULL OR (]] .. table.concat(left, ", ") .. ") IS DISTINCT FROM (" .. table.concat(right, ", ")
    .. [[) OR i."useBatchSystem" IS DISTINCT FROM false]]
end

local m = migration.define {
  name = "stock_batches",
  description = "items -> stock_batches (one batch per item; bad figures rejected, dangling references nulled)",

  options = {batch_size = {default = 5000}},   -- set-based batches: fewer, larger transactions

  backup = {"items"},   -- mig_backup_stock_batches.items, before the ALTER; items_unchanged compares to it

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('"items"') IS NOT NULL AND to_regclass('"locations"') IS NOT NULL
        AND to_regclass('"users"') IS NOT NULL AND to_regtype('"Status"') IS NOT NULL]]},
    {name = "target_compatible", check = target_compatible},
  },

  setup = function(ctx)
    if not schema.table_exists(ctx.db, "stock_batches") then ctx.db:exec(TARGET_TABLE) end
    ctx.db:exec([[ALTER TABLE "items" ADD COLUMN IF NOT EXISTS "useBatchSystem" BOOLEAN DEFAULT false]])
  end,

  phases = {
    { name = "items",
      source = [[SELECT * FROM "items"]],
      key = "id",                                     -- ordered COLLATE "C"
      migrated = [[EXISTS (SELECT 1 FROM "stock_batches" b WHERE b."id" = 'mig_' || md5(s."id"))]],
      -- the same count as `migrated` probed per item, as one hash join
      migrated_count = [[SELECT count(*) FROM "items" i JOIN "stock_batches" b ON b."id" = 'mig_' || md5(i."id")]],
      -- no migrated batch yet: a first run, whose windows need no per-item pending probe
      fresh = [[SELECT NOT EXISTS (SELECT 1 FROM "stock_batches" WHERE "id" LIKE 'mig\_%')]],
      fetch = "range",                                -- the batch reads its items itself (ctx.window)
      batch = function(ctx)
        local w = ctx.window
        return ctx:write_batch({with = batch_items(w.source), rejects = REJECTS, fixups = FIXUPS,
                                write = w.all_pending and INSERT_FRESH or INSERT_SQL},
          unpack(w.params))
      end },
  },

  finalize = complete_target,   -- before the checks, in the finalize transaction

  checks = {
    {name = "items_accounted", needs = "complete", sql = [[SELECT count(*) FROM "items" i
        WHERE NOT EXISTS (SELECT 1 FROM "stock_batches" b WHERE b."id" = 'mig_' || md5(i."id")) AND NOT ]] .. REJ 'i."id"'},
    {name = "no_double_resolution", sql = [[SELECT count(*) FROM "items" i
        JOIN "stock_batches" b ON b."id" = 'mig_' || md5(i."id") WHERE ]] .. REJ 'i."id"'},
    -- batch_values: the spec's query with the location / user subselects as LEFT JOINs on their
    -- primary keys (the same values; a hash join instead of 2M index probes).
    {name = "batch_values", sql = [[SELECT count(*) FROM "items" i JOIN "stock_batches" b ON b."id" = 'mig_' || md5(i."id")
        LEFT JOIN "locations" l ON l."id" = i."locationId" LEFT JOIN "users" u ON u."id" = i."assignedUserId"
        WHERE (b."itemId", b."quantity", b."status", b."costPerUnitUSD", b."freightCostUSD", b."orderDate",
               b."expectedArrival", b."orderNumber", b."arrivedDate", b."notes", b."createdAt", b."updatedAt",
               b."locationId", b."assignedUserId")
          IS DISTINCT FROM (i."id", i."quantityInStock", COALESCE(i."status", 'ToOrder'), COALESCE(i."costPerUnitUSD", 0),
               COALESCE(i."freightCostUSD", 0), i."orderDate", i."expectedArrival", i."orderNumber", i."arrivedDate",
               i."notes", i."createdAt", i."updatedAt", l."id", u."id")]]},
    -- quantity_match and totals_match compare every non-rejected item: they only hold once all are
    -- resolved, so a partial run (--limit) skips them like the *_accounted checks.
    -- (the spec's correlated sum per item as a join with the sums per item)
    {name = "quantity_match", needs = "complete", sql = [[SELECT count(*) FROM "items" i
        LEFT JOIN (SELECT b."itemId", sum(b."quantity") AS q FROM "stock_batches" b WHERE b."id" LIKE 'mig\_%'
                    GROUP BY b."itemId") m ON m."itemId" = i."id"
        WHERE NOT ]] .. REJ 'i."id"' .. [[ AND i."quantityInStock" <> COALESCE(m.q, 0)]]},
    {name = "totals_match", needs = "complete", sql = [[SELECT abs((SELECT COALESCE(sum("quantityInStock"), 0) FROM "items" i
        WHERE NOT ]] .. REJ 'i."id"' .. [[) - (SELECT COALESCE(sum("quantity"), 0) FROM ]] .. MB .. [[ mb))]]},
    {name = "rejects_valid", sql = [[SELECT count(*) FROM mig_meta.rejects r JOIN "items" i ON i."id" = r.source_key
        WHERE r.migration = 'stock_batches' AND NOT CASE r.reason
          WHEN 'negative_quantity' THEN i."quantityInStock" < 0
          WHEN 'invalid_cost' THEN i."quantityInStock" >= 0 AND (i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity')
               OR i."costPerUnitUSD" < 0 OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0)
          ELSE false END]]},
    {name = "items_unchanged", sql = items_unchanged},
    {name = "orphaned_batches", sql = [[SELECT count(*) FROM "stock_batches" b
        LEFT JOIN "items" i ON i."id" = b."itemId" WHERE i."id" IS NULL]]},
    {name = "fixups_logged", sql = [[SELECT count(*) FROM "items" i JOIN "stock_batches" b ON b."id" = 'mig_' || md5(i."id")
        WHERE ((i."locationId" IS NOT NULL AND b."locationId" IS NULL)
            OR (i."assignedUserId" IS NOT NULL AND b."assignedUserId" IS NULL))
          AND NOT EXISTS (SELECT 1 FROM mig_meta.fixups f WHERE f.migration = 'stock_batches'
                          AND f.source_key = i."id" AND f.rule IN ('orphan_location', 'orphan_user'))]]},
  },

  rollback = [[
    BEGIN;
    DROP TABLE "stock_batches" CASCADE;
    ALTER TABLE "items" DROP COLUMN "useBatchSystem";
    DELETE FROM mig_meta.rejects WHERE migration = 'stock_batches';
    DELETE FROM mig_meta.fixups  WHERE migration = 'stock_batches';
    COMMIT;]],
}

return m:main()
