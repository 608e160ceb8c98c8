-- stock_batches: items -> stock_batches, zero data loss. What it does, its options, codes, checks
-- and rollback: docs/stock_batches.md.
--
-- Runbook it replaces: "back up items; create stock_batches; copy every item into one batch; add
-- items.useBatchSystem (stays false); check that batch count = item count, quantities and totals
-- match and no batch is orphaned". Unlike that runbook, every item is accounted for: negative
-- quantities and NaN/Infinity/negative costs are rejected, dangling location and user references
-- are nulled and logged as fixups, batch ids are deterministic ('mig_' || md5(id)).
local db = require "mighost.db"
local schema = require "mighost.schema"
local migration = require "mighost.migration"

-- The target table as the spec writes it. The framework creates it with its key and CHECK before
-- the rows and adds the indexes and foreign keys after them (each built once over all rows).
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

local BAD_FLOAT = "IN ('NaN', 'Infinity', '-Infinity')"

-- Migrated batches of items; a non-rejected item (the framework's own reject test).
local MIGRATED = [[(SELECT * FROM "stock_batches" WHERE "id" LIKE 'mig\_%')]]
local NOT_REJECTED = [[NOT EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'stock_batches'
    AND r.source_table = 'items' AND r.source_key = i."id")]]

-- items_unchanged: items as backed up, plus "useBatchSystem" = false. The backup's columns are
-- compared one by one (IS DISTINCT FROM gives the spec's jsonb verdict for every value, NaN = NaN
-- and -0 = 0 included, without building 2M jsonb values); once "items" has other columns than
-- the backup's plus "useBatchSystem", every row differs, as with the spec's jsonb comparison.
local function items_unchanged(ctx)
  local backup = schema.columns(ctx.db, "mig_backup_stock_batches.items")
  local items = schema.columns(ctx.db, "items")
  if not backup or not items then return [[SELECT count(*) FROM "items"]] end
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
  options = {batch_size = {default = 5000}},   -- one statement per batch: fewer, larger transactions
  backup = {"items"},                          -- mig_backup_stock_batches.items; items_unchanged compares to it
  target_ddl = TARGET_DDL,

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('"items"') IS NOT NULL AND to_regclass('"locations"') IS NOT NULL
        AND to_regclass('"users"') IS NOT NULL AND to_regtype('"Status"') IS NOT NULL]]},
  },

  setup = function(ctx)
    ctx.db:exec([[ALTER TABLE "items" ADD COLUMN IF NOT EXISTS "useBatchSystem" BOOLEAN DEFAULT false]])
  end,

  phases = {
    { name = "items",
      source = "items", key = "id",
      target = {table = "stock_batches", key = "id", owned = [["id" LIKE 'mig\_%']]},   -- app batches stay
      map = {
        id = [['mig_' || md5(s."id")]],
        quantity = [[s."quantityInStock"]],
        status = [[COALESCE(s."status", 'ToOrder')]],
        costPerUnitUSD = [[COALESCE(s."costPerUnitUSD", 0)]],
        freightCostUSD = [[COALESCE(s."freightCostUSD", 0)]],
        orderDate = [[s."orderDate"]], expectedArrival = [[s."expectedArrival"]], orderNumber = [[s."orderNumber"]],
        arrivedDate = [[s."arrivedDate"]], notes = [[s."notes"]],
        createdAt = [[s."createdAt"]], updatedAt = [[s."updatedAt"]],
        itemId = [[s."id"]], locationId = [[s."locationId"]], assignedUserId = [[s."assignedUserId"]],
      },
      rejects = {   -- first match wins
        {"negative_quantity", [[s."quantityInStock" < 0]], detail = [['quantityInStock ' || s."quantityInStock"]]},
        {"invalid_cost", [[s."costPerUnitUSD" ]] .. BAD_FLOAT .. [[ OR s."costPerUnitUSD" < 0]],
         detail = [['costPerUnitUSD ' || s."costPerUnitUSD"]]},
        {"invalid_cost", [[s."freightCostUSD" ]] .. BAD_FLOAT .. [[ OR s."freightCostUSD" < 0]],
         detail = [['freightCostUSD ' || s."freightCostUSD"]]},
      },
      references = {
        locationId = {table = "locations", key = "id", rule = "orphan_location"},
        assignedUserId = {table = "users", key = "id", rule = "orphan_user"},
      },
      check_names = {values = "batch_values"} },
  },

  -- The generated checks cover items_accounted, no_double_resolution, batch_values, rejects_valid
  -- and fixups_logged; these are the spec's others.
  checks = {
    {name = "quantity_match", needs = "complete", sql = [[SELECT count(*) FROM "items" i
        LEFT JOIN (SELECT b."itemId", sum(b."quantity") AS q FROM ]] .. MIGRATED .. [[ b GROUP BY b."itemId") m
          ON m."itemId" = i."id"
        WHERE ]] .. NOT_REJECTED .. [[ AND i."quantityInStock" <> COALESCE(m.q, 0)]]},
    {name = "totals_match", needs = "complete", sql = [[SELECT abs((SELECT COALESCE(sum("quantityInStock"), 0)
        FROM "items" i WHERE ]] .. NOT_REJECTED .. [[) - (SELECT COALESCE(sum("quantity"), 0) FROM ]] .. MIGRATED .. [[ mb))]]},
    {name = "items_unchanged", sql = items_unchanged},
    {name = "orphaned_batches", sql = [[SELECT count(*) FROM "stock_batches" b
        LEFT JOIN "items" i ON i."id" = b."itemId" WHERE i."id" IS NULL]]},
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
