-- Expected outcome of scripts/lot_traceability.lua, computed from its rules
-- (docs/lot_traceability.md) on the LEGACY database: run it before the migration
-- (tests run it on an untouched copy). Read-only; works for small.sql and generate.sql output.
--   psql -X -v ON_ERROR_STOP=1 -d LEGACY_DB -f examples/lot_traceability/expected.sql
-- Query 1: one line per source set: source|migrated|rejected|<reason or rule counts>.
-- Query 2: the expected mig_meta.rejects rows; query 3: the expected mig_meta.fixups rows.
-- The rules are restated here independently of the script (a lower valid twin found by
-- NOT EXISTS instead of a window, the placeholder's id from the recipes sequence).

-- an ingredient's verdict: the first rule that holds (NULL = migrated)
CREATE TEMPORARY VIEW expected_ingredient AS
SELECT o.id,
       CASE WHEN o.name IS NULL OR btrim(o.name) = '' THEN 'missing_name'
            WHEN char_length(btrim(o.name)) > 200 THEN 'name_too_long'
            WHEN o.stock_qty < 0 THEN 'negative_stock'
            WHEN twin.id IS NOT NULL THEN 'duplicate_name' END AS reason,
       CASE WHEN char_length(btrim(o.name)) > 200 AND btrim(o.name) <> '' THEN 'name of ' || char_length(btrim(o.name)) || ' characters'
            WHEN o.stock_qty < 0 AND btrim(o.name) <> '' THEN 'stock_qty ' || o.stock_qty
            WHEN twin.id IS NOT NULL THEN 'duplicate of old_ingredient_table id ' || twin.id END AS detail
FROM old_ingredient_table o
LEFT JOIN LATERAL (SELECT min(l.id) AS id FROM old_ingredient_table l
                   WHERE l.id < o.id AND lower(btrim(l.name) COLLATE "C") = lower(btrim(o.name) COLLATE "C")
                     AND btrim(l.name) <> '' AND char_length(btrim(l.name)) <= 200
                     AND NOT COALESCE(l.stock_qty < 0, false)   -- NULL stock is not negative
                   HAVING min(l.id) IS NOT NULL) twin ON true;

-- the placeholder's id: the recipes sequence's next value (the migration inserts it first)
CREATE TEMPORARY VIEW expected_placeholder AS
SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS id FROM recipes_id_seq;

-- 1. counts
SELECT concat_ws('|', 'old_ingredient_table', count(*), count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason IS NOT NULL),
                 count(*) FILTER (WHERE reason = 'missing_name'), count(*) FILTER (WHERE reason = 'name_too_long'),
                 count(*) FILTER (WHERE reason = 'negative_stock'), count(*) FILTER (WHERE reason = 'duplicate_name'))
  FROM expected_ingredient
UNION ALL
SELECT concat_ws('|', 'production_runs', count(*), count(*), 0,
                 count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM recipes r WHERE r.id = p.recipe_id)))
  FROM production_runs p
UNION ALL
SELECT concat_ws('|', 'pallets', count(*), count(*), 0,
                 count(*) FILTER (WHERE p.production_run_id IS NOT NULL
                                    AND NOT EXISTS (SELECT 1 FROM production_runs r WHERE r.id = p.production_run_id)))
  FROM pallets p;

-- 2. rejects
SELECT 'old_ingredient_table' AS source_table, id::text AS source_key, reason, detail
  FROM expected_ingredient WHERE reason IS NOT NULL ORDER BY id::text COLLATE "C";

-- 3. fixups (runs: NULL or dangling recipe -> the placeholder; pallets: dangling run -> NULL)
SELECT * FROM (
SELECT 'production_runs' AS source_table, p.id::text AS source_key, 'recipe_id' AS field, 'orphan_recipe' AS rule,
       p.recipe_id::text AS old_value, (SELECT id::text FROM expected_placeholder) AS new_value
  FROM production_runs p WHERE NOT EXISTS (SELECT 1 FROM recipes r WHERE r.id = p.recipe_id)
UNION ALL
SELECT 'pallets', p.id::text, 'production_run_id', 'orphan_production_run', p.production_run_id::text, NULL
  FROM pallets p WHERE p.production_run_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM production_runs r WHERE r.id = p.production_run_id)
) f ORDER BY source_table DESC, source_key COLLATE "C";
