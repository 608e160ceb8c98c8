-- examples/stock_batches/small.sql — the project's small legacy database for scripts/stock_batches.lua
-- (docs/stock_batches.md). Its schema is the legacy one the migration expects.
-- Load into an empty database:  psql -X -v ON_ERROR_STOP=1 -d DB -f examples/stock_batches/small.sql
--                          or:  mighost sandbox --fixture examples/stock_batches/small.sql
-- Optional add-on loaded after it: app_batches.sql (application-created batches; counts unchanged).
--
-- Contents: 2 companies, 4 users, 3 locations, 94 items, 23 expenses.
--   clitem…01 … clitem…60  60 ordinary items: all migrate, no fixups (NULL status ×5, quantity 0 ×8,
--                          NULL cost ×4, NULL freight ×6, NULL location ×7, NULL user ×12)
--   edge-*, EDGE-*         34 edge items, one rule each, named after it:
-- Rule 1 negative_quantity (2):
--   edge-r1-neg-qty                  quantity -1
--   edge-r1-neg-qty-min-and-nan      quantity -2147483648 + cost NaN + freight -Infinity + dangling
--                                    location/user: rule 1 wins, no fixups
-- Rule 2 invalid_cost (12):
--   edge-r2-cost-nan / -cost-inf / -cost-neginf / -cost-negative (-0.01) / -cost-tiny-neg (-1e-300)
--   edge-r2-freight-nan / -freight-inf / -freight-neginf / -freight-negative (-5)
--   edge-r2-null-cost-nan-freight    NULL cost (fine) but freight NaN
--   edge-r2-both-bad-q0-nostatus     cost -1 and freight NaN, quantity 0, status NULL
--   edge-r2-nan-with-dangling-refs   cost NaN + dangling location/user: rejected, no fixups
-- Rule 3 migrated, edge values, no fixups (13):
--   edge-m-all-null          quantity 0, status/costs/freight/dates/notes/refs all NULL
--                            (-> 'ToOrder', 0, 0; orderDate stays NULL)
--   edge-m-negative-zero     costs -0 (not < 0: migrated, copied as -0)
--   edge-m-extremes          quantity 2147483647, cost 1.7976931348623157e308, freight 5e-324
--   edge-m-float-precision   cost 0.30000000000000004 (breaks %g printing), freight 0.1
--   edge-m-zero-costs        explicit 0 costs, quantity 0, Discontinued
--   edge-m-pre-1970          1969-12-31 23:59:59.999, 1900-01-01, 0044-03-15 BC, createdAt 1970-01-01
--   edge-m-infinity          ±infinity in all five timestamp columns
--   edge-m-text-torture      quotes, backslashes, tab, LF, CRLF, combining marks, RTL, emoji; orderNumber ''
--   edge-m-empty-strings     '' in name/sku/description/notes, orderNumber '  PO-42  ' (no trimming)
--   edge-m-long-text         20 000-character notes, 2 000-character orderNumber
--   edge-m-id-ünïcødé-o'brien-back\slash   id with Unicode, quote and backslash
--   EDGE-M-CASE, edge-m-case ids differing only in case (COLLATE "C" order: upper case first)
-- Rule 3 migrated with fixups (7 items, 9 fixups):
--   edge-f-orphan-location        deleted location             -> orphan_location
--   edge-f-orphan-user            deleted user                 -> orphan_user
--   edge-f-orphan-both            both deleted                 -> orphan_location + orphan_user
--   edge-f-orphan-location-empty  locationId ''  (not NULL)    -> orphan_location (old value '')
--   edge-f-orphan-user-case       upper-cased existing user id -> orphan_user
--   edge-f-orphan-location-space  existing location id + ' '   -> orphan_location
--   edge-f-orphan-both-q0-nulls   quantity 0, NULL status/costs, both dangling -> 2 fixups
-- Expenses: 20 on ordinary items, 3 on edge items (one amount NaN); never touched.
--
-- Expected counts (derived by hand from spec §3; expected.sql recomputes them with SQL):
--   source set | source | migrated | rejected | negative_quantity | invalid_cost | orphan_location | orphan_user
--   items      |     94 |       80 |       14 |                 2 |           12 |               5 |           4
--   Σ quantity of migrated batches = 2147497146 (exceeds int4: sum as bigint); batches written: 80.
BEGIN;
CREATE TYPE "Status" AS ENUM ('ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued');
CREATE TYPE "Role" AS ENUM ('ADMIN','MANAGER','STAFF');
CREATE TABLE "companies" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "companies_pkey" PRIMARY KEY ("id"));
CREATE TABLE "users" (
  "id" TEXT NOT NULL, "email" TEXT NOT NULL, "name" TEXT, "role" "Role" NOT NULL DEFAULT 'STAFF',
  "companyId" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "users_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE TABLE "locations" (
  "id" TEXT NOT NULL, "name" TEXT NOT NULL, "address" TEXT, "companyId" TEXT,
  "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "locations_pkey" PRIMARY KEY ("id"));
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
  "companyId" TEXT,
  CONSTRAINT "items_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "items_sku_key" ON "items"("sku");
CREATE INDEX "items_locationId_idx" ON "items"("locationId");
ALTER TABLE "items" ADD CONSTRAINT "items_companyId_fkey" FOREIGN KEY ("companyId")
  REFERENCES "companies"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE TABLE "expenses" (
  "id" TEXT NOT NULL, "itemId" TEXT NOT NULL, "amountUSD" DOUBLE PRECISION NOT NULL,
  "description" TEXT, "date" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "expenses_pkey" PRIMARY KEY ("id"));
ALTER TABLE "expenses" ADD CONSTRAINT "expenses_itemId_fkey" FOREIGN KEY ("itemId")
  REFERENCES "items"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------- reference data
INSERT INTO "companies" ("id", "name", "createdAt", "updatedAt") VALUES
 ('clcomp0000000000000000001', 'Northwind Supplies', '2024-11-01 09:00:00', '2024-11-01 09:00:00'),
 ('clcomp0000000000000000002', 'Harbor Tools & Co. "HT"', '2024-11-05 09:00:00', '2025-01-10 10:00:00');
INSERT INTO "users" ("id", "email", "name", "role", "companyId", "createdAt", "updatedAt") VALUES
 ('cluser0000000000000000001', 'ava@northwind.example',  'Ava Stone',   'ADMIN',   'clcomp0000000000000000001', '2024-11-01 09:10:00', '2024-11-01 09:10:00'),
 ('cluser0000000000000000002', 'ben@northwind.example',  'Ben O''Neil', 'MANAGER', 'clcomp0000000000000000001', '2024-11-02 09:10:00', '2024-11-02 09:10:00'),
 ('cluser0000000000000000003', 'cleo@northwind.example', NULL,          'STAFF',   'clcomp0000000000000000001', '2024-11-03 09:10:00', '2024-11-03 09:10:00'),
 ('cluser0000000000000000004', 'zoë@harbor.example',     'Zoë Ørsted',  'STAFF',   NULL,                        '2024-11-07 09:10:00', '2024-12-01 16:00:00');
INSERT INTO "locations" ("id", "name", "address", "companyId", "createdAt", "updatedAt") VALUES
 ('clloc00000000000000000001', 'Main Warehouse', '12 Dock Road',   'clcomp0000000000000000001', '2024-11-01 10:00:00', '2024-11-01 10:00:00'),
 ('clloc00000000000000000002', 'Shop Floor',     NULL,             'clcomp0000000000000000001', '2024-11-01 10:00:00', '2024-11-01 10:00:00'),
 ('clloc00000000000000000003', 'Hafen – Lager',  E'Pier 3\nGate B', 'clcomp0000000000000000002', '2024-11-06 10:00:00', '2024-11-06 10:00:00');

-- ---------------------------------------------------------------- 60 ordinary items (all migrate, no fixups)
-- NULL status every 11th, quantity 0 every 7th, NULL cost every 13th, NULL freight every 9th,
-- NULL location every 8th, NULL user every 5th; all references valid.
INSERT INTO "items" ("id", "name", "sku", "description", "status", "quantityInStock", "costPerUnitUSD",
  "freightCostUSD", "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes",
  "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId")
SELECT 'clitem' || lpad(g::text, 19, '0'),
       (ARRAY['Hex bolt M8','Washer 10mm','Hydraulic hose','Bearing 6204','Cable tie','Safety gloves'])[1 + g % 6] || ' #' || g,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'SKU-' || lpad(g::text, 5, '0') END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Standard stock item' END,
       CASE WHEN g % 11 = 0 THEN NULL
            ELSE (ARRAY['ToOrder','Ordered','InTransit','Arrived','InStock','Discontinued'])[1 + g % 6]::"Status" END,
       CASE WHEN g % 7 = 0 THEN 0 ELSE (g * 37) % 500 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE round((0.35 + (g % 40) * 1.25)::numeric, 2)::double precision END,
       CASE WHEN g % 9 = 0 THEN NULL ELSE ((g % 4) * 2.5)::double precision END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE timestamp '2025-01-06 09:00:00' + g * interval '1 day' END,
       CASE WHEN g % 4 IN (0, 1) THEN NULL ELSE timestamp '2025-01-20 12:00:00.5' + g * interval '1 day' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'PO-' || (1000 + g) END,
       CASE WHEN g % 6 IN (3, 4) THEN timestamp '2025-01-25 15:30:00.250' + g * interval '1 day' END,
       CASE WHEN g % 10 = 0 THEN 'reorder when below 20' END,
       timestamp '2024-12-01 08:00:00' + g * interval '2 hours',
       timestamp '2025-02-01 08:00:00.123' + g * interval '3 hours',
       CASE WHEN g % 8 = 0 THEN NULL ELSE 'clloc' || lpad((1 + g % 3)::text, 20, '0') END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'cluser' || lpad((1 + g % 4)::text, 19, '0') END,
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 2 = 0 THEN 'clcomp0000000000000000001' ELSE 'clcomp0000000000000000002' END
FROM generate_series(1, 60) AS g;

-- ---------------------------------------------------------------- edge items
-- Each row below names the rule it exercises; everything not mentioned is ordinary and valid.
-- Floats are written as quoted literals with explicit casts so that -0, NaN and the extremes
-- reach the table bit-for-bit.

-- rule 1: negative_quantity (2 rows)
INSERT INTO "items" ("id", "name", "sku", "status", "quantityInStock", "costPerUnitUSD", "freightCostUSD",
  "orderDate", "notes", "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId") VALUES
 ('edge-r1-neg-qty', 'Returned pallet', 'SKU-E-R1A', 'InStock', -1, '4.5'::float8, '0'::float8,
  '2025-02-01 10:00:00', 'stock count went below zero', '2025-01-01 00:00:00', '2025-03-01 00:00:00',
  'clloc00000000000000000001', 'cluser0000000000000000001', 'clcomp0000000000000000001'),
 -- INT minimum, and it would also be invalid_cost and have dangling references: rule 1 wins, no fixups
 ('edge-r1-neg-qty-min-and-nan', 'Broken import', 'SKU-E-R1B', NULL, -2147483648, 'NaN'::float8, '-Infinity'::float8,
  NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00',
  'clloc-deleted-000000000099', 'cluser-deleted-00000000099', NULL);

-- rule 2: invalid_cost (12 rows): every bad value in each of the two columns, plus combinations
INSERT INTO "items" ("id", "name", "sku", "status", "quantityInStock", "costPerUnitUSD", "freightCostUSD",
  "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId") VALUES
 ('edge-r2-cost-nan',        'Cost NaN',        'SKU-E-C01', 'Ordered', 10, 'NaN'::float8,       '1.5'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000001', NULL, NULL),
 ('edge-r2-cost-inf',        'Cost +Inf',       'SKU-E-C02', 'Ordered', 10, 'Infinity'::float8,  '1.5'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000001', NULL, NULL),
 ('edge-r2-cost-neginf',     'Cost -Inf',       'SKU-E-C03', 'Ordered', 10, '-Infinity'::float8, '1.5'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000001', NULL, NULL),
 ('edge-r2-cost-negative',   'Cost -0.01',      'SKU-E-C04', 'Ordered', 10, '-0.01'::float8,     '1.5'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000001', NULL, NULL),
 ('edge-r2-cost-tiny-neg',   'Cost -1e-300',    'SKU-E-C05', 'Ordered', 10, '-1e-300'::float8,   '1.5'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000001', NULL, NULL),
 ('edge-r2-freight-nan',     'Freight NaN',     'SKU-E-C06', 'Ordered', 10, '3.25'::float8, 'NaN'::float8,       '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000002', NULL, NULL),
 ('edge-r2-freight-inf',     'Freight +Inf',    'SKU-E-C07', 'Ordered', 10, '3.25'::float8, 'Infinity'::float8,  '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000002', NULL, NULL),
 ('edge-r2-freight-neginf',  'Freight -Inf',    'SKU-E-C08', 'Ordered', 10, '3.25'::float8, '-Infinity'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000002', NULL, NULL),
 ('edge-r2-freight-negative','Freight -5',      'SKU-E-C09', 'Ordered', 10, '3.25'::float8, '-5'::float8,        '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc00000000000000000002', NULL, NULL),
 -- NULL cost is fine (-> 0), but the freight is NaN
 ('edge-r2-null-cost-nan-freight', 'NULL cost, NaN freight', 'SKU-E-C10', NULL, 3, NULL, 'NaN'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', NULL, NULL, NULL),
 -- both columns bad, quantity 0 and no status (the seed would have skipped it silently)
 ('edge-r2-both-bad-q0-nostatus', 'Both bad', NULL, NULL, 0, '-1'::float8, 'NaN'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', NULL, NULL, NULL),
 -- rejected items get no fixups even with dangling references
 ('edge-r2-nan-with-dangling-refs', 'NaN + dangling', 'SKU-E-C12', 'Arrived', 7, 'NaN'::float8, '0'::float8, '2025-01-02 00:00:00', '2025-01-02 00:00:00', 'clloc-deleted-000000000001', 'cluser-deleted-00000000001', NULL);

-- rule 3: migrated edge values (no fixups)
INSERT INTO "items" ("id", "name", "sku", "description", "status", "quantityInStock", "costPerUnitUSD",
  "freightCostUSD", "orderDate", "expectedArrival", "orderNumber", "arrivedDate", "notes",
  "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId") VALUES
 -- quantity 0, NULL status -> 'ToOrder', NULL costs (freight explicitly NULL, overriding its default) -> 0,
 -- every nullable column NULL (orderDate must stay NULL, not now())
 ('edge-m-all-null', 'Everything NULL', NULL, NULL, NULL, 0, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, '2025-01-03 00:00:00', '2025-01-03 00:00:00', NULL, NULL, NULL),
 -- negative zero is not < 0: migrated, copied as -0
 ('edge-m-negative-zero', 'Negative zero costs', 'SKU-E-M02', NULL, 'InStock', 5, '-0'::float8, '-0'::float8,
  '2025-01-03 00:00:00', NULL, 'PO-0', NULL, NULL, '2025-01-03 00:00:00', '2025-01-03 00:00:00', NULL, NULL, NULL),
 -- extremes: INT max quantity, largest double, smallest subnormal double
 ('edge-m-extremes', 'Extremes', 'SKU-E-M03', NULL, 'InStock', 2147483647, '1.7976931348623157e308'::float8, '5e-324'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-03 00:00:00', '2025-01-03 00:00:00', 'clloc00000000000000000003', 'cluser0000000000000000004', NULL),
 -- a double that %g would round: 0.1 + 0.2
 ('edge-m-float-precision', 'Float precision', 'SKU-E-M04', NULL, 'Ordered', 1, '0.30000000000000004'::float8, '0.1'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-03 00:00:00', '2025-01-03 00:00:00', NULL, NULL, NULL),
 -- explicit zero costs, quantity 0, Discontinued
 ('edge-m-zero-costs', 'Zero costs', 'SKU-E-M05', NULL, 'Discontinued', 0, '0'::float8, '0'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-03 00:00:00', '2025-01-03 00:00:00', NULL, NULL, NULL),
 -- pre-1970 and BC timestamps, millisecond precision
 ('edge-m-pre-1970', 'Old dates', 'SKU-E-M06', NULL, 'Arrived', 3, '2'::float8, '1'::float8,
  '1969-12-31 23:59:59.999', '1900-01-01 00:00:00', 'PO-1969', '0044-03-15 12:00:00 BC', 'Ides of March',
  '1970-01-01 00:00:00', '1969-07-20 20:17:40.123', 'clloc00000000000000000001', 'cluser0000000000000000002', 'clcomp0000000000000000001'),
 -- infinite timestamps in every timestamp column
 ('edge-m-infinity', 'Infinite dates', 'SKU-E-M07', NULL, 'InTransit', 4, '2'::float8, '1'::float8,
  '-infinity', 'infinity', 'PO-INF', 'infinity', NULL,
  '-infinity', 'infinity', 'clloc00000000000000000002', 'cluser0000000000000000003', NULL),
 -- text fidelity: quotes, backslashes, tab, LF, CRLF, Unicode (combining mark, RTL, emoji, CJK); '' is not NULL
 ('edge-m-text-torture', E'Name with ''single'' and "double" quotes\\and\\\\backslashes', 'SKU-É-ü-日本',
  E'line1\nline2\r\nline3\ttabbed', 'InStock', 8, '9.99'::float8, '0.5'::float8,
  '2025-01-04 00:00:00', NULL, '', NULL,
  E'caf\u00e9 / cafe\u0301 / \u05e2\u05d1\u05e8\u05d9\u05ea / \U0001F69A / \u65e5\u672c\u8a9e / zw\u200dj / back\\slash / C:\\temp\\new / 100% _under_ / tab\there',
  '2025-01-04 00:00:00', '2025-01-04 00:00:00', 'clloc00000000000000000003', 'cluser0000000000000000004', 'clcomp0000000000000000002'),
 -- empty strings (not NULL) and untrimmed spaces must be copied as they are
 ('edge-m-empty-strings', '', '', '', 'Ordered', 2, '1'::float8, '0'::float8,
  NULL, NULL, '  PO-42  ', NULL, '', '2025-01-04 00:00:00', '2025-01-04 00:00:00', NULL, NULL, NULL),
 -- long text (20 000 characters of notes, 2 000-character order number)
 ('edge-m-long-text', 'Long text', 'SKU-E-M10', NULL, 'InStock', 6, '1'::float8, '0'::float8,
  NULL, NULL, repeat('PO', 1000), NULL, repeat(E'0123456789\u00e4\u00f6\u00fc\u00df\u20ac\U0001F600abcd', 1000),
  '2025-01-04 00:00:00', '2025-01-04 00:00:00', NULL, NULL, NULL),
 -- id with Unicode, a quote and a backslash (keys must be bound, never spliced into SQL text)
 (E'edge-m-id-\u00fcn\u00efc\u00f8d\u00e9-o''brien-back\\slash', 'Odd id', 'SKU-E-M11', NULL, 'ToOrder', 1, '1'::float8, '0'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-04 00:00:00', '2025-01-04 00:00:00', 'clloc00000000000000000001', 'cluser0000000000000000001', NULL),
 -- id differing only in case from the next one (ordering is COLLATE "C": upper case first)
 ('EDGE-M-CASE', 'Upper-case id', 'SKU-E-M12', NULL, 'InStock', 1, '1'::float8, '0'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-04 00:00:00', '2025-01-04 00:00:00', NULL, NULL, NULL),
 ('edge-m-case', 'Lower-case id', 'SKU-E-M13', NULL, 'InStock', 1, '1'::float8, '0'::float8,
  NULL, NULL, NULL, NULL, NULL, '2025-01-04 00:00:00', '2025-01-04 00:00:00', NULL, NULL, NULL);

-- rule 3 with fixups: dangling references are nulled and logged (7 items, 9 fixups)
INSERT INTO "items" ("id", "name", "sku", "status", "quantityInStock", "costPerUnitUSD", "freightCostUSD",
  "createdAt", "updatedAt", "locationId", "assignedUserId", "companyId") VALUES
 ('edge-f-orphan-location',       'Deleted location',  'SKU-E-F01', 'InStock', 11, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', 'clloc-deleted-000000000001', 'cluser0000000000000000001', NULL),
 ('edge-f-orphan-user',           'Deleted user',      'SKU-E-F02', 'InStock', 12, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', 'clloc00000000000000000001', 'cluser-deleted-00000000001', NULL),
 ('edge-f-orphan-both',           'Both deleted',      'SKU-E-F03', 'Ordered', 13, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', 'clloc-deleted-000000000002', 'cluser-deleted-00000000002', NULL),
 -- '' is not NULL: it references a location that does not exist
 ('edge-f-orphan-location-empty', 'Empty location id', 'SKU-E-F04', 'InStock', 14, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', '', NULL, NULL),
 -- keys are exact strings: upper-case copy of an existing user id does not match
 ('edge-f-orphan-user-case',      'Upper-case user id','SKU-E-F05', 'InStock', 15, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', NULL, 'CLUSER0000000000000000001', NULL),
 -- ... and a trailing space does not match either
 ('edge-f-orphan-location-space', 'Trailing space',    'SKU-E-F06', 'InStock', 16, '2'::float8, '1'::float8, '2025-01-05 00:00:00', '2025-01-05 00:00:00', 'clloc00000000000000000001 ', NULL, NULL),
 -- quantity 0, no status, no costs, both references dangling: migrated with 2 fixups
 ('edge-f-orphan-both-q0-nulls',  'Bare and orphaned', NULL,        NULL,      0,  NULL,         NULL,         '2025-01-05 00:00:00', '2025-01-05 00:00:00', 'clloc-deleted-000000000003', 'cluser-deleted-00000000003', NULL);

-- ---------------------------------------------------------------- expenses (never touched by the migration)
INSERT INTO "expenses" ("id", "itemId", "amountUSD", "description", "date")
SELECT 'clexp' || lpad(g::text, 20, '0'), 'clitem' || lpad((1 + (g * 7) % 60)::text, 19, '0'),
       round((10 + g * 7.5)::numeric, 2)::double precision,
       CASE WHEN g % 2 = 0 THEN 'freight surcharge' END,
       timestamp '2025-02-01 00:00:00' + g * interval '1 day'
FROM generate_series(1, 20) AS g;
INSERT INTO "expenses" ("id", "itemId", "amountUSD", "description", "date") VALUES
 ('clexp-edge-1', 'edge-r1-neg-qty', 12.5, 'on a rejected item', '2025-02-10 00:00:00'),
 ('clexp-edge-2', E'edge-m-id-\u00fcn\u00efc\u00f8d\u00e9-o''brien-back\\slash', 3.75, NULL, '2025-02-11 00:00:00'),
 ('clexp-edge-3', 'edge-f-orphan-both', 'NaN', 'amount NaN (expenses are not checked)', '2025-02-12 00:00:00');
COMMIT;
