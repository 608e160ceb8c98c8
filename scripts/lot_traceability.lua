-- lot_traceability: BakerMaiden phase 1 lot traceability: the schema change (enums, new columns
-- of recipes, production_runs and pallets, the new tables) and the data migration (ingredients
-- imported, batch and pallet numbers, audit rows), then the constraints the application relies
-- on. What it does, its options, codes, checks and rollback: docs/lot_traceability.md.
--
-- Runbook it replaces: "prisma migrate; UPDATE production_runs SET batch_number = 'MIGRATED-' ||
-- id; UPDATE pallets SET pallet_number = …; INSERT INTO ingredients SELECT … FROM
-- old_ingredient_table". On real data that runbook aborts (its numbers collide with the unique
-- indexes; the seed's fix, suffixing duplicates once, still collides) and its answer to an enum
-- clash is DROP TYPE … CASCADE, which drops every column of that type. Here an enum with other
-- labels refuses the run; numbers are computed once over the snapshot and chained until free;
-- bad ingredients are rejected with a reason; dangling references are repaired and logged; every
-- migrated row gets its audit row; and the constraints are added without long write locks.
local db = require "mighost.db"
local schema = require "mighost.schema"
local migration = require "mighost.migration"

local S = "mig_backup_lot_traceability"   -- the snapshot (before any ALTER): source of every rule
local WHO = "migration:lot_traceability"

-- Section 2's changes to existing tables, as the spec writes them. The framework adds the columns
-- in setup and the indexes and constraints after the rows, each in its lock-safe form.
local ALTER_DDL = [[
ALTER TABLE recipes ADD COLUMN version integer NOT NULL DEFAULT 1,
  ADD COLUMN is_active boolean NOT NULL DEFAULT true,
  ADD COLUMN yield_quantity numeric(10,2), ADD COLUMN yield_unit text;
ALTER TABLE production_runs ADD COLUMN batch_number text, ADD COLUMN planned_quantity numeric(10,2),
  ADD COLUMN unit_of_measure text NOT NULL DEFAULT 'units',
  ADD COLUMN status batch_status NOT NULL DEFAULT 'PLANNED',
  ADD COLUMN quality_status quality_status NOT NULL DEFAULT 'PENDING',
  ADD COLUMN planned_start_time timestamp(3), ADD COLUMN quality_notes text;
CREATE UNIQUE INDEX production_runs_batch_number_key ON production_runs(batch_number);
ALTER TABLE pallets ADD COLUMN pallet_number text,
  ADD COLUMN status pallet_status NOT NULL DEFAULT 'OPEN', ADD COLUMN location text;
CREATE UNIQUE INDEX pallets_pallet_number_key ON pallets(pallet_number);
CREATE INDEX idx_production_runs_date_range ON production_runs(actual_start_time, actual_end_time);
CREATE INDEX idx_pallets_status_location ON pallets(status, location);
CREATE INDEX idx_production_runs_status_quality ON production_runs(status, quality_status, created_at);
ALTER TABLE production_runs ALTER COLUMN batch_number SET NOT NULL,
  ALTER COLUMN planned_quantity SET NOT NULL, ALTER COLUMN recipe_id SET NOT NULL,
  ADD CONSTRAINT production_runs_recipe_id_fkey FOREIGN KEY (recipe_id) REFERENCES recipes(id) ON DELETE RESTRICT;
ALTER TABLE pallets ALTER COLUMN pallet_number SET NOT NULL,
  ADD CONSTRAINT pallets_production_run_id_fkey FOREIGN KEY (production_run_id)
      REFERENCES production_runs(id) ON DELETE SET NULL;]]

