-- scripts/tasks_to_parts/deps.lua: the rows that follow their task (spec §3.2, §3.3) — timers
-- re-pointed to the operation, cost rows copied to the part — set-based: a few statements for a
-- whole batch of tasks (D.batch, the phase's `after`), or for every task at the finalize step
-- (D.resolve: orphans, and rows whose task was decided by an earlier run).
--
-- Reject precedence (the spec does not order the rules; same order as examples/.../expected.sql):
-- no such task -> orphan_task; task rejected -> task_rejected; (per-user costs) user missing ->
-- orphan_user. Orphans only appear at finalize: a batch's tasks exist.
local db = require "mighost.db"
local S = require "tasks_to_parts.sql"

local D = {}

local TASKS, TIMERS, COSTS, USER_COSTS = "machining_task", "tasks_timer", "machining_jobcostagg", "machining_jobcostagguser"
local FIGURES = "currency, hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su, total_cost, updated_at"
local J_FIGURES = "j." .. FIGURES:gsub(", ", ", j.")
local USER_EXISTS = "EXISTS (SELECT 1 FROM auth_user u WHERE u.id = %s.user_id)"

-- the part of task key k is this migration's
local function ours(k)
  return ("EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || %s AND p.task_key = %s)"):format(k, k)
end

local function copy_costs(rows)
  return "INSERT INTO tasks_partcostagg (part_id, job_no, " .. FIGURES .. ") SELECT 'PT-' || j.task_id, j.job_no, "
    .. J_FIGURES .. " FROM (" .. rows .. ") j ON CONFLICT (part_id) DO NOTHING"
end
-- in task and user order: the target numbers its rows
local function copy_user_costs(rows)
  return "INSERT INTO tasks_partcostagguser (part_id, user_id, " .. FIGURES .. ") SELECT 'PT-' || j.task_id, j.user_id, "
    .. J_FIGURES .. " FROM (" .. rows .. ") j ORDER BY j.task_id COLLATE \"C\", j.user_id ON CONFLICT (part_id, user_id) DO NOTHING"
end

--- The timers and cost rows of one batch's tasks (inside its transaction): batch.migrated = keys of
--- the tasks whose part and operation it inserted, batch.rejected / batch.reasons = the tasks it
--- rejected and why.
function D.batch(ctx, batch)
  local ct_task, ct_op = ctx.shared.ct_task, ctx.shared.ct_op
  if #batch.migrated > 0 then
    local keys = db.array(batch.migrated)
    -- the snapshot's timers of these tasks (clustered by task: a page or two), then the live rows
    -- through the live (content_type_id, object_id) index
    ctx:written(TIMERS, ctx.db:exec("WITH b AS MATERIALIZED (" .. ctx:unrejected(TIMERS, "s.object_id = ANY($3::text[])")
      .. [[) UPDATE tasks_timer t SET content_type_id = $2 FROM b WHERE t.id = b.id AND t.content_type_id = $1
           AND t.object_id = b.object_id AND t.object_id = ANY($3::text[])]], ct_task, ct_op, keys))
    ctx:written(COSTS, ctx.db:exec(copy_costs(ctx:unrejected(COSTS, "s.task_id = ANY($1::text[])")), keys))
    ctx:written(USER_COSTS, ctx.db:exec(copy_user_costs(ctx:unrejected(USER_COSTS,
      "s.task_id = ANY($1::text[]) AND " .. USER_EXISTS:format("s"))), keys))
    ctx:reject_rows(USER_COSTS, [[SELECT j.id::text AS source_key, 'orphan_user' AS reason,
        'no auth_user with id ' || j.user_id AS detail, to_jsonb(j) AS row_data
      FROM machining_jobcostagguser j WHERE j.task_id = ANY($1::text[]) AND NOT ]] .. USER_EXISTS:format("j"), keys)
  end
  if #batch.rejected > 0 then
    local keys, reasons = db.array(batch.rejected), db.array(batch.reasons)
    local detail = "'task ' || k.key || ' rejected: ' || k.reason AS detail"
    ctx:reject_rows(TIMERS, [[SELECT b.id::text AS source_key, 'task_rejected' AS reason, ]] .. detail .. [[,
        to_jsonb(b) AS row_data FROM unnest($2::text[], $3::text[]) k(key, reason)
      JOIN tasks_timer t ON t.content_type_id = $1 AND t.object_id = k.key
      JOIN ]] .. S.BACKUP .. [[ b ON b.id = t.id AND b.object_id = t.object_id AND b.content_type_id = $1]],
      ct_task, keys, reasons)
    ctx:reject_rows(COSTS, [[SELECT j.task_id::text AS source_key, 'task_rejected' AS reason, ]] .. detail .. [[,
        to_jsonb(j) AS row_data FROM unnest($1::text[], $2::text[]) k(key, reason)
      JOIN machining_jobcostagg j ON j.task_id = k.key]], keys, reasons)
    ctx:reject_rows(USER_COSTS, [[SELECT j.id::text AS source_key, 'task_rejected' AS reason, ]] .. detail .. [[,
        to_jsonb(j) AS row_data FROM unnest($1::text[], $2::text[]) k(key, reason)
      JOIN machining_jobcostagguser j ON j.task_id = k.key]], keys, reasons)
  end
