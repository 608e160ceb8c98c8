-- scripts/tasks_to_parts/checks.lua: the spec's validation checks (§5) that the declaration does not
-- imply. tasks_accounted, part_values, fixups_logged, timers_accounted, costs_accounted and
-- user_costs_accounted are generated from the phase and the sets (see scripts/tasks_to_parts.lua).
-- The others are the spec's queries; timers_untouched and the recomputed_* checks are rewritten
-- into equivalent, cheaper forms (comments at each).
local S = require "tasks_to_parts.sql"

-- §5's `c`: the two content type ids.
local C = [[(SELECT (SELECT id FROM django_content_type WHERE app_label='machining' AND model='task') ct_task,
  (SELECT id FROM django_content_type WHERE app_label='tasks' AND model='operation') ct_op) c]]

local COST_COLS = "a.currency,a.hours_ww,a.hours_ah,a.hours_su,a.cost_ww,a.cost_ah,a.cost_su,a.total_cost,a.updated_at"
local FIGURES = "a.hours_ww,a.hours_ah,a.hours_su,a.cost_ww,a.cost_ah,a.cost_su"

-- The migrated parts not in the queue, found before any model is computed: the recomputed_*
-- checks compute the model only for them, not for every timer while the queue still waits.
local DONE_PARTS = [[p AS MATERIALIZED (SELECT * FROM tasks_part p WHERE p.task_key IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM tasks_partcostrecalcqueue q WHERE q.part_id = p.key))]]

return {
  {name = "part_operation_pairs", sql = [[
SELECT count(*) FROM tasks_part p WHERE p.task_key IS NOT NULL AND (p.key <> 'PT-'||p.task_key
  OR (SELECT count(*) FROM tasks_operation o WHERE o.part_id = p.key) <> 1
  OR NOT EXISTS (SELECT 1 FROM tasks_operation o WHERE o.part_id=p.key AND o.key=p.task_key AND o."order"=1))]]},
  {name = "no_timers_on_migrated_tasks", sql = [[
SELECT count(*) FROM ]] .. C .. [[, tasks_timer t WHERE t.content_type_id = c.ct_task
  AND EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = t.object_id)]]},
  -- to_jsonb(t) - 'content_type_id' compared as the row of every other column (same result for
  -- the §1 column types, without building two jsonb values per timer): the list is read from the catalog.
  {name = "timers_untouched", sql = function(ctx)
    local cols = ctx.db:scalar([[SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = 'tasks_timer'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'content_type_id']])
    local tc, bc = ("t." .. cols):gsub(",", ",t."), ("b." .. cols):gsub(",", ",b.")
    return [[
SELECT count(*) FROM ]] .. C .. ", " .. S.BACKUP .. [[ b LEFT JOIN tasks_timer t ON t.id = b.id
WHERE t.id IS NULL OR (]] .. tc .. [[) IS DISTINCT FROM (]] .. bc .. [[)
   OR (t.content_type_id <> b.content_type_id AND NOT (b.content_type_id = c.ct_task AND t.content_type_id = c.ct_op
       AND EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = b.object_id)))]]
  end},
  {name = "cost_values", sql = [[
SELECT count(*) FROM machining_jobcostagg j JOIN tasks_part p ON p.task_key = j.task_id
JOIN tasks_partcostagg a ON a.part_id = p.key JOIN tasks_partcostrecalcqueue q ON q.part_id = p.key
WHERE (a.job_no,]] .. COST_COLS .. [[)
  IS DISTINCT FROM (j.job_no,]] .. COST_COLS:gsub("a%.", "j.") .. [[)]]},
  {name = "user_cost_values", sql = [[
SELECT count(*) FROM machining_jobcostagguser j JOIN tasks_part p ON p.task_key = j.task_id
JOIN tasks_partcostagguser a ON a.part_id = p.key AND a.user_id = j.user_id
JOIN tasks_partcostrecalcqueue q ON q.part_id = p.key
WHERE (]] .. COST_COLS .. [[) IS DISTINCT FROM (]] .. COST_COLS:gsub("a%.", "j.") .. [[)]]},
  -- recomputed_costs / recomputed_user_costs: the spec's queries, with the model of each part
  -- computed from its own pieces (one row per part, zeros without timers: the spec's COALESCE).
  {name = "recomputed_costs", sql = [[
WITH ]] .. DONE_PARTS .. [[
SELECT count(*) FROM p LEFT JOIN tasks_partcostagg a ON a.part_id = p.key
CROSS JOIN LATERAL (]] .. S.part_model("p.key") .. [[) m
WHERE a.part_id IS NULL OR a.currency <> 'TRY' OR a.total_cost <> a.cost_ww + a.cost_ah + a.cost_su
   OR (]] .. FIGURES .. [[) IS DISTINCT FROM (]] .. FIGURES:gsub("a%.", "m.") .. [[)]]},
  {name = "recomputed_user_costs", sql = [[
WITH ]] .. DONE_PARTS .. [[,
m AS MATERIALIZED (SELECT p.key AS part_id, u.* FROM p CROSS JOIN LATERAL (]] .. S.user_model("p.key") .. [[) u)
SELECT count(*) FROM (SELECT a.part_id, a.user_id FROM tasks_partcostagguser a JOIN p ON p.key = a.part_id
                      UNION SELECT m.part_id, m.user_id FROM m) k
LEFT JOIN tasks_partcostagguser a ON (a.part_id, a.user_id) = (k.part_id, k.user_id)
LEFT JOIN m ON (m.part_id, m.user_id) = (k.part_id, k.user_id)
WHERE a.id IS NULL OR a.total_cost <> a.cost_ww + a.cost_ah + a.cost_su
   OR (]] .. FIGURES .. [[) IS DISTINCT FROM
      (COALESCE(m.hours_ww,0),COALESCE(m.hours_ah,0),COALESCE(m.hours_su,0),COALESCE(m.cost_ww,0),COALESCE(m.cost_ah,0),COALESCE(m.cost_su,0))]]},
}
