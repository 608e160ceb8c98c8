-- Anchor of tests/bench/lot_traceability_bench.sh: psql running lot_traceability as a plain SQL
-- script in its best order, every statement in its own transaction (autocommit): the enums and the
-- ALTERs; the new tables without their secondary indexes; the placeholder; the numbers computed
-- once (the spec's UNIQUE-NUMBER) and applied with ONE UPDATE … FROM per table, whose old rows
-- feed the audit rows in the same statement; the ingredients in one INSERT … SELECT with their
-- audit rows; then the indexes and constraints, built once over the filled tables. No backup, no
-- ledger, no rejects or fixups tables, no checks: the floor of what the migration must write.
-- Run on the legacy database: psql -X -v ON_ERROR_STOP=1 -d DB -f tests/bench/anchors/lot_traceability.sql
CREATE TYPE ingredient_type AS ENUM ('FLOUR','SUGAR','DAIRY','EGGS','FATS','LEAVENING','FLAVORING','ADDITIVE','OTHER');
CREATE TYPE batch_status    AS ENUM ('PLANNED','IN_PROGRESS','COMPLETED','CANCELLED','ON_HOLD');
CREATE TYPE quality_status  AS ENUM ('PENDING','PASSED','FAILED','QUARANTINED');
CREATE TYPE lot_status      AS ENUM ('RECEIVED','IN_USE','CONSUMED','EXPIRED','RECALLED');
CREATE TYPE pallet_status   AS ENUM ('OPEN','SEALED','SHIPPED','RECALLED');
CREATE TYPE audit_action    AS ENUM ('CREATE','UPDATE','DELETE','MIGRATE');

ALTER TABLE recipes ADD COLUMN version integer NOT NULL DEFAULT 1,
  ADD COLUMN is_active boolean NOT NULL DEFAULT true,
  ADD COLUMN yield_quantity numeric(10,2), ADD COLUMN yield_unit text;
ALTER TABLE production_runs ADD COLUMN batch_number text, ADD COLUMN planned_quantity numeric(10,2),
  ADD COLUMN unit_of_measure text NOT NULL DEFAULT 'units',
  ADD COLUMN status batch_status NOT NULL DEFAULT 'PLANNED',
  ADD COLUMN quality_status quality_status NOT NULL DEFAULT 'PENDING',
  ADD COLUMN planned_start_time timestamp(3), ADD COLUMN quality_notes text;
ALTER TABLE pallets ADD COLUMN pallet_number text,
  ADD COLUMN status pallet_status NOT NULL DEFAULT 'OPEN', ADD COLUMN location text;

CREATE TABLE ingredients (
  id serial PRIMARY KEY, name text NOT NULL,
  type ingredient_type NOT NULL DEFAULT 'OTHER', unit_of_measure text NOT NULL DEFAULT 'units',
  current_stock numeric(12,3) NOT NULL DEFAULT 0, supplier_name text,
  allergens text[] NOT NULL DEFAULT '{}', legacy_id integer,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE ingredient_lots (
  id serial PRIMARY KEY,
  ingredient_id integer NOT NULL REFERENCES ingredients(id) ON DELETE RESTRICT,
  lot_number text NOT NULL, supplier_name text, supplier_lot_code text,
  received_date timestamp(3) NOT NULL, expiration_date timestamp(3),
  quantity_received numeric(12,3) NOT NULL, quantity_remaining numeric(12,3) NOT NULL,
  unit_of_measure text NOT NULL,
  status lot_status NOT NULL DEFAULT 'RECEIVED', quality_status quality_status NOT NULL DEFAULT 'PENDING',
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT ingredient_lots_ingredient_id_lot_number_key UNIQUE (ingredient_id, lot_number));
CREATE TABLE batch_ingredients (
  id serial PRIMARY KEY,
  production_run_id integer NOT NULL REFERENCES production_runs(id) ON DELETE CASCADE,
  ingredient_lot_id integer NOT NULL REFERENCES ingredient_lots(id) ON DELETE RESTRICT,
  quantity_used numeric(12,3) NOT NULL, unit_of_measure text NOT NULL, added_at timestamp(3),
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT batch_ingredients_run_lot_key UNIQUE (production_run_id, ingredient_lot_id));
CREATE TABLE audit_logs (
  id bigserial PRIMARY KEY, table_name text NOT NULL, record_id text NOT NULL,
  action audit_action NOT NULL, old_values jsonb, new_values jsonb,
  user_id text, reason text, created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);

-- the placeholder, when a run names no recipe (the recipes are as they were: no snapshot needed)
INSERT INTO recipes (name, created_by, is_active, version, description, created_at, updated_at)
SELECT 'Unknown Recipe (migrated)', 'migration:lot_traceability', false, 1,
       'placeholder for production runs whose recipe was missing', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
WHERE EXISTS (SELECT 1 FROM production_runs s WHERE NOT EXISTS (SELECT 1 FROM recipes r WHERE r.id = s.recipe_id
                AND NOT (r.name = 'Unknown Recipe (migrated)' AND r.created_by = 'migration:lot_traceability')));

CREATE TEMPORARY TABLE run_numbers AS
WITH RECURSIVE b AS (SELECT id, CASE WHEN btrim(daily_lot) IS NULL OR btrim(daily_lot) = '' OR char_length(btrim(daily_lot)) > 200
                                     THEN 'MIGRATED-' || id ELSE btrim(daily_lot) END AS base FROM production_runs),
     w AS (SELECT DISTINCT ON (base) id, base FROM b ORDER BY base, id),
     c AS (SELECT b.id, b.base || '-' || b.id AS number FROM b WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.id = b.id)
           UNION ALL SELECT c.id, c.number || '-' || c.id FROM c JOIN w ON w.base = c.number)
SELECT w.id, w.base AS number FROM w
UNION ALL SELECT c.id, c.number FROM c WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.base = c.number);
CREATE TEMPORARY TABLE pallet_numbers AS
WITH RECURSIVE b AS (SELECT id, CASE WHEN btrim(pallet_code) IS NULL OR btrim(pallet_code) = '' OR char_length(btrim(pallet_code)) > 200
                                     THEN 'PAL-' || id || '-MIGRATED' ELSE btrim(pallet_code) END AS base FROM pallets),
     w AS (SELECT DISTINCT ON (base) id, base FROM b ORDER BY base, id),
     c AS (SELECT b.id, b.base || '-' || b.id AS number FROM b WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.id = b.id)
           UNION ALL SELECT c.id, c.number || '-' || c.id FROM c JOIN w ON w.base = c.number)
