-- examples/lot_traceability/small.sql — the project's small legacy database for
-- scripts/lot_traceability.lua (docs/lot_traceability.md). The legacy schema.
-- Load into an empty database:  psql -X -v ON_ERROR_STOP=1 -d DB -f examples/lot_traceability/small.sql
--                          or:  mighost sandbox --fixture examples/lot_traceability/small.sql
-- Add-ons loaded after it: enum_conflict.sql (an enum type with other labels: the run is refused),
-- app_ingredients.sql (the application already created ingredients).
-- Every row says which rule it exercises. "trim" is btrim (spaces only: a tab stays).
--
-- Expected (derived by hand from the spec; expected.sql lists the exact rows):
--   source set           | source | migrated | rejected | codes
--   old_ingredient_table |     46 |       34 |       12 | missing_name 4, name_too_long 1, negative_stock 3, duplicate_name 4
--   production_runs      |     26 |       26 |        0 | fixups orphan_recipe 6 (placeholder recipe id 6 inserted)
--   pallets              |     16 |       16 |        0 | fixups orphan_production_run 3
--   audit_logs MIGRATE rows: 34 + 26 + 16 = 76
BEGIN;
CREATE TABLE recipes (
  id serial PRIMARY KEY, name text NOT NULL, description text, instructions text,
  created_by text,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE TABLE production_runs (
  id serial PRIMARY KEY,
  recipe_id integer,                    -- NO foreign key: may be NULL or dangling
  daily_lot text,                       -- free-text lot code: not unique, may be NULL/blank
  cake_lot text, icing_lot text,
  actual_quantity numeric(10,2),        -- NULL, 0 or negative possible
  actual_start_time timestamp(3), actual_end_time timestamp(3),
  notes text,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE INDEX production_runs_recipe_id_idx ON production_runs(recipe_id);
CREATE TABLE pallets (
  id serial PRIMARY KEY,
  production_run_id integer,            -- NO foreign key
  pallet_code text,                     -- free text: not unique, may be NULL/blank
  case_count integer, shipping_info text, shipped_at timestamp(3),
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE TABLE old_ingredient_table (     -- pre-Prisma spreadsheet import
  id serial PRIMARY KEY, name text, category text, unit text,
  stock_qty numeric(12,3), supplier text,
  created_at timestamp(3) DEFAULT CURRENT_TIMESTAMP);

INSERT INTO recipes (id, name, description, instructions, created_by, created_at, updated_at) VALUES
  (1, 'Vanilla Sponge', 'Classic sponge', E'Mix.\nBake 25 min at 180°C.', 'baker:anna', '2024-01-02 08:00:00', '2024-01-02 08:00:00'),
  (2, 'Chocolate Fudge', NULL, NULL, NULL, '1969-12-31 23:59:59.999', 'infinity'),  -- NULLs, pre-1970, infinity
  (3, E'Lemon "Drizzle" \u2014 it''s tangy', E'back\\slash', E'tab\there', 'baker:bo', '2024-01-03 09:30:00.123', '2024-02-01 10:00:00'),
  -- the placeholder's name under another author: a real recipe, never taken for the placeholder
  (4, 'Unknown Recipe (migrated)', 'a legacy recipe that happens to carry this name', NULL, 'baker:legacy', '2024-01-04 07:00:00', '2024-01-04 07:00:00'),
  -- the placeholder's author under another name: not the placeholder either
  (5, 'Carrot Cake', NULL, NULL, 'migration:lot_traceability', '2024-01-05 07:00:00', '2024-01-05 07:00:00');
SELECT setval('recipes_id_seq', 5);     -- the placeholder gets id 6, an id run 7 names while it dangles

INSERT INTO production_runs (id, recipe_id, daily_lot, cake_lot, icing_lot, actual_quantity, actual_start_time,
                             actual_end_time, notes, created_at, updated_at) VALUES
  -- batch numbers (3.1): winners keep their trimmed code, the others chain '-' || id until free
  (1, 1, 'LOT-A', 'C-1', 'I-1', 100.00, '2024-03-01 06:00', '2024-03-01 09:00', NULL, '2024-03-01 05:00', '2024-03-01 09:00'),  -- winner of LOT-A; COMPLETED/PASSED
  (2, 1, 'LOT-A', NULL, NULL, NULL, '2024-03-02 06:00', NULL, NULL, '2024-03-02 05:00', '2024-03-02 06:00'),           -- LOT-A-2 is run 4's: LOT-A-2-2; quantity NULL -> 0; IN_PROGRESS/PENDING
  (3, 2, '  LOT-A  ', NULL, NULL, 0, NULL, NULL, NULL, '2024-03-03 05:00', '2024-03-03 05:00'),                           -- padded: base LOT-A -> LOT-A-3; quantity 0; PLANNED/PENDING
  (4, 2, 'LOT-A-2', NULL, NULL, 12.50, NULL, NULL, NULL, '2024-03-04 05:00', '2024-03-04 05:00'),                         -- winner of LOT-A-2
  -- recipes (3.3): judged against the snapshot; NULL and dangling ids get the placeholder + orphan_recipe
  (5, NULL, NULL, NULL, NULL, 1.00, NULL, NULL, NULL, '2024-03-05 05:00', '2024-03-05 05:00'),                           -- recipe NULL -> 6 (fixup old NULL); code NULL -> MIGRATED-5
  (6, 99, '', NULL, NULL, 2.00, NULL, NULL, NULL, '2024-03-06 05:00', '2024-03-06 05:00'),                               -- recipe 99 dangles -> 6; code '' -> MIGRATED-6
  (7, 6, '   ', NULL, NULL, 3.00, NULL, NULL, NULL, '2024-03-07 05:00', '2024-03-07 05:00'),                             -- recipe 6 dangles in the snapshot (the placeholder takes id 6): fixup 6 -> 6; blank -> MIGRATED-7
  (8, 3, 'MIGRATED-7', NULL, NULL, 4.00, NULL, NULL, NULL, '2024-03-08 05:00', '2024-03-08 05:00'),                      -- code equal to run 7's default: 7 is lower -> MIGRATED-7-8
  (9, 4, E'\t', NULL, NULL, 5.00, NULL, NULL, NULL, '2024-03-09 05:00', '2024-03-09 05:00'),                             -- recipe 4 (the legacy "Unknown Recipe") kept; a lone tab is not trimmed: kept as is
  (10, 5, E'LOT\tB', NULL, NULL, 6.00, NULL, NULL, NULL, '2024-03-10 05:00', '2024-03-10 05:00'),                        -- recipe 5 kept; a tab inside: kept
  (11, 1, E' LOT-T\t ', NULL, NULL, 7.00, NULL, NULL, NULL, '2024-03-11 05:00', '2024-03-11 05:00'),                     -- spaces trimmed, the tab stays: 'LOT-T<tab>'
  (12, 1, repeat('L', 200), NULL, NULL, 8.00, NULL, NULL, NULL, '2024-03-12 05:00', '2024-03-12 05:00'),                 -- 200 characters: kept
  (13, 1, ' ' || repeat('L', 200) || '  ', NULL, NULL, 9.00, NULL, NULL, NULL, '2024-03-13 05:00', '2024-03-13 05:00'),  -- padded to 203, trimmed to 200 = run 12's: LLL…-13
  (14, 1, repeat('M', 201), NULL, NULL, 10.00, NULL, NULL, NULL, '2024-03-14 05:00', '2024-03-14 05:00'),                -- 201 characters -> MIGRATED-14
  (15, 0, 'lot-a', NULL, NULL, 11.00, NULL, NULL, NULL, '2024-03-15 05:00', '2024-03-15 05:00'),                         -- recipe 0 dangles; 'lot-a' differs from LOT-A by case: kept
  (16, -1, 'Lot-Ü', NULL, NULL, 12.00, NULL, NULL, NULL, '2024-03-16 05:00', '2024-03-16 05:00'),                        -- recipe -1 dangles; Unicode code kept
  (17, 2147483647, 'X', NULL, NULL, 13.00, NULL, NULL, NULL, '2024-03-17 05:00', '2024-03-17 05:00'),                    -- recipe int4 max dangles; winner of X
  (18, 1, 'X-9003', NULL, NULL, 14.00, NULL, NULL, NULL, '2024-03-18 05:00', '2024-03-18 05:00'),                        -- winner of X-9003
  (19, 1, 'X-9003-9003', NULL, NULL, 15.00, NULL, NULL, NULL, '2024-03-19 05:00', '2024-03-19 05:00'),                   -- winner of X-9003-9003
  -- status (3.3): COMPLETED when ended, IN_PROGRESS when only started, else PLANNED; quantities copied as they are
  (20, 2, 'END-ONLY', NULL, NULL, -5.50, NULL, '2024-03-20 09:00', NULL, '2024-03-20 05:00', '2024-03-20 09:00'),        -- ended, never started: COMPLETED/PASSED; negative quantity copied
  (21, 2, 'INF', NULL, NULL, 99999999.99, '-infinity', 'infinity', NULL, '2024-03-21 05:00', 'infinity'),                -- numeric(10,2) maximum; ±infinity: COMPLETED
  (22, 3, 'PRE-1970', 'c', 'i', 0.01, '1969-12-31 23:59:59.999', NULL,
       E'quotes '' " back\\slash tab\t LF\n CRLF\r\n emoji 🍰 RTL שלום combining é', '1900-01-01 00:00', '1970-01-01 00:00'),  -- IN_PROGRESS; text torture in notes
  (23, 3, 'MIGRATED-24', NULL, NULL, 0.10, NULL, NULL, NULL, '2024-03-23 05:00', '2024-03-23 05:00'),                    -- a code equal to run 24's default wins it (lower id)
  (24, 3, NULL, NULL, NULL, 0.20, NULL, NULL, NULL, '2024-03-24 05:00', '2024-03-24 05:00'),                             -- default MIGRATED-24 is run 23's -> MIGRATED-24-24
  (25, 1, 'LOT-Z', E'cake\u00a0lot', '', 25.00, '2024-03-25 06:00', '2024-03-25 07:00', '', '2024-03-25 05:00', '2024-03-25 07:00'),  -- '' notes/icing stay ''
  (9003, 2, 'X', NULL, NULL, 90.03, NULL, NULL, NULL, '2024-04-01 05:00', '2024-04-01 05:00');                           -- X is run 17's, X-9003 and X-9003-9003 taken: X-9003-9003-9003
SELECT setval('production_runs_id_seq', 9003);

INSERT INTO pallets (id, production_run_id, pallet_code, case_count, shipping_info, shipped_at, created_at, updated_at) VALUES
  (1, 1, 'PAL-A', 40, 'truck 7', '2024-03-02 10:00', '2024-03-01 10:00', '2024-03-02 10:00'),  -- winner of PAL-A; SHIPPED
  (2, 1, 'PAL-A', 40, NULL, NULL, '2024-03-01 11:00', '2024-03-01 11:00'),                       -- PAL-A-2 is pallet 11's: PAL-A-2-2; OPEN
  (3, NULL, NULL, NULL, NULL, NULL, '2024-03-01 12:00', '2024-03-01 12:00'),                     -- run NULL stays NULL (no fixup); code NULL -> PAL-3-MIGRATED
  (4, 2, 'PAL-3-MIGRATED', 0, NULL, NULL, '2024-03-01 13:00', '2024-03-01 13:00'),               -- pallet 3's default, 3 is lower -> PAL-3-MIGRATED-4
  (5, 777, '', 1, NULL, NULL, '2024-03-01 14:00', '2024-03-01 14:00'),                           -- run 777 dangles -> NULL + orphan_production_run; '' -> PAL-5-MIGRATED
  (6, 0, '  ', 2, NULL, NULL, '2024-03-01 15:00', '2024-03-01 15:00'),                           -- run 0 dangles; blank -> PAL-6-MIGRATED
  (7, 9003, ' PAL-A ', 3, NULL, NULL, '2024-03-01 16:00', '2024-03-01 16:00'),                   -- run 9003 kept; padded: base PAL-A -> PAL-A-7
  (8, 2, E'PAL\tTAB', 4, NULL, NULL, '2024-03-01 17:00', '2024-03-01 17:00'),                    -- tab inside: kept
  (9, 3, repeat('P', 201), 5, NULL, NULL, '2024-03-01 18:00', '2024-03-01 18:00'),               -- 201 characters -> PAL-9-MIGRATED
  (10, 3, 'P-10', 6, NULL, NULL, '2024-03-01 19:00', '2024-03-01 19:00'),                        -- plain winner
  (11, 4, 'PAL-A-2', 7, NULL, NULL, '2024-03-01 20:00', '2024-03-01 20:00'),                     -- winner of PAL-A-2
  (12, 25, 'SHIP-INF', -1, 'far future', 'infinity', '2024-03-01 21:00', '2024-03-01 21:00'),    -- shipped 'infinity': SHIPPED; negative case_count copied
  (13, 24, 'OPEN-1', NULL, E'quotes '' " back\\slash\ttab\nLF 📦', NULL, '1969-12-31 23:59:59.999', '1970-01-01 00:00'),  -- OPEN; text torture; pre-1970
  (14, -5, 'NEG-RUN', 8, NULL, NULL, '2024-03-01 22:00', '2024-03-01 22:00'),                    -- run -5 dangles -> NULL + fixup
  (15, 6, 'pal-a', 9, NULL, '2024-03-03 10:00', '2024-03-01 23:00', '2024-03-03 10:00'),         -- differs from PAL-A by case: kept; SHIPPED
  (16, 7, 'PAL-16-MIGRATED', 10, NULL, NULL, '2024-03-02 00:00', '2024-03-02 00:00');            -- a code equal to its own default: kept
SELECT setval('pallets_id_seq', 16);

INSERT INTO old_ingredient_table (id, name, category, unit, stock_qty, supplier, created_at) VALUES
  -- 3.2 rule 5: migrated, values mapped
  (1, 'Flour', 'flour', 'kg', 100.000, 'Mill Co', '2023-01-01 08:00'),                   -- FLOUR; the winner of its name group
  (2, '  Sugar  ', ' Sweetener ', ' kg ', 50.500, ' Sweet Inc ', '2023-01-02 08:00'),     -- name/unit/supplier trimmed; SUGAR
  -- rule 4 duplicate_name: the trimmed name, ASCII case folded, of a lower id that rules 1-3 let through
  (3, 'flour', NULL, NULL, NULL, NULL, '2023-01-03 08:00'),                              -- duplicate of 1
  (4, ' FLOUR ', 'FLOUR', 'kg', 1.000, NULL, '2023-01-04 08:00'),                        -- duplicate of 1
  (5, 'Éclair cream', 'CREAM', 'l', 2.000, NULL, '2023-01-05 08:00'),                    -- DAIRY
  (6, 'éclair cream', 'cream', 'l', 3.000, NULL, '2023-01-06 08:00'),                    -- differs by non-ASCII case only: NOT a duplicate, migrated
  -- rule 1 missing_name
  (7, NULL, 'flour', 'kg', 1.000, NULL, '2023-01-07 08:00'),
  (8, '', 'flour', 'kg', 1.000, NULL, '2023-01-08 08:00'),
  (9, '   ', 'flour', 'kg', 1.000, NULL, '2023-01-09 08:00'),
  (10, E'\t', 'spice', NULL, NULL, NULL, '2023-01-10 08:00'),                            -- a lone tab is not trimmed: a name; migrated, FLAVORING
  -- rule 2 name_too_long
  (11, repeat('n', 201), 'flour', 'kg', 1.000, NULL, '2023-01-11 08:00'),                -- 201 characters
  (12, '  ' || repeat('n', 200) || '  ', 'flour', 'kg', 1.000, NULL, '2023-01-12 08:00'),  -- 200 after trim: migrated
  -- rule 3 negative_stock, and the order of the rules
  (13, 'Cocoa', 'additive', 'kg', -0.001, NULL, '2023-01-13 08:00'),                     -- negative_stock
  (14, NULL, 'flour', 'kg', -5.000, NULL, '2023-01-14 08:00'),                           -- missing_name (rule 1 wins over rule 3)
  (15, 'Butter', 'butter', 'kg', 10.000, 'Dairy Farm', '2023-01-15 08:00'),              -- FATS
  (16, 'butter', 'butter', 'kg', -1.000, NULL, '2023-01-16 08:00'),                      -- negative_stock (rule 3 wins over rule 4)
  (17, 'Salt', 'additive', 'kg', -2.000, NULL, '2023-01-17 08:00'),                      -- negative_stock
  (18, 'salt', 'additive', 'kg', 2.000, NULL, '2023-01-18 08:00'),                       -- its lower twin 17 was rejected by rule 3: not a duplicate, migrated
  (19, 'Yeast', 'yeast', 'g', 500.000, NULL, '2023-01-19 08:00'),                        -- LEAVENING
  (20, 'YEAST', 'yeast', 'g', 1.000, NULL, '2023-01-20 08:00'),                          -- duplicate of 19
  (21, 'yeast ', 'yeast', 'g', 1.000, NULL, '2023-01-21 08:00'),                         -- duplicate of 19 (trailing space trimmed)
  -- TYPE_MAP on lower(btrim(category)) with ASCII folding; units, stock and suppliers
  (22, 'Whole milk', 'milk', NULL, NULL, NULL, '2023-02-01 08:00'),                      -- DAIRY; unit NULL -> units; stock NULL -> 0
  (23, 'Cheddar', ' Cheese ', '', 0, '', '2023-02-02 08:00'),                            -- DAIRY; unit '' -> units; supplier '' -> NULL
  (24, 'Egg white', 'egg', '  ', 999999999.999, ' ', '2023-02-03 08:00'),                -- EGGS; unit blank -> units; numeric(12,3) maximum; supplier blank -> NULL
  (25, 'Eggs (free range)', 'EGGS', ' g ', 0.000, NULL, '2023-02-04 08:00'),             -- EGGS; unit ' g ' -> g
  (26, 'Lard', 'fat', 'kg', 1.000, NULL, '2023-02-05 08:00'),                            -- FATS
  (27, 'Shortening', 'fats', 'kg', 1.000, NULL, '2023-02-06 08:00'),                     -- FATS
  (28, 'Sunflower oil', 'oil', 'l', 1.000, NULL, '2023-02-07 08:00'),                    -- FATS
  (29, 'Sourdough starter', 'leavening', 'kg', 1.000, NULL, '2023-02-08 08:00'),         -- LEAVENING
  (30, 'Baking powder', 'baking powder', 'kg', 1.000, NULL, '2023-02-09 08:00'),         -- LEAVENING
  (31, 'Vanilla flavoring', 'flavoring', 'ml', 1.000, NULL, '2023-02-10 08:00'),         -- FLAVORING
  (32, 'Rose flavouring', 'flavouring', 'ml', 1.000, NULL, '2023-02-11 08:00'),          -- FLAVORING
  (33, 'Almond extract', 'extract', 'ml', 1.000, NULL, '2023-02-12 08:00'),              -- FLAVORING
  (34, 'Xanthan', 'additive', 'g', 1.000, NULL, '2023-02-13 08:00'),                     -- ADDITIVE
  (35, 'Sorbate', 'preservative', 'g', 1.000, NULL, '2023-02-14 08:00'),                 -- ADDITIVE
  (36, 'Mystery mix', 'Baking  Powder', 'kg', 1.000, NULL, '2023-02-15 08:00'),          -- two spaces inside: OTHER
  (37, 'Rye flour', E'flour\t', 'kg', 1.000, NULL, '2023-02-16 08:00'),                  -- a tab is not trimmed: OTHER
  (38, 'Épices', 'ÉPICE', 'g', 1.000, NULL, '2023-02-17 08:00'),                         -- not in the map: OTHER
  (39, 'Water', NULL, 'l', 1.000, NULL, '2023-02-18 08:00'),                             -- category NULL: OTHER
  (40, 'Glitter', 'unknown', 'g', 1.000, NULL, '2023-02-19 08:00'),                      -- OTHER
  (41, 'Caster sugar', 'SUGAR', 'kg', 1.000, NULL, '2023-02-20 08:00'),                  -- SUGAR
  (42, 'Cream cheese', 'dairy', 'kg', 1.000, NULL, '2023-02-21 08:00'),                  -- DAIRY
  (43, E'Baker''s "best" \\ flour', 'Flour', 'kg', 1.000, NULL, '2023-02-22 08:00'),      -- quotes and backslash kept; FLOUR
  (44, 'Double cream', 'CrEaM', 'l', 0.001, NULL, NULL),                                 -- DAIRY; created_at NULL -> the run's time
  (45, 'Icing sugar', 'sweetener', 'kg', 123.456, 'Sweet Inc', '1969-12-31 23:59:59.999'),  -- SUGAR; pre-1970
  (46, 'Whipping cream', 'cream', 'l', 7.000, NULL, '2023-02-23 08:00');                 -- DAIRY
SELECT setval('old_ingredient_table_id_seq', 46);
COMMIT;
