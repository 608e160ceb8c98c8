-- scripts/tasks_to_parts/deps.lua: the rows that follow their task (spec §3.2, §3.3) — timers and
-- cost rows — resolved set-based: a few statements for a whole batch of tasks, or for every task at
-- the finalize step (orphans, and rows whose task was decided in an earlier run).
--
-- `scope` is a predicate over the dependent row's task key: "%s = ANY($3)" with the batch's task
-- keys, or "true" (finalize). Parameters: $1 = CT_TASK, $2 = CT_OP, $3 = task keys (when scoped).
--
-- Reject precedence (the spec does not order the rules; same order as examples/.../expected.sql):
-- no such task -> orphan_task; task rejected -> task_rejected; (per-user costs) user missing ->
-- orphan_user. Orphans only appear in the finalize scope: batch keys are existing tasks.
local db = require "mighost.db"

local D = {}

local function REJ(set, key)
  return "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'tasks_to_parts' AND r.source_table = '"
    .. set .. "' AND r.source_key = " .. key .. ")"
end
local OURS = "EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || %s AND p.task_key = %s)"
local function ours(k) return OURS:format(k, k) end

-- why the row's task is missing or rejected (NULL: the task exists and was not rejected)
local function task_verdict(k)
  return ([[CASE WHEN NOT EXISTS (SELECT 1 FROM machining_task x WHERE x.key = %s) THEN 'orphan_task'
    WHEN tr.reason IS NOT NULL THEN 'task_rejected' END]]):format(k)
end
local function task_detail(k)
  return ([[CASE WHEN NOT EXISTS (SELECT 1 FROM machining_task x WHERE x.key = %s)
    THEN 'no machining_task with key ' || quote_literal(%s) ELSE 'task ' || %s || ' rejected: ' || tr.reason END]]):format(k, k, k)
end
local function task_reject_join(k)
  return ([[LEFT JOIN mig_meta.rejects tr ON tr.migration = 'tasks_to_parts'
    AND tr.source_table = 'machining_task' AND tr.source_key = %s]]):format(k)
end

-- Snapshot rows on CT_TASK, found through the live table's (content_type_id, object_id) index.
local TIMERS = [[FROM tasks_timer t JOIN mig_backup_tasks_to_parts.tasks_timer b
  ON b.id = t.id AND b.object_id = t.object_id AND b.content_type_id = $1]]

local SQL = {
  timers_move = [[UPDATE tasks_timer t SET content_type_id = $2
    WHERE t.content_type_id = $1 AND {scope:t.object_id} AND ]] .. ours("t.object_id") .. [[
      AND EXISTS (SELECT 1 FROM mig_backup_tasks_to_parts.tasks_timer b WHERE b.id = t.id
                  AND b.content_type_id = $1 AND b.object_id = t.object_id)
      AND NOT ]] .. REJ("tasks_timer", "t.id::text"),
  timers_reject = [[SELECT b.id::text AS source_key, ]] .. task_verdict("b.object_id") .. [[ AS reason,
      ]] .. task_detail("b.object_id") .. [[ AS detail, to_jsonb(b) AS row_data
    ]] .. TIMERS .. " " .. task_reject_join("b.object_id") .. [[
    WHERE t.content_type_id = $1 AND {scope:t.object_id} AND $2::int IS NOT NULL
      AND ]] .. task_verdict("b.object_id") .. " IS NOT NULL",
  costs_copy = [[INSERT INTO tasks_partcostagg (part_id, job_no, currency, hours_ww, hours_ah, hours_su,
      cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.job_no, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM machining_jobcostagg j WHERE {scope:j.task_id} AND $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. ours("j.task_id") .. " AND NOT " .. REJ("machining_jobcostagg", "j.task_id") .. [[
    ON CONFLICT (part_id) DO NOTHING]],
  costs_reject = [[SELECT j.task_id::text AS source_key, ]] .. task_verdict("j.task_id") .. [[ AS reason,
      ]] .. task_detail("j.task_id") .. [[ AS detail, to_jsonb(j) AS row_data
    FROM machining_jobcostagg j ]] .. task_reject_join("j.task_id") .. [[
    WHERE {scope:j.task_id} AND $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. task_verdict("j.task_id") .. " IS NOT NULL",
  user_costs_copy = [[INSERT INTO tasks_partcostagguser (part_id, user_id, currency, hours_ww, hours_ah,
      hours_su, cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.user_id, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM machining_jobcostagguser j JOIN auth_user u ON u.id = j.user_id
    WHERE {scope:j.task_id} AND $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. ours("j.task_id") .. " AND NOT " .. REJ("machining_jobcostagguser", "j.id::text") .. [[
    ON CONFLICT (part_id, user_id) DO NOTHING]],
  user_costs_reject = [[SELECT j.id::text AS source_key,
      COALESCE(]] .. task_verdict("j.task_id") .. [[, 'orphan_user') AS reason,
      COALESCE(]] .. task_detail("j.task_id") .. [[, 'no auth_user with id ' || j.user_id) AS detail,
      to_jsonb(j) AS row_data
    FROM machining_jobcostagguser j ]] .. task_reject_join("j.task_id") .. [[
    WHERE {scope:j.task_id} AND $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND (]] .. task_verdict("j.task_id") .. [[ IS NOT NULL
           OR (NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = j.user_id) AND ]] .. ours("j.task_id") .. "))",
}

local function scoped(name, keys)
  return (SQL[name]:gsub("{scope:([%w_.]+)}", function(col)
    return keys and (col .. " = ANY($3)") or "true"
  end))
end

--- Resolves the timers and cost rows of the given tasks (keys: an array of task keys), or of every
--- task (keys = nil, finalize). Migrated dependents are written before rejected ones are recorded.
function D.resolve(ctx, keys)
  local ct_task, ct_op = ctx.shared.ct_task, ctx.shared.ct_op
  local args = {ct_task, ct_op}
  if keys then args[3] = db.array(keys) end
  local n = #args
  ctx:written("tasks_timer", ctx.db:exec(scoped("timers_move", keys), unpack(args, 1, n)))
  ctx:reject_rows("tasks_timer", scoped("timers_reject", keys), unpack(args, 1, n))
  ctx:written("machining_jobcostagg", ctx.db:exec(scoped("costs_copy", keys), unpack(args, 1, n)))
  ctx:reject_rows("machining_jobcostagg", scoped("costs_reject", keys), unpack(args, 1, n))
  ctx:written("machining_jobcostagguser", ctx.db:exec(scoped("user_costs_copy", keys), unpack(args, 1, n)))
  ctx:reject_rows("machining_jobcostagguser", scoped("user_costs_reject", keys), unpack(args, 1, n))
end

return D
