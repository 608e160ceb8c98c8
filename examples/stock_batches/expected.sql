-- Expected outcome of scripts/stock_batches.lua, computed straight from its mapping rules
-- (docs/stock_batches.md). Read-only; works for small.sql and for generate.sql output,
-- before or after a migration run (the rules depend only on "items", "locations" and "users").
--   psql -X -v ON_ERROR_STOP=1 -d DB -f examples/stock_batches/expected.sql
-- Query 1: one row per source set (the counts the script must report).
-- Query 2: the expected mig_meta.rejects keys and reasons; query 3: the expected mig_meta.fixups.

-- 1. counts per source set
WITH s AS (
  SELECT i."id",
         CASE WHEN i."quantityInStock" < 0 THEN 'negative_quantity'
              WHEN i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0
                OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0
                THEN 'invalid_cost' END AS reason,
         i."locationId" IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM "locations" l WHERE l."id" = i."locationId") AS orphan_location,
         i."assignedUserId" IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM "users" u WHERE u."id" = i."assignedUserId") AS orphan_user,
         i."quantityInStock" AS qty
  FROM "items" i)
SELECT 'items' AS source_set,
       count(*) AS source,
       count(*) FILTER (WHERE reason IS NULL) AS expected_migrated,
       count(*) FILTER (WHERE reason IS NOT NULL) AS expected_rejected,
       count(*) FILTER (WHERE reason = 'negative_quantity') AS rejected_negative_quantity,
       count(*) FILTER (WHERE reason = 'invalid_cost') AS rejected_invalid_cost,
       count(*) FILTER (WHERE reason IS NULL AND orphan_location) AS fixup_orphan_location,
       count(*) FILTER (WHERE reason IS NULL AND orphan_user) AS fixup_orphan_user,
       COALESCE(sum(qty) FILTER (WHERE reason IS NULL), 0) AS expected_batch_quantity_total
FROM s;

-- 2. expected rejects (source_table 'items', source_key = item id)
SELECT 'items' AS source_table, i."id" AS source_key,
       CASE WHEN i."quantityInStock" < 0 THEN 'negative_quantity' ELSE 'invalid_cost' END AS reason
FROM "items" i
WHERE i."quantityInStock" < 0
   OR i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0
   OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0
ORDER BY i."id" COLLATE "C";

-- 3. expected fixups (only for migrated items; old_value = the dangling id). Note the CASE: with
--    NULL costs a plain NOT (cost < 0 OR ...) is NULL and would silently drop the row.
SELECT 'items' AS source_table, i."id" AS source_key, f.field, f.rule, f.old_value
FROM "items" i
CROSS JOIN LATERAL (VALUES
  ('locationId', 'orphan_location', i."locationId",
   NOT EXISTS (SELECT 1 FROM "locations" l WHERE l."id" = i."locationId")),
  ('assignedUserId', 'orphan_user', i."assignedUserId",
   NOT EXISTS (SELECT 1 FROM "users" u WHERE u."id" = i."assignedUserId"))) AS f(field, rule, old_value, dangling)
WHERE f.old_value IS NOT NULL AND f.dangling
  AND CASE WHEN i."quantityInStock" < 0 THEN false
           WHEN i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0
             OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0 THEN false
           ELSE true END
ORDER BY i."id" COLLATE "C", f.field;