SELECT w.id, w.base AS number FROM w
UNION ALL SELECT c.id, c.number FROM c WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.base = c.number);

ALTER TABLE run_numbers ADD PRIMARY KEY (id);
ALTER TABLE pallet_numbers ADD PRIMARY KEY (id);
ANALYZE run_numbers, pallet_numbers;

-- pallets first: their orphans are judged against the runs, which this statement does not change
WITH u AS (
  UPDATE pallets p SET pallet_number = x.number, status = x.status, production_run_id = x.run
    FROM (SELECT o.id, to_jsonb(o) - 'pallet_number' - 'status' - 'location' AS old_values, n.number,
                 (CASE WHEN o.shipped_at IS NOT NULL THEN 'SHIPPED' ELSE 'OPEN' END)::pallet_status AS status, r.id AS run
            FROM pallets o JOIN pallet_numbers n ON n.id = o.id LEFT JOIN production_runs r ON r.id = o.production_run_id) x
   WHERE x.id = p.id
  RETURNING p.id, x.old_values, p.pallet_number, p.status, p.production_run_id)
INSERT INTO audit_logs (table_name, record_id, action, old_values, new_values, user_id, reason)
SELECT 'pallets', u.id::text, 'MIGRATE', u.old_values,
       jsonb_build_object('pallet_number', u.pallet_number, 'status', u.status, 'production_run_id', u.production_run_id),
       'migration:lot_traceability', 'lot_traceability migration' FROM u;

WITH ph AS (SELECT min(id) AS id FROM recipes WHERE name = 'Unknown Recipe (migrated)' AND created_by = 'migration:lot_traceability'),
u AS (
  UPDATE production_runs p SET batch_number = x.number, planned_quantity = x.planned, unit_of_measure = 'units',
         status = x.status, quality_status = x.quality, recipe_id = x.recipe
    FROM (SELECT o.id, to_jsonb(o) - 'batch_number' - 'planned_quantity' - 'unit_of_measure' - 'status' - 'quality_status'
                   - 'planned_start_time' - 'quality_notes' AS old_values, n.number, COALESCE(o.actual_quantity, 0) AS planned,
                 (CASE WHEN o.actual_end_time IS NOT NULL THEN 'COMPLETED' WHEN o.actual_start_time IS NOT NULL THEN 'IN_PROGRESS'
                       ELSE 'PLANNED' END)::batch_status AS status,
                 (CASE WHEN o.actual_end_time IS NOT NULL THEN 'PASSED' ELSE 'PENDING' END)::quality_status AS quality,
                 COALESCE(r.id, (SELECT id FROM ph)) AS recipe
            FROM production_runs o JOIN run_numbers n ON n.id = o.id
            LEFT JOIN recipes r ON r.id = o.recipe_id
                  AND NOT (r.name = 'Unknown Recipe (migrated)' AND r.created_by = 'migration:lot_traceability')) x
   WHERE x.id = p.id
  RETURNING p.id, x.old_values, p.batch_number, p.planned_quantity, p.unit_of_measure, p.status, p.quality_status, p.recipe_id)