-- Section 2's new tables (the secondary index of audit_logs, which the phases fill, is built
-- after the rows; the tables that start empty get everything at once).
local TARGET_DDL = [[
CREATE TABLE ingredients (
  id serial PRIMARY KEY, name text NOT NULL,
  type ingredient_type NOT NULL DEFAULT 'OTHER', unit_of_measure text NOT NULL DEFAULT 'units',
  current_stock numeric(12,3) NOT NULL DEFAULT 0, supplier_name text,
  allergens text[] NOT NULL DEFAULT '{}',
  legacy_id integer,
  created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX ingredients_name_key ON ingredients(name);
CREATE UNIQUE INDEX ingredients_legacy_id_key ON ingredients(legacy_id);
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
CREATE INDEX audit_logs_table_record_idx ON audit_logs(table_name, record_id);
CREATE INDEX idx_ingredient_lots_supplier ON ingredient_lots(supplier_name);
CREATE INDEX idx_batch_ingredients_traceability ON batch_ingredients(production_run_id, ingredient_lot_id);
CREATE INDEX idx_ingredient_lots_status_quality ON ingredient_lots(status, quality_status);]]

local ENUMS = {
  ingredient_type = {"FLOUR", "SUGAR", "DAIRY", "EGGS", "FATS", "LEAVENING", "FLAVORING", "ADDITIVE", "OTHER"},
  batch_status = {"PLANNED", "IN_PROGRESS", "COMPLETED", "CANCELLED", "ON_HOLD"},
  quality_status = {"PENDING", "PASSED", "FAILED", "QUARANTINED"},
  lot_status = {"RECEIVED", "IN_USE", "CONSUMED", "EXPIRED", "RECALLED"},
  pallet_status = {"OPEN", "SEALED", "SHIPPED", "RECALLED"},
  audit_action = {"CREATE", "UPDATE", "DELETE", "MIGRATE"},
}

-- 3.1 UNIQUE-NUMBER(code, default) over a snapshot: the spec's reference SQL (id, number).
local function NUM(snapshot, code, default)
  return (([[WITH RECURSIVE b AS (SELECT id, CASE WHEN btrim(<code>) IS NULL OR btrim(<code>) = '' OR char_length(btrim(<code>)) > 200
                                     THEN <default> ELSE btrim(<code>) END AS base FROM <snapshot>),
     w AS (SELECT DISTINCT ON (base) id, base FROM b ORDER BY base, id),
     c AS (SELECT b.id, b.base || '-' || b.id AS number FROM b WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.id = b.id)
           UNION ALL
           SELECT c.id, c.number || '-' || c.id FROM c JOIN w ON w.base = c.number)
SELECT w.id, w.base AS number FROM w
UNION ALL SELECT c.id, c.number FROM c WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.base = c.number)]])
    :gsub("<code>", code):gsub("<default>", default):gsub("<snapshot>", snapshot))
end
local NUM_RUNS = NUM(S .. ".production_runs", "daily_lot", "'MIGRATED-' || id")
local NUM_PALLETS = NUM(S .. ".pallets", "pallet_code", "'PAL-' || id || '-MIGRATED'")

-- TYPE_MAP(category) of 3.2.
local function TYPE_MAP(c)
  return [[(CASE lower(btrim(]] .. c .. [[) COLLATE "C")
    WHEN 'flour' THEN 'FLOUR' WHEN 'sugar' THEN 'SUGAR' WHEN 'sweetener' THEN 'SUGAR'
    WHEN 'dairy' THEN 'DAIRY' WHEN 'milk' THEN 'DAIRY' WHEN 'cream' THEN 'DAIRY' WHEN 'cheese' THEN 'DAIRY'
    WHEN 'egg' THEN 'EGGS' WHEN 'eggs' THEN 'EGGS'
    WHEN 'fat' THEN 'FATS' WHEN 'fats' THEN 'FATS' WHEN 'butter' THEN 'FATS' WHEN 'oil' THEN 'FATS'
    WHEN 'leavening' THEN 'LEAVENING' WHEN 'yeast' THEN 'LEAVENING' WHEN 'baking powder' THEN 'LEAVENING'
    WHEN 'flavoring' THEN 'FLAVORING' WHEN 'flavouring' THEN 'FLAVORING' WHEN 'spice' THEN 'FLAVORING'
    WHEN 'extract' THEN 'FLAVORING' WHEN 'additive' THEN 'ADDITIVE' WHEN 'preservative' THEN 'ADDITIVE'
    ELSE 'OTHER' END)::ingredient_type]]
