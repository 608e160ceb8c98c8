-- examples/stock_batches/generate.sql — large legacy database for scripts/stock_batches.lua
-- (docs/stock_batches.md; the schema ends up identical to small.sql's).
-- Deterministic (no random()): every value is a function of the row number g.
-- Scale: psql variable "scale" (default 1 = 1 000 000 items), or the environment variable
-- EXAMPLES_SCALE (for mighost sandbox, which cannot pass -v and strips PG* variables):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.01 -d DB -f examples/stock_batches/generate.sql
--   EXAMPLES_SCALE=0.01 mighost sandbox --fixture examples/stock_batches/generate.sql
-- Per 1 000 items (g = 1..N): g%1000 = 7 negative_quantity; 13..16 invalid costPerUnitUSD (NaN,
-- Infinity, -Infinity, < 0); 17..20 invalid freightCostUSD (same); g%200 = 11 dangling locationId
-- (orphan_location); g%250 = 17 dangling assignedUserId (orphan_user; g = 17 mod 1000 is rejected
-- first). Also NULL status/costs, quantity 0, ±infinity and pre-1970 dates, -0 costs, Unicode text.
-- Exact expected counts: run expected.sql afterwards (README.md lists them for scale 1).
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
SELECT greatest(1, round(1000000 * :scale))::int AS n_items,
       greatest(5, round(2000 * :scale))::int AS n_users,
       greatest(3, round(400 * :scale))::int AS n_locations,
       greatest(1, round(200000 * :scale))::int AS n_expenses \gset
\echo stock_batches generator: :n_items items, :n_users users, :n_locations locations, :n_expenses expenses

BEGIN;
-- Tables as in spec §1; keys, indexes and foreign keys are added after the load (same names).
CREATE TYPE "Status" AS ENUM ('ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued');
CREATE TYPE "Role" AS ENUM ('ADMIN','MANAGER','STAFF');
CREATE TABLE "companies" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL);
CREATE TABLE "users" (
  "id" TEXT NOT NULL, "email" TEXT NOT NULL, "name" TEXT, "role" "Role" NOT NULL DEFAULT 'STAFF',
  "companyId" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL);
CREATE TABLE "locations" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL, "address" TEXT, "companyId" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL);
CREATE TABLE "items" (
  "id" TEXT NOT NULL,
  "name" TEXT NOT NULL, "sku" TEXT, "description" TEXT,
  "status" "Status",                          -- nullable
  "quantityInStock" INTEGER NOT NULL DEFAULT 0,
  "costPerUnitUSD" DOUBLE PRECISION,          -- nullable; NaN/Infinity possible
  "freightCostUSD" DOUBLE PRECISION DEFAULT 0,
  "orderDate" TIMESTAMP(3), "expectedArrival" TIMESTAMP(3), "orderNumber" TEXT, "arrivedDate" TIMESTAMP(3),
  "notes" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  "locationId" TEXT,                          -- relationMode="prisma": NO database FK, may dangle
  "assignedUserId" TEXT,                      -- relationMode="prisma": NO database FK, may dangle
  "companyId" TEXT);
CREATE TABLE "expenses" (
  "id" TEXT NOT NULL, "itemId" TEXT NOT NULL, "amountUSD" DOUBLE PRECISION NOT NULL,
  "description" TEXT, "date" TIMESTAMP(3) NOT NULL);

INSERT INTO "companies" ("id", "name", "createdAt", "updatedAt")
SELECT 'clcomp' || lpad(c::text, 19, '0'), 'Company ' || c,
       timestamp '2023-01-01 09:00:00' + c * interval '1 day', timestamp '2024-01-01 09:00:00' + c * interval '1 day'
FROM generate_series(1, 20) AS c;

INSERT INTO "users" ("id", "email", "name", "role", "companyId", "createdAt", "updatedAt")
SELECT 'cluser' || lpad(u::text, 19, '0'), 'user' || u || '@example.com',
       CASE WHEN u % 9 = 0 THEN NULL WHEN u % 7 = 0 THEN 'Zoë Ørsted ' || u ELSE 'User ' || u END,
       (ARRAY['ADMIN','MANAGER','STAFF','STAFF','STAFF'])[1 + u % 5]::"Role",
       CASE WHEN u % 11 = 0 THEN NULL ELSE 'clcomp' || lpad((1 + u % 20)::text, 19, '0') END,
       timestamp '2023-02-01 09:00:00' + u * interval '1 hour', timestamp '2024-02-01 09:00:00' + u * interval '1 hour'
FROM generate_series(1, :n_users) AS u;

INSERT INTO "locations" ("id", "name", "address", "companyId", "createdAt", "updatedAt")
SELECT 'clloc' || lpad(l::text, 20, '0'), 'Location ' || l,
       CASE WHEN l % 3 = 0 THEN NULL ELSE l || E' Dock Road\nGate ' || (l % 4) END,
       CASE WHEN l % 13 = 0 THEN NULL ELSE 'clcomp' || lpad((1 + l % 20)::text, 19, '0') END,
       timestamp '2023-03-01 10:00:00' + l * interval '1 hour', timestamp '2023-03-01 10:00:00' + l * interval '1 hour'
FROM generate_series(1, :n_locations) AS l;

INSERT INTO "items" ("id", "name", "sku", "description", "status", "quantityInStock", "costPerUnitUSD",
  "freightCostUSD", "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes",
  "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId")
