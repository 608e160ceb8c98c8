-- Benchmark database: a legacy "items" table shaped as in docs/stock_batches.md, filled
-- with generate_series, and an empty target "t" with the columns of "stock_batches" (2.).
-- psql -v ON_ERROR_STOP=1 -v rows=1000000 -f setup.sql   (objects go to the first schema of search_path)
\set ON_ERROR_STOP 1
CREATE TYPE "Status" AS ENUM ('ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued');

-- Source: the legacy columns and keys (the companies FK is left out: nothing here writes items).
CREATE TABLE "items" (
  "id" TEXT NOT NULL,
  "name" TEXT NOT NULL, "sku" TEXT, "description" TEXT,
  "status" "Status",
  "quantityInStock" INTEGER NOT NULL DEFAULT 0,
  "costPerUnitUSD" DOUBLE PRECISION,
  "freightCostUSD" DOUBLE PRECISION DEFAULT 0,
  "orderDate" TIMESTAMP(3), "expectedArrival" TIMESTAMP(3), "orderNumber" TEXT, "arrivedDate" TIMESTAMP(3),
  "notes" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  "locationId" TEXT,
  "assignedUserId" TEXT,
  "companyId" TEXT);

-- Cuid-like ids; ~10% NULL status, ~5% NULL and ~1% NaN/Infinity costs, NULL dates, some notes
-- with tabs, newlines, backslashes, quotes and non-ASCII text (they exercise COPY's escaping).
INSERT INTO "items"
SELECT 'cl' || substr(md5(g::text), 1, 23),
       'Item ' || g,
       'SKU-' || lpad(g::text, 8, '0'),
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Description of item ' || g || ', a fairly ordinary line' END,
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE (enum_range(NULL::"Status"))[1 + g % 6] END,
       ((g % 500) * 7919) % 500,
       CASE WHEN g % 20 = 0 THEN NULL WHEN g % 101 = 0 THEN 'NaN'::float8
            WHEN g % 211 = 0 THEN 'Infinity'::float8 ELSE ((g * 37) % 100000) / 100.0 + 0.1 END,
       CASE WHEN g % 25 = 0 THEN NULL ELSE ((g * 13) % 5000) / 7.0 END,
       CASE WHEN g % 7 = 0 THEN NULL
            ELSE timestamp '2023-01-01' + (g % 700) * interval '1 day' + (g % 86400000) * interval '1 ms' END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE timestamp '2023-02-01' + (g % 700) * interval '1 day' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'PO-' || (g / 4) END,
       CASE WHEN g % 3 = 1 THEN timestamp '2023-03-01 12:34:56.789' + (g % 600) * interval '1 day' END,
       CASE WHEN g % 50 = 0 THEN E'fragile\tstack < 3\nsecond line \\ "quoted" ünïcødé ✓'
            WHEN g % 2 = 0 THEN NULL ELSE 'note ' || g END,
       timestamp '2022-06-01' + (g % 86400000) * interval '1 ms' + (g % 900) * interval '1 day',
       timestamp '2024-06-01' + (g % 86400000) * interval '1 ms',
       CASE WHEN g % 9 = 0 THEN NULL ELSE 'clloc' || lpad((g % 40)::text, 20, '0') END,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'cluser' || lpad((g % 25)::text, 19, '0') END,
       'clcomp' || lpad((g % 3)::text, 19, '0')
FROM generate_series(1, :rows) AS g;
ALTER TABLE "items" ADD CONSTRAINT "items_pkey" PRIMARY KEY ("id");  -- built once, after the rows
CREATE UNIQUE INDEX "items_sku_key" ON "items"("sku");
VACUUM (FREEZE, ANALYZE) "items";  -- hint bits set once, not by the first timed reader

-- Target: the columns, defaults and constraints of "stock_batches" (its FKs and secondary indexes are
-- left out: they cost all three methods the same and would only hide the client's share).
CREATE TABLE "t" (
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
  CONSTRAINT "t_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "t_quantity_check" CHECK ("quantity" >= 0))
  WITH (autovacuum_enabled = false);  -- no vacuum worker inside a timed run