end

-- Rule 4 of 3.2, read once per run for the whole table: per row, the lowest id of its name group
-- (trimmed, ASCII case folded) that rules 1-3 let through, and an ingredient that already holds the
-- name under another legacy_id (one hash join instead of a scan per row).
local DUPLICATES = [[
WITH o AS (SELECT id, lower(btrim(name) COLLATE "C") AS k,
                  min(id) FILTER (WHERE btrim(name) <> '' AND char_length(btrim(name)) <= 200
                                    AND (stock_qty IS NULL OR stock_qty >= 0))
                    OVER (PARTITION BY lower(btrim(name) COLLATE "C")) AS first_id
             FROM old_ingredient_table)
SELECT o.id, o.first_id, min(i.id) AS holder
  FROM o LEFT JOIN ingredients i ON lower(i.name COLLATE "C") = o.k AND i.legacy_id IS DISTINCT FROM o.id
 GROUP BY o.id, o.first_id]]

local PLACEHOLDER = [[(SELECT min(x.id) FROM recipes x WHERE x.name = 'Unknown Recipe (migrated)'
                        AND x.created_by = 'migration:lot_traceability')]]

local function STATUS(s) return "CASE WHEN " .. s .. ".actual_end_time IS NOT NULL THEN 'COMPLETED' WHEN " .. s
  .. ".actual_start_time IS NOT NULL THEN 'IN_PROGRESS' ELSE 'PLANNED' END" end

-- The MIGRATE audit row of a migrated row: t is the row as written, s the legacy/snapshot row.
local function audit(tbl, columns)
  local pairs_ = {}
  for i, c in ipairs(columns) do pairs_[i] = "'" .. c .. "', t." .. c end
  return {table = "audit_logs", row = {
    table_name = "'" .. tbl .. "'", record_id = "t.id::text", action = "'MIGRATE'::audit_action",
    old_values = "to_jsonb(s)", new_values = "jsonb_build_object(" .. table.concat(pairs_, ", ") .. ")",
    user_id = "'" .. WHO .. "'", reason = "'lot_traceability migration'"}}
end