end

-- Why a row's task (key k) is missing or rejected, and the detail; NULL when the task exists and
-- was not rejected. Over task_joins: the task as x, its reject as tr.
local VERDICT = "CASE WHEN x.key IS NULL THEN 'orphan_task' WHEN tr.reason IS NOT NULL THEN 'task_rejected' END"
local function verdict_detail(k)
  return ("CASE WHEN x.key IS NULL THEN 'no machining_task with key ' || quote_literal(%s)"
    .. " ELSE 'task ' || %s || ' rejected: ' || tr.reason END"):format(k, k)
end
local function task_joins(ctx, k)
  return " LEFT JOIN machining_task x ON x.key = " .. k .. " LEFT JOIN (" .. ctx:rejects_of(TASKS) .. ") tr ON tr.source_key = " .. k
end

--- Resolves the timers and cost rows that no batch decided (finalize): orphans, and rows whose task
--- was decided by an earlier run. Migrated dependents are written before rejected ones are recorded.
function D.resolve(ctx)
  local ct_task, ct_op = ctx.shared.ct_task, ctx.shared.ct_op
  -- timers still on CT_TASK whose task is ours
  ctx:written(TIMERS, ctx.db:exec("UPDATE tasks_timer t SET content_type_id = $2 FROM (" .. ctx:unrejected(TIMERS,
      "EXISTS (SELECT 1 FROM tasks_timer l WHERE l.id = s.id AND l.content_type_id = $1 AND l.object_id = s.object_id) AND "
      .. ours("s.object_id")) .. ") b WHERE t.id = b.id AND t.content_type_id = $1 AND t.object_id = b.object_id",
    ct_task, ct_op))
  ctx:reject_rows(TIMERS, "SELECT b.id::text AS source_key, " .. VERDICT .. " AS reason, " .. verdict_detail("b.object_id")
    .. " AS detail, to_jsonb(b) AS row_data FROM tasks_timer t JOIN " .. S.BACKUP
    .. " b ON b.id = t.id AND b.object_id = t.object_id AND b.content_type_id = $1" .. task_joins(ctx, "b.object_id")
    .. " WHERE t.content_type_id = $1 AND " .. VERDICT .. " IS NOT NULL", ct_task)
  ctx:written(COSTS, ctx.db:exec(copy_costs(ctx:unrejected(COSTS, ours("s.task_id")
    .. " AND NOT EXISTS (SELECT 1 FROM tasks_partcostagg a WHERE a.part_id = 'PT-' || s.task_id)"))))
  ctx:reject_rows(COSTS, "SELECT j.task_id::text AS source_key, " .. VERDICT .. " AS reason, " .. verdict_detail("j.task_id")
    .. " AS detail, to_jsonb(j) AS row_data FROM machining_jobcostagg j" .. task_joins(ctx, "j.task_id")
    .. " WHERE " .. VERDICT .. " IS NOT NULL")
  ctx:written(USER_COSTS, ctx.db:exec(copy_user_costs(ctx:unrejected(USER_COSTS, ours("s.task_id") .. " AND "
    .. USER_EXISTS:format("s") .. " AND NOT EXISTS (SELECT 1 FROM tasks_partcostagguser a"
    .. " WHERE a.part_id = 'PT-' || s.task_id AND a.user_id = s.user_id)"))))
  ctx:reject_rows(USER_COSTS, "SELECT j.id::text AS source_key, COALESCE(" .. VERDICT .. ", 'orphan_user') AS reason,"
    .. " COALESCE(" .. verdict_detail("j.task_id") .. ", 'no auth_user with id ' || j.user_id) AS detail, to_jsonb(j) AS row_data FROM machining_jobcostagguser j"
    .. task_joins(ctx, "j.task_id") .. " WHERE " .. VERDICT .. " IS NOT NULL OR (NOT " .. USER_EXISTS:format("j")
    .. " AND " .. ours("j.task_id") .. ")")
end

return D