INSERT INTO audit_logs (table_name, record_id, action, old_values, new_values, user_id, reason)
SELECT 'production_runs', u.id::text, 'MIGRATE', u.old_values,
       jsonb_build_object('batch_number', u.batch_number, 'planned_quantity', u.planned_quantity,
                          'unit_of_measure', u.unit_of_measure, 'status', u.status, 'quality_status', u.quality_status,
                          'recipe_id', u.recipe_id),
       'migration:lot_traceability', 'lot_traceability migration' FROM u;

WITH o AS (SELECT s.*, lower(btrim(s.name) COLLATE "C") AS k,
                  COALESCE(btrim(s.name), '') = '' OR char_length(btrim(s.name)) > 200 OR s.stock_qty < 0 AS bad
             FROM old_ingredient_table s),
f AS (SELECT o.*, min(o.id) FILTER (WHERE NOT COALESCE(o.bad, false)) OVER (PARTITION BY o.k) AS first_id FROM o),
ins AS (
  INSERT INTO ingredients (name, type, unit_of_measure, current_stock, supplier_name, legacy_id, created_at, updated_at)
  SELECT btrim(f.name),
         (CASE lower(btrim(f.category) COLLATE "C")
            WHEN 'flour' THEN 'FLOUR' WHEN 'sugar' THEN 'SUGAR' WHEN 'sweetener' THEN 'SUGAR'
            WHEN 'dairy' THEN 'DAIRY' WHEN 'milk' THEN 'DAIRY' WHEN 'cream' THEN 'DAIRY' WHEN 'cheese' THEN 'DAIRY'
            WHEN 'egg' THEN 'EGGS' WHEN 'eggs' THEN 'EGGS'
            WHEN 'fat' THEN 'FATS' WHEN 'fats' THEN 'FATS' WHEN 'butter' THEN 'FATS' WHEN 'oil' THEN 'FATS'
            WHEN 'leavening' THEN 'LEAVENING' WHEN 'yeast' THEN 'LEAVENING' WHEN 'baking powder' THEN 'LEAVENING'
            WHEN 'flavoring' THEN 'FLAVORING' WHEN 'flavouring' THEN 'FLAVORING' WHEN 'spice' THEN 'FLAVORING'
            WHEN 'extract' THEN 'FLAVORING' WHEN 'additive' THEN 'ADDITIVE' WHEN 'preservative' THEN 'ADDITIVE'
            ELSE 'OTHER' END)::ingredient_type,
         COALESCE(NULLIF(btrim(f.unit), ''), 'units'), COALESCE(f.stock_qty, 0), NULLIF(btrim(f.supplier), ''), f.id,
         COALESCE(f.created_at, CURRENT_TIMESTAMP), COALESCE(f.created_at, CURRENT_TIMESTAMP)
    FROM f WHERE NOT COALESCE(f.bad, false) AND f.first_id = f.id ORDER BY f.id
  RETURNING *)
INSERT INTO audit_logs (table_name, record_id, action, old_values, new_values, user_id, reason)
SELECT 'ingredients', ins.id::text, 'MIGRATE', to_jsonb(s),
       jsonb_build_object('name', ins.name, 'type', ins.type, 'unit_of_measure', ins.unit_of_measure,
                          'current_stock', ins.current_stock, 'supplier_name', ins.supplier_name),
       'migration:lot_traceability', 'lot_traceability migration'
  FROM ins JOIN old_ingredient_table s ON s.id = ins.legacy_id;

CREATE UNIQUE INDEX ingredients_name_key ON ingredients(name);
CREATE UNIQUE INDEX ingredients_legacy_id_key ON ingredients(legacy_id);
CREATE INDEX audit_logs_table_record_idx ON audit_logs(table_name, record_id);
CREATE INDEX idx_ingredient_lots_supplier ON ingredient_lots(supplier_name);
CREATE INDEX idx_batch_ingredients_traceability ON batch_ingredients(production_run_id, ingredient_lot_id);
CREATE INDEX idx_ingredient_lots_status_quality ON ingredient_lots(status, quality_status);
CREATE UNIQUE INDEX production_runs_batch_number_key ON production_runs(batch_number);
CREATE UNIQUE INDEX pallets_pallet_number_key ON pallets(pallet_number);
CREATE INDEX idx_production_runs_date_range ON production_runs(actual_start_time, actual_end_time);
CREATE INDEX idx_pallets_status_location ON pallets(status, location);
CREATE INDEX idx_production_runs_status_quality ON production_runs(status, quality_status, created_at);
ALTER TABLE production_runs ALTER COLUMN batch_number SET NOT NULL,
  ALTER COLUMN planned_quantity SET NOT NULL, ALTER COLUMN recipe_id SET NOT NULL,
  ADD CONSTRAINT production_runs_recipe_id_fkey FOREIGN KEY (recipe_id) REFERENCES recipes(id) ON DELETE RESTRICT;
ALTER TABLE pallets ALTER COLUMN pallet_number SET NOT NULL,
  ADD CONSTRAINT pallets_production_run_id_fkey FOREIGN KEY (production_run_id)
      REFERENCES production_runs(id) ON DELETE SET NULL;