-- rows_preserved for one table: the spec's jsonb comparison (snapshot row s minus `free` against
-- the live row p minus `free` and the added columns), made column by column: IS DISTINCT FROM
-- gives the same verdict for these types without building a jsonb value per row and side. A live
-- table whose columns are not the snapshot's plus the added ones differs in every row, as with jsonb.
local function preserved(ctx, tbl, free, added)
  local snap, live = schema.columns(ctx.db, S .. "." .. tbl), schema.columns(ctx.db, tbl)
  if not snap or not live then return "true" end
  local type_of, extra = {}, {}
  for _, c in ipairs(live) do type_of[c.name] = c.type end
  for _, c in ipairs(added) do extra[c] = true end
  local same, left, right = #live == #snap + #added, {}, {}
  for _, c in ipairs(snap) do
    same = same and type_of[c.name] == c.type and not extra[c.name]
    if c.name ~= free then
      left[#left + 1], right[#right + 1] = "s." .. db.quote_ident(c.name), "p." .. db.quote_ident(c.name)
    end
  end
  if not same then return "true" end
  return "p.id IS NULL OR (" .. table.concat(left, ", ") .. ") IS DISTINCT FROM (" .. table.concat(right, ", ") .. ")"
end

-- The rows the checks of section 5 count over, one pass each (checks declared with `count` over
-- the same FROM share one query): every snapshot row s with its live row p, the snapshot row r it
-- referenced, and f when one of the set's orphan fixups names it. Every join is on a unique key,
-- so each snapshot row is counted once.
local function fixed(set)
  return "(SELECT DISTINCT source_key FROM mig_meta.fixups WHERE migration = 'lot_traceability' AND source_table = '"
    .. set .. "' AND rule IN ('orphan_recipe', 'orphan_production_run')) f ON f.source_key = s.id::text"
end
local RUNS = S .. ".production_runs s LEFT JOIN production_runs p ON p.id = s.id LEFT JOIN " .. S
  .. ".recipes r ON r.id = s.recipe_id LEFT JOIN " .. fixed("production_runs")
local PALLETS = S .. ".pallets s LEFT JOIN pallets p ON p.id = s.id LEFT JOIN " .. S
  .. ".production_runs r ON r.id = s.production_run_id LEFT JOIN " .. fixed("pallets")
local RECIPES = S .. ".recipes s LEFT JOIN recipes p ON p.id = s.id"

-- audit_complete: the spec's count (migrated rows without exactly one MIGRATE audit row) is taken
-- only when the proof that it is 0 fails. The proof is one hash join per audited table of its rows
-- with their MIGRATE rows (parallel, each audit row hashed once): no row without one, and as
-- many joined audit rows as rows, so none has two. The count groups every audit row by table and
-- record, which costs several times the joins. The table's name is a parameter, (SELECT '…'):
-- autovacuum's statistics of audit_logs, taken while the phases fill it, may know no row of the
-- last table, and an estimate of one row makes each parallel worker hash all of them itself.
local AUDITED = {{"ingredients", "legacy_id IS NOT NULL"}, {"production_runs", "true"}, {"pallets", "true"}}
local AUDIT_COMPLETE = (function()
  local proof, rows = {}, {}
  for i, t in ipairs(AUDITED) do
    local tbl, migrated = t[1], t[2]
    proof[i] = "(SELECT count(*) FILTER (WHERE a.id IS NULL) = 0 AND count(a.id) = (SELECT count(*) FROM " .. tbl
      .. " WHERE " .. migrated .. ") FROM " .. tbl .. " p LEFT JOIN audit_logs a ON a.action = 'MIGRATE' AND a.table_name = (SELECT '"
      .. tbl .. "') AND a.record_id = p.id::text WHERE " .. migrated .. ")"
    rows[i] = "SELECT '" .. tbl .. "' t, id::text k FROM " .. tbl .. " WHERE " .. migrated
  end
  return "SELECT CASE WHEN " .. table.concat(proof, "\n    AND ") .. "\n  THEN 0 ELSE (SELECT count(*) FROM ("
    .. table.concat(rows, " UNION ALL ") .. [[) m
      LEFT JOIN (SELECT table_name, record_id, count(*) AS n FROM audit_logs WHERE action = 'MIGRATE' GROUP BY 1, 2) a
        ON a.table_name = m.t AND a.record_id = m.k
      WHERE a.n IS DISTINCT FROM 1) END]]
end)()

