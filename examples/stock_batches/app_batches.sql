-- Add-on for small.sql (load it AFTER small.sql): the application has already deployed the
-- "stock_batches" table (spec §2, without items."useBatchSystem") and created 3 batches of its own.
-- The migration must leave them untouched and the checks must ignore them (they only look at
-- ids LIKE 'mig\_%'). Two ids are traps for an unescaped LIKE 'mig_%' / a case-insensitive match:
--   'migrated-by-hand'  matches 'mig_%' (the _ wildcard matches 'r') but not 'mig\_%'
--   'MIG_0000000001'    upper case: not a migrated batch
--   'cmapp000000000000000000001' an ordinary cuid
-- One of them belongs to a rejected item (edge-r1-neg-qty). Expected counts are unchanged
-- (items: source 94, migrated 80, rejected 14); afterwards "stock_batches" holds 80 + 3 rows.
--   mighost sandbox --fixture examples/stock_batches/small.sql --fixture examples/stock_batches/app_batches.sql
BEGIN;
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
  REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

INSERT INTO "stock_batches" ("id", "quantity", "status", "costPerUnitUSD", "freightCostUSD", "orderDate",
  "orderNumber", "notes", "createdAt", "updatedAt", "itemId", "locationId", "assignedUserId") VALUES
 ('cmapp000000000000000000001', 5, 'Ordered', 1.6, 2.5, '2025-03-01 09:00:00', 'PO-APP-1', 'created in the new UI',
  '2025-03-01 09:00:00', '2025-03-01 09:00:00', 'clitem0000000000000000001', 'clloc00000000000000000002', 'cluser0000000000000000002'),
 ('migrated-by-hand', 7, 'InStock', 2.85, 0, NULL, NULL, 'not a migrated batch: no underscore after mig',
  '2025-03-02 09:00:00', '2025-03-02 09:00:00', 'clitem0000000000000000002', NULL, NULL),
 ('MIG_0000000001', 3, 'ToOrder', 4.5, 0, NULL, NULL, 'upper-case MIG_, on a rejected item',
  '2025-03-03 09:00:00', '2025-03-03 09:00:00', 'edge-r1-neg-qty', 'clloc00000000000000000001', NULL);
COMMIT;
