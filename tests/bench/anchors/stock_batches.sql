-- The anchor of tests/bench/migration_bench.sh for stock_batches: §3's transform in one
-- statement, rejected items left out (the same rule as the script).
INSERT INTO "stock_batches" ("id", "quantity", "status", "costPerUnitUSD", "freightCostUSD",
    "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes", "createdAt", "updatedAt",
    "itemId", "locationId", "assignedUserId")
SELECT 'mig_' || md5(i."id"), i."quantityInStock", COALESCE(i."status", 'ToOrder'),
       COALESCE(i."costPerUnitUSD", 0), COALESCE(i."freightCostUSD", 0),
       i."orderDate", i."expectedArrival", i."orderNumber", i."arrivedDate", i."notes", i."createdAt", i."updatedAt",
       i."id", l."id", u."id"
  FROM "items" i
  LEFT JOIN "locations" l ON l."id" = i."locationId"
  LEFT JOIN "users" u ON u."id" = i."assignedUserId"
 WHERE CASE WHEN i."quantityInStock" < 0
              OR i."costPerUnitUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."costPerUnitUSD" < 0
              OR i."freightCostUSD" IN ('NaN', 'Infinity', '-Infinity') OR i."freightCostUSD" < 0 THEN 1 END IS NULL;