local m = migration.define {
  name = "lot_traceability",
  description = "BakerMaiden lot traceability: enums, columns, numbers, ingredients, audit rows, constraints",
  options = {batch_size = {default = 5000}, limit = false},   -- the spec has no --limit
  backup = {"recipes", "production_runs", "pallets"},
  enums = ENUMS,
  alter_ddl = ALTER_DDL,
  target_ddl = TARGET_DDL,

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('recipes') IS NOT NULL AND to_regclass('production_runs') IS NOT NULL
        AND to_regclass('pallets') IS NOT NULL AND to_regclass('old_ingredient_table') IS NOT NULL]]},
  },

  -- The placeholder recipe, only when a snapshot run names no snapshot recipe.
  setup = function(ctx)
    ctx.db:exec([[INSERT INTO recipes (name, created_by, is_active, version, description, created_at, updated_at)
      SELECT 'Unknown Recipe (migrated)', 'migration:lot_traceability', false, 1,
             'placeholder for production runs whose recipe was missing', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
      WHERE NOT EXISTS (SELECT 1 FROM recipes x WHERE x.name = 'Unknown Recipe (migrated)'
                          AND x.created_by = 'migration:lot_traceability')
        AND EXISTS (SELECT 1 FROM ]] .. S .. [[.production_runs s
                    WHERE NOT EXISTS (SELECT 1 FROM ]] .. S .. [[.recipes r WHERE r.id = s.recipe_id))]])
  end,

  phases = {
    { name = "old_ingredient_table",
      source = "old_ingredient_table", key = "id",
      target = {table = "ingredients", key = "legacy_id"},
      map = {
        name = "btrim(s.name)", type = TYPE_MAP("s.category"),
        unit_of_measure = [[COALESCE(NULLIF(btrim(s.unit), ''), 'units')]],
        current_stock = "COALESCE(s.stock_qty, 0)", supplier_name = [[NULLIF(btrim(s.supplier), '')]],
        legacy_id = "s.id",
        created_at = "COALESCE(s.created_at, CURRENT_TIMESTAMP)", updated_at = "COALESCE(s.created_at, CURRENT_TIMESTAMP)",
      },
      derived = DUPLICATES,
      rejects = {   -- first match wins
        {"missing_name", [[COALESCE(btrim(s.name), '') = '']]},
        {"name_too_long", "char_length(btrim(s.name)) > 200", detail = [['name of ' || char_length(btrim(s.name)) || ' characters']]},
        {"negative_stock", "s.stock_qty < 0", detail = "'stock_qty ' || s.stock_qty"},
        {"duplicate_name", "d.first_id < s.id OR d.holder IS NOT NULL",
         detail = [[CASE WHEN d.first_id < s.id THEN 'duplicate of old_ingredient_table id ' || d.first_id
                    ELSE 'duplicate of ingredients id ' || d.holder END]]},
      },
      audit = audit("ingredients", {"name", "type", "unit_of_measure", "current_stock", "supplier_name"}),
      -- ingredient_values compares what the spec compares (created_at may be the run's own time)
      check_names = {accounted = "ingredients_accounted", values = false} },

    { name = "production_runs",
      source = S .. ".production_runs", key = "id",
      target = {table = "production_runs", update = true},
      migrated = [[EXISTS (SELECT 1 FROM production_runs p WHERE p.id = s.id AND p.batch_number IS NOT NULL)]],
      migrated_count = "SELECT count(*) FROM " .. S .. [[.production_runs s JOIN production_runs p ON p.id = s.id
          WHERE p.batch_number IS NOT NULL]],
      fresh = [[SELECT NOT EXISTS (SELECT 1 FROM production_runs WHERE batch_number IS NOT NULL)]],
      derived = NUM_RUNS,
      map = {
        batch_number = "d.number", planned_quantity = "COALESCE(s.actual_quantity, 0)", unit_of_measure = "'units'",
        status = "(" .. STATUS("s") .. ")::batch_status",
        quality_status = "(CASE WHEN s.actual_end_time IS NOT NULL THEN 'PASSED' ELSE 'PENDING' END)::quality_status",
        recipe_id = "s.recipe_id",
      },
      -- judged against the snapshot: the placeholder may have taken an id a dangling reference names
      references = {recipe_id = {table = S .. ".recipes", key = "id", rule = "orphan_recipe",
                                 fallback = PLACEHOLDER, required = true}},
      audit = audit("production_runs", {"batch_number", "planned_quantity", "unit_of_measure", "status",
                                        "quality_status", "recipe_id"}),
      check_names = {values = false, fixups = false} },   -- run_values, batch_numbers, fixups_logged

    { name = "pallets",
      source = S .. ".pallets", key = "id",
      target = {table = "pallets", update = true},
      migrated = [[EXISTS (SELECT 1 FROM pallets p WHERE p.id = s.id AND p.pallet_number IS NOT NULL)]],
      migrated_count = "SELECT count(*) FROM " .. S .. [[.pallets s JOIN pallets p ON p.id = s.id
          WHERE p.pallet_number IS NOT NULL]],
      fresh = [[SELECT NOT EXISTS (SELECT 1 FROM pallets WHERE pallet_number IS NOT NULL)]],
      derived = NUM_PALLETS,
      map = {
        pallet_number = "d.number",
        status = "(CASE WHEN s.shipped_at IS NOT NULL THEN 'SHIPPED' ELSE 'OPEN' END)::pallet_status",
        production_run_id = "s.production_run_id",
      },
      references = {production_run_id = {table = S .. ".production_runs", key = "id", rule = "orphan_production_run"}},
      audit = audit("pallets", {"pallet_number", "status", "production_run_id"}),
      check_names = {values = false, fixups = false} },   -- pallet_values, pallet_numbers, fixups_logged
  },

  -- Section 5 (ingredients_accounted is generated under its name). The checks that look at every
  -- row of a set need a complete run; the duplicate_name case of ingredient_rejects_valid is the
  -- spec's count written as a hash join (no index on that key).
  checks = {
    {name = "ingredient_values", sql = [[SELECT count(*) FROM old_ingredient_table o JOIN ingredients i ON i.legacy_id = o.id
        WHERE (i.name, i.unit_of_measure, i.current_stock, i.supplier_name, i.type) IS DISTINCT FROM
              (btrim(o.name), COALESCE(NULLIF(btrim(o.unit),''),'units'), COALESCE(o.stock_qty,0), NULLIF(btrim(o.supplier),''),
               ]] .. TYPE_MAP("o.category") .. ")"},
    {name = "ingredient_rejects_valid", sql = [[SELECT count(*) FROM mig_meta.rejects r JOIN old_ingredient_table o
        ON r.source_key = o.id::text
        WHERE r.migration = 'lot_traceability' AND r.source_table = 'old_ingredient_table' AND NOT CASE r.reason
          WHEN 'missing_name'   THEN COALESCE(btrim(o.name),'') = ''
          WHEN 'name_too_long'  THEN char_length(btrim(o.name)) > 200
          WHEN 'negative_stock' THEN o.stock_qty < 0
          WHEN 'duplicate_name' THEN lower(btrim(o.name) COLLATE "C") IN (SELECT lower(i.name COLLATE "C") FROM ingredients i)
          ELSE false END]]},
    -- NUM over the snapshot (which never changes), as the phase computed it this run (a temporary
    -- table, which parallel workers cannot read: not in the passes below), else computed here
    {name = "batch_numbers", needs = "complete", sql = function(ctx) return "SELECT count(*) FROM production_runs p JOIN "
        .. ctx:derived("production_runs") .. " n ON n.id = p.id WHERE p.batch_number IS DISTINCT FROM n.number" end},
    {name = "pallet_numbers", needs = "complete", sql = function(ctx) return "SELECT count(*) FROM pallets p JOIN "
        .. ctx:derived("pallets") .. " n ON n.id = p.id WHERE p.pallet_number IS DISTINCT FROM n.number" end},
    -- the spec's joins of production_runs p (pallets p) with the snapshot s are the rows with p.id
    {name = "run_values", needs = "complete", count = {{RUNS, [[p.id IS NOT NULL AND (
        p.planned_quantity IS DISTINCT FROM COALESCE(s.actual_quantity, 0) OR p.unit_of_measure <> 'units'
        OR p.status::text <> ]] .. STATUS("s") .. [[
        OR p.quality_status::text <> CASE WHEN s.actual_end_time IS NOT NULL THEN 'PASSED' ELSE 'PENDING' END
        OR p.recipe_id IS DISTINCT FROM COALESCE(r.id, ]] .. PLACEHOLDER .. "))"}}},
    {name = "pallet_values", needs = "complete", count = {{PALLETS, [[p.id IS NOT NULL AND (
        p.status::text <> CASE WHEN s.shipped_at IS NOT NULL THEN 'SHIPPED' ELSE 'OPEN' END
        OR p.production_run_id IS DISTINCT FROM r.id)]]}}},
    {name = "rows_preserved", count = {
      {RUNS, function(ctx) return preserved(ctx, "production_runs", "recipe_id", {"batch_number", "planned_quantity",
          "unit_of_measure", "status", "quality_status", "planned_start_time", "quality_notes"}) end},
      {PALLETS, function(ctx) return preserved(ctx, "pallets", "production_run_id", {"pallet_number", "status", "location"}) end},
      {RECIPES, function(ctx) return preserved(ctx, "recipes", nil, {"version", "is_active", "yield_quantity", "yield_unit"}) end}}},
    {name = "audit_complete", needs = "complete", sql = AUDIT_COMPLETE},
    -- the runs whose snapshot recipe is missing (NULL too) and the pallets whose snapshot run is
    {name = "fixups_logged", needs = "complete", count = {{RUNS, "r.id IS NULL AND f.source_key IS NULL"},
      {PALLETS, "s.production_run_id IS NOT NULL AND r.id IS NULL AND f.source_key IS NULL"}}},
    {name = "constraints_present", needs = "finalize", sql = [[SELECT 8
        - (SELECT count(*) FROM pg_constraint WHERE conname IN ('production_runs_recipe_id_fkey', 'pallets_production_run_id_fkey'))
        - (SELECT count(*) FROM pg_attribute WHERE attnotnull AND (
             (attrelid = 'production_runs'::regclass AND attname IN ('batch_number', 'planned_quantity', 'recipe_id'))
          OR (attrelid = 'pallets'::regclass AND attname = 'pallet_number')))
        - (SELECT count(*) FROM pg_indexes WHERE indexname IN ('production_runs_batch_number_key', 'pallets_pallet_number_key'))]]},
  },

  rollback = [[
BEGIN;
ALTER TABLE production_runs DROP CONSTRAINT IF EXISTS production_runs_recipe_id_fkey, ALTER COLUMN recipe_id DROP NOT NULL;
ALTER TABLE pallets DROP CONSTRAINT IF EXISTS pallets_production_run_id_fkey;
UPDATE production_runs p SET recipe_id = s.recipe_id FROM mig_backup_lot_traceability.production_runs s
 WHERE s.id = p.id AND p.recipe_id IS DISTINCT FROM s.recipe_id;
UPDATE pallets p SET production_run_id = s.production_run_id FROM mig_backup_lot_traceability.pallets s
 WHERE s.id = p.id AND p.production_run_id IS DISTINCT FROM s.production_run_id;
DROP TABLE IF EXISTS batch_ingredients, ingredient_lots, ingredients, audit_logs;
DROP INDEX IF EXISTS idx_production_runs_date_range;
ALTER TABLE production_runs DROP COLUMN IF EXISTS batch_number, DROP COLUMN IF EXISTS planned_quantity,
  DROP COLUMN IF EXISTS unit_of_measure, DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS quality_status,
  DROP COLUMN IF EXISTS planned_start_time, DROP COLUMN IF EXISTS quality_notes;
ALTER TABLE pallets DROP COLUMN IF EXISTS pallet_number, DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS location;
DELETE FROM recipes WHERE name = 'Unknown Recipe (migrated)' AND created_by = 'migration:lot_traceability';
ALTER TABLE recipes DROP COLUMN IF EXISTS version, DROP COLUMN IF EXISTS is_active, DROP COLUMN IF EXISTS yield_quantity,
  DROP COLUMN IF EXISTS yield_unit;
DROP TYPE IF EXISTS ingredient_type, batch_status, quality_status, lot_status, pallet_status, audit_action;
DELETE FROM mig_meta.rejects WHERE migration = 'lot_traceability';
DELETE FROM mig_meta.fixups  WHERE migration = 'lot_traceability';
COMMIT;]],
}

return m:main()