SELECT 'c' || substr(md5('item-' || g), 1, 24),                        -- cuid-like: id order ≠ load order
       (ARRAY['Hex bolt M8','Washer 10mm','Hydraulic hose','Bearing 6204','Cable tie','Safety gloves',
              'Drill bit 6mm','Grease cartridge','Dichtung Ø12 «grün»','O''Ring 4"'])[1 + g % 10] || ' #' || g,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'SKU-' || g END,
       CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN 'Standard stock item' ELSE '' END,
       CASE WHEN g % 20 = 3 THEN NULL
            ELSE (ARRAY['ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued'])[1 + g % 6]::"Status" END,
       CASE WHEN g % 1000 = 7 THEN -1 - g % 50
            WHEN g % 15 = 0 THEN 0
            ELSE (g * 37) % 997 END,
       CASE g % 1000 WHEN 13 THEN 'NaN'::float8 WHEN 14 THEN 'Infinity'::float8 WHEN 15 THEN '-Infinity'::float8
                     WHEN 16 THEN -0.01 * (1 + g % 7)
            ELSE CASE WHEN g % 25 = 1 THEN NULL WHEN g % 10000 = 3 THEN '-0'::float8
                      ELSE (g % 4000) / 7.0::float8 END END,
       CASE g % 1000 WHEN 17 THEN 'NaN'::float8 WHEN 18 THEN 'Infinity'::float8 WHEN 19 THEN '-Infinity'::float8
                     WHEN 20 THEN -2.5::float8
            ELSE CASE WHEN g % 30 = 2 THEN NULL ELSE (g % 9) * 1.25::float8 END END,
       CASE WHEN g % 5000 = 1 THEN '-infinity'::timestamp
            WHEN g % 5000 = 2 THEN timestamp '1969-12-31 23:59:59.999' - (g % 1000) * interval '1 day'
            WHEN g % 4 = 0 THEN NULL
            ELSE timestamp '2020-01-06 09:00:00.125' + (g % 2000) * interval '1 day' END,
       CASE WHEN g % 5000 = 1 THEN 'infinity'::timestamp
            WHEN g % 4 IN (0, 1) THEN NULL
            ELSE timestamp '2020-01-20 12:00:00' + (g % 2000) * interval '1 day' END,
       CASE WHEN g % 4 = 0 THEN NULL WHEN g % 997 = 5 THEN '' ELSE 'PO-' || (100000 + g % 90000) END,
       CASE WHEN g % 6 IN (3, 4) THEN timestamp '2020-01-25 15:30:00.250' + (g % 2000) * interval '1 day' END,
       CASE WHEN g % 100 = 5 THEN E'r\u00fcckfrage: "urgent" \u2014 O''Brien\\Lager\tBox 3\nline 2 \U0001F69A'
            WHEN g % 100 = 6 THEN ''
            WHEN g % 10 = 0 THEN 'reorder when below 20' END,
       CASE WHEN g % 5000 = 1 THEN '-infinity'::timestamp
            ELSE timestamp '2019-12-01 08:00:00' + g * interval '1 minute' END,
       timestamp '2024-02-01 08:00:00.123' + g * interval '30 seconds',
       CASE WHEN g % 200 = 11 THEN 'clloc-deleted-' || (g % 97)
            WHEN g % 10 = 4 THEN NULL
            ELSE 'clloc' || lpad((1 + g % :n_locations)::text, 20, '0') END,
       CASE WHEN g % 250 = 17 THEN 'cluser-deleted-' || (g % 89)
            WHEN g % 6 = 1 THEN NULL
            ELSE 'cluser' || lpad((1 + (g * 7) % :n_users)::text, 19, '0') END,
       CASE WHEN g % 10 = 9 THEN NULL ELSE 'clcomp' || lpad((1 + g % 20)::text, 19, '0') END
FROM generate_series(1, :n_items) AS g;

INSERT INTO "expenses" ("id", "itemId", "amountUSD", "description", "date")
SELECT 'clexp' || lpad(e::text, 20, '0'), 'c' || substr(md5('item-' || (1 + (e * 5) % :n_items)), 1, 24),
       round((10 + (e % 500) * 7.5)::numeric, 2)::double precision,
       CASE WHEN e % 2 = 0 THEN 'freight surcharge' END,
       timestamp '2024-02-01 00:00:00' + (e % 700) * interval '1 day'
FROM generate_series(1, :n_expenses) AS e;

ALTER TABLE "companies" ADD CONSTRAINT "companies_pkey" PRIMARY KEY ("id");
ALTER TABLE "users" ADD CONSTRAINT "users_pkey" PRIMARY KEY ("id");
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
ALTER TABLE "locations" ADD CONSTRAINT "locations_pkey" PRIMARY KEY ("id");
ALTER TABLE "items" ADD CONSTRAINT "items_pkey" PRIMARY KEY ("id");
CREATE UNIQUE INDEX "items_sku_key" ON "items"("sku");
CREATE INDEX "items_locationId_idx" ON "items"("locationId");
ALTER TABLE "items" ADD CONSTRAINT "items_companyId_fkey" FOREIGN KEY ("companyId")
  REFERENCES "companies"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "expenses" ADD CONSTRAINT "expenses_pkey" PRIMARY KEY ("id");
ALTER TABLE "expenses" ADD CONSTRAINT "expenses_itemId_fkey" FOREIGN KEY ("itemId")
  REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;
COMMIT;
ANALYZE;
