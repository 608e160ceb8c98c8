-- examples/lot_traceability/generate.sql — large legacy database for scripts/lot_traceability.lua
-- (docs/lot_traceability.md; the schema ends up identical to small.sql's).
-- Deterministic (no random()): every value is a function of the row number g.
-- Scale: psql variable "scale" (default 1 = 1 000 000 production runs, 1 200 000 pallets,
-- 100 000 legacy ingredients, 1 000 recipes), or the environment variable EXAMPLES_SCALE (for
-- mighost sandbox, which cannot pass -v):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.01 -d DB -f examples/lot_traceability/generate.sql
--   EXAMPLES_SCALE=0.01 mighost sandbox --fixture examples/lot_traceability/generate.sql
-- Production runs: daily_lot shared by three consecutive runs ('LOT-' || g/3: two suffixed per
-- lot), NULL (g%13=0), '' (g%17=0), blank (g%19=0), 201 characters (g%23=0), padded (g%37=0),
-- with a tab (g%41=0), and g%31=0 takes the number run g+1 would get, so that one chains; recipe
-- NULL (g%97=0) or dangling (g%89=0: ids just past the recipes, the first of them the
-- placeholder's); quantities NULL, negative or zero; COMPLETED / IN_PROGRESS / PLANNED by thirds.
-- Pallets: codes in pairs ('PAL-' || p/2), NULL, '', 201 characters; run NULL (p%101=0) or
-- dangling (p%103=0). Ingredients: names 'Ingredient g'; g%20=0 and g%20=10 repeat g-1's name in
-- another ASCII case / padded (duplicate_name), g%333=1 repeats g-1's in another non-ASCII case
-- (distinct); g%1000 = 1..4 missing or too long names; g%97=0 negative stock.
-- Exact expected counts: run expected.sql on the legacy database (README.md lists them for scale 1).
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
SELECT greatest(30, round(1000000 * :scale))::int AS n_runs,
       greatest(36, round(1200000 * :scale))::int AS n_pallets,
       greatest(30, round(100000 * :scale))::int AS n_ingredients,
       greatest(10, round(1000 * :scale))::int AS n_recipes \gset
\echo lot_traceability generator: :n_runs production runs, :n_pallets pallets, :n_ingredients ingredients, :n_recipes recipes

BEGIN;
CREATE TABLE recipes (
  id serial PRIMARY KEY, name text NOT NULL, description text, instructions text,
  created_by text,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE TABLE production_runs (
  id serial PRIMARY KEY,
  recipe_id integer,
  daily_lot text,
  cake_lot text, icing_lot text,
  actual_quantity numeric(10,2),
  actual_start_time timestamp(3), actual_end_time timestamp(3),
  notes text,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE TABLE pallets (
  id serial PRIMARY KEY,
  production_run_id integer,
  pallet_code text,
  case_count integer, shipping_info text, shipped_at timestamp(3),
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL);
CREATE TABLE old_ingredient_table (
  id serial PRIMARY KEY, name text, category text, unit text,
  stock_qty numeric(12,3), supplier text,
  created_at timestamp(3) DEFAULT CURRENT_TIMESTAMP);

INSERT INTO recipes (id, name, description, instructions, created_by, created_at, updated_at)
SELECT r, CASE WHEN r = 7 THEN 'Unknown Recipe (migrated)' ELSE 'Recipe ' || r END,   -- r = 7: the name, not the author
       CASE WHEN r % 3 = 0 THEN NULL ELSE 'Recipe number ' || r || E' \u2014 "house" style' END,
       CASE WHEN r % 4 = 0 THEN E'Mix.\n\tBake.' END,
       CASE WHEN r % 5 = 0 THEN NULL ELSE 'baker:' || (r % 17) END,
       timestamp '2022-01-01 08:00' + r * interval '1 hour', timestamp '2023-01-01 08:00' + r * interval '1 hour'
FROM generate_series(1, :n_recipes) AS r;
SELECT setval('recipes_id_seq', :n_recipes);

INSERT INTO production_runs (id, recipe_id, daily_lot, cake_lot, icing_lot, actual_quantity, actual_start_time,
                             actual_end_time, notes, created_at, updated_at)
SELECT g,
       CASE WHEN g % 97 = 0 THEN NULL WHEN g % 89 = 0 THEN :n_recipes + 1 + g % 5 ELSE 1 + g % :n_recipes END,
       CASE WHEN g % 13 = 0 THEN NULL WHEN g % 17 = 0 THEN '' WHEN g % 19 = 0 THEN '   '
            WHEN g % 23 = 0 THEN repeat('L', 201)
            WHEN g % 31 = 0 THEN 'LOT-' || ((g + 1) / 3) || '-' || (g + 1)
            WHEN g % 37 = 0 THEN '  LOT-' || (g / 3) || ' '
            WHEN g % 41 = 0 THEN E'LOT\t' || (g / 3)
            ELSE 'LOT-' || (g / 3) END,
       CASE WHEN g % 2 = 0 THEN 'C-' || (g / 2) END,
       CASE WHEN g % 5 = 0 THEN 'I-' || (g / 5) WHEN g % 5 = 1 THEN '' END,
       CASE WHEN g % 11 = 0 THEN NULL WHEN g % 43 = 0 THEN -(g % 100) / 4.0 WHEN g % 47 = 0 THEN 0
            ELSE (g % 500000) / 10.0 END,
       CASE WHEN g % 3 = 2 THEN NULL WHEN g % 10007 = 1 THEN '-infinity'::timestamp
            ELSE timestamp '2023-06-01 06:00' + g * interval '1 minute' END,
       CASE WHEN g % 3 <> 0 THEN NULL WHEN g % 10007 = 3 THEN 'infinity'::timestamp
            ELSE timestamp '2023-06-01 09:00:00.125' + g * interval '1 minute' END,
       CASE WHEN g % 7 = 0 THEN E'quotes '' " back\\slash\ttab\nLF \U0001F370 ' || g WHEN g % 7 = 1 THEN '' END,
       CASE WHEN g % 50000 = 5 THEN timestamp '1969-12-31 23:59:59.999' ELSE timestamp '2023-06-01 05:00' + g * interval '1 minute' END,
       timestamp '2023-06-01 10:00' + g * interval '1 minute'
FROM generate_series(1, :n_runs) AS g;
SELECT setval('production_runs_id_seq', :n_runs);
CREATE INDEX production_runs_recipe_id_idx ON production_runs(recipe_id);

INSERT INTO pallets (id, production_run_id, pallet_code, case_count, shipping_info, shipped_at, created_at, updated_at)
SELECT p,
       CASE WHEN p % 101 = 0 THEN NULL WHEN p % 103 = 0 THEN :n_runs + p ELSE 1 + (p * 7) % :n_runs END,
       CASE WHEN p % 13 = 0 THEN NULL WHEN p % 17 = 0 THEN '' WHEN p % 19 = 0 THEN repeat('P', 201)
            WHEN p % 29 = 0 THEN ' PAL-' || (p / 2) || '  '
            ELSE 'PAL-' || (p / 2) END,
       CASE WHEN p % 9 = 0 THEN NULL ELSE p % 60 END,
       CASE WHEN p % 4 = 0 THEN E'dock ' || (p % 12) || E'\nbay "B"' END,
       CASE WHEN p % 2 = 0 THEN timestamp '2023-07-01 12:00' + p * interval '1 minute'
            WHEN p % 100003 = 1 THEN 'infinity'::timestamp END,
       timestamp '2023-06-15 08:00' + p * interval '30 seconds', timestamp '2023-06-15 09:00' + p * interval '30 seconds'
FROM generate_series(1, :n_pallets) AS p;
SELECT setval('pallets_id_seq', :n_pallets);

INSERT INTO old_ingredient_table (id, name, category, unit, stock_qty, supplier, created_at)
SELECT g,
       CASE g % 1000 WHEN 1 THEN NULL WHEN 2 THEN '' WHEN 3 THEN '   ' WHEN 4 THEN repeat('n', 201)
            ELSE CASE WHEN g % 20 = 0 THEN 'INGREDIENT ' || (g - 1)
                      WHEN g % 20 = 10 THEN ' ingredient ' || (g - 1) || ' '
                      WHEN g % 333 = 0 THEN 'Élan ' || g
                      WHEN g % 333 = 1 AND g > 1 THEN 'élan ' || (g - 1)
                      ELSE 'Ingredient ' || g END END,
       (ARRAY['flour', 'Sugar', ' sweetener ', 'DAIRY', 'milk', 'Cheese', 'egg', 'butter', 'oil', 'yeast',
              'baking powder', 'spice', 'flavouring', 'extract', 'additive', 'preservative', 'unknown', NULL])[1 + g % 18],
       CASE WHEN g % 7 = 0 THEN NULL WHEN g % 7 = 1 THEN '' WHEN g % 7 = 2 THEN ' g ' ELSE 'kg' END,
       CASE WHEN g % 97 = 0 THEN -1 - (g % 5) WHEN g % 11 = 0 THEN NULL ELSE (g % 100000) / 8.0 END,
       CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN ' ' ELSE ' Supplier ' || (g % 50) || ' ' END,
       CASE WHEN g % 1013 = 0 THEN NULL ELSE timestamp '2021-01-01 08:00' + g * interval '1 hour' END
FROM generate_series(1, :n_ingredients) AS g;
SELECT setval('old_ingredient_table_id_seq', :n_ingredients);
COMMIT;
ANALYZE recipes, production_runs, pallets, old_ingredient_table;
