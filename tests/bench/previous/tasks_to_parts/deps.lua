-- scripts/tasks_to_parts/deps.lua: the rows that follow their task (spec §3.2, §3.3) — timers and
-- cost rows — resolved set-based: a few statements for a whole batch of tasks, or for every task at
-- the finalize step (orphans, and rows whose task was decided in an earlier run).
--
-- Inside a batch the verdict of every task is known (D.batch): the statements are driven by the
-- arrays of the batch's migrated and rejected task keys (index lookups per key, no hash of a whole
-- table per batch, no "is it ours" probe), and a batch without rejected tasks runs no reject
-- statement for timers and job costs. D.resolve (finalize) decides every remaining row generically.
--
-- SQL: every task (finalize). Parameters: $1 = CT_TASK, $2 = CT_OP.
--
-- Reject precedence (the spec does not order the rules; same order as examples/.../expected.sql):
-- no such task -> orphan_task; task rejected -> task_rejected; (per-user costs) user missing ->
-- orphan_user. Orphans only appear at finalize: batch keys are existing tasks.
local db = require "mighost.db"

local D = {}

local function REJ(set, key)
  return "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'tasks_to_parts' AND r.source_table = '"
    .. set .. "' AND r.source_key = " .. key .. ")"
end
-- The same test as NOT REJ(set, key), probed per row: `CROSS JOIN LATERAL … OFFSET 0` is planned for
-- one row, an index lookup in mig_meta.rejects. As a plain NOT EXISTS the planner, whose statistics of
-- the growing rejects table are stale, chose a nested-loop anti join that compared every timer of a
-- batch with every timer reject. Use with `AND nr.ok`.
local function not_rejected(set, key)
  return "CROSS JOIN LATERAL (SELECT NOT " .. REJ(set, key) .. " AS ok OFFSET 0) nr"
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
    WHERE t.content_type_id = $1 AND ]] .. ours("t.object_id") .. [[
      AND EXISTS (SELECT 1 FROM mig_backup_tasks_to_parts.tasks_timer b WHERE b.id = t.id
                  AND b.content_type_id = $1 AND b.object_id = t.object_id)
      AND NOT ]] .. REJ("tasks_timer", "t.id::text"),
  timers_reject = [[SELECT b.id::text AS source_key, ]] .. task_verdict("b.object_id") .. [[ AS reason,
      ]] .. task_detail("b.object_id") .. [[ AS detail, to_jsonb(b) AS row_data
    ]] .. TIMERS .. " " .. task_reject_join("b.object_id") .. [[
    WHERE t.content_type_id = $1 AND $2::int IS NOT NULL
      AND ]] .. task_verdict("b.object_id") .. " IS NOT NULL",
  costs_copy = [[INSERT INTO tasks_partcostagg (part_id, job_no, currency, hours_ww, hours_ah, hours_su,
      cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.job_no, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM machining_jobcostagg j WHERE $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. ours("j.task_id") .. " AND NOT " .. REJ("machining_jobcostagg", "j.task_id") .. [[
    ON CONFLICT (part_id) DO NOTHING]],
  costs_reject = [[SELECT j.task_id::text AS source_key, ]] .. task_verdict("j.task_id") .. [[ AS reason,
      ]] .. task_detail("j.task_id") .. [[ AS detail, to_jsonb(j) AS row_data
    FROM machining_jobcostagg j ]] .. task_reject_join("j.task_id") .. [[
    WHERE $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. task_verdict("j.task_id") .. " IS NOT NULL",
  user_costs_copy = [[INSERT INTO tasks_partcostagguser (part_id, user_id, currency, hours_ww, hours_ah,
      hours_su, cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.user_id, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM machining_jobcostagguser j JOIN auth_user u ON u.id = j.user_id
    WHERE $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND ]] .. ours("j.task_id") .. " AND NOT " .. REJ("machining_jobcostagguser", "j.id::text") .. [[
    ON CONFLICT (part_id, user_id) DO NOTHING]],
  user_costs_reject = [[SELECT j.id::text AS source_key,
      COALESCE(]] .. task_verdict("j.task_id") .. [[, 'orphan_user') AS reason,
      COALESCE(]] .. task_detail("j.task_id") .. [[, 'no auth_user with id ' || j.user_id) AS detail,
      to_jsonb(j) AS row_data
    FROM machining_jobcostagguser j ]] .. task_reject_join("j.task_id") .. [[
    WHERE $1::int IS NOT NULL AND $2::int IS NOT NULL
      AND (]] .. task_verdict("j.task_id") .. [[ IS NOT NULL
           OR (NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = j.user_id) AND ]] .. ours("j.task_id") .. "))",
}

--- Resolves the timers and cost rows of every task (finalize): orphans, and rows whose task was
--- decided by an earlier run. Migrated dependents are written before rejected ones are recorded.
function D.resolve(ctx)
  local ct_task, ct_op = ctx.shared.ct_task, ctx.shared.ct_op
  ctx:written("tasks_timer", ctx.db:exec(SQL.timers_move, ct_task, ct_op))
  ctx:reject_rows("tasks_timer", SQL.timers_reject, ct_task, ct_op)
  ctx:written("machining_jobcostagg", ctx.db:exec(SQL.costs_copy, ct_task, ct_op))
  ctx:reject_rows("machining_jobcostagg", SQL.costs_reject, ct_task, ct_op)
  ctx:written("machining_jobcostagguser", ctx.db:exec(SQL.user_costs_copy, ct_task, ct_op))
  ctx:reject_rows("machining_jobcostagguser", SQL.user_costs_reject, ct_task, ct_op)
end

-- Batch statements, driven by the key array: `CROSS JOIN LATERAL (… WHERE j.task_id = k.key OFFSET 0)`
-- is planned for one key, an index lookup, where a plain join lets the planner hash the whole cost
-- table once per batch. $1 = CT_TASK, $2 = CT_OP, $3 = the keys of the tasks migrated by this batch
-- (their parts were inserted by it: "ours"), or of the tasks it rejected (the *_rejected ones).
-- A task of the batch was pending, so no earlier run decided it nor any of its dependents.
local B = {
  -- The batch's snapshot timers through the snapshot's (content_type_id, object_id, id) index (it is
  -- clustered on it: a page or two per batch), then hash-joined with the live rows found through
  -- the live (content_type_id, object_id) index: no per-timer lookup by id on either side.
  timers_move = [[WITH b AS MATERIALIZED (
      SELECT b.id, b.object_id FROM mig_backup_tasks_to_parts.tasks_timer b ]] .. not_rejected("tasks_timer", "b.id::text") .. [[
      WHERE b.content_type_id = $1 AND b.object_id = ANY($3::text[]) AND nr.ok)
    UPDATE tasks_timer t SET content_type_id = $2 FROM b
    WHERE t.id = b.id AND t.content_type_id = $1 AND t.object_id = b.object_id AND t.object_id = ANY($3::text[])]],
  timers_rejected = [[SELECT b.id::text AS source_key, 'task_rejected' AS reason,
      'task ' || b.object_id || ' rejected: ' || tr.reason AS detail, to_jsonb(b) AS row_data
    FROM tasks_timer t JOIN mig_backup_tasks_to_parts.tasks_timer b
      ON b.id = t.id AND b.object_id = t.object_id AND b.content_type_id = $1
    ]] .. task_reject_join("b.object_id") .. [[
    WHERE t.content_type_id = $1 AND t.object_id = ANY($2::text[])]],
  costs_copy = [[INSERT INTO tasks_partcostagg (part_id, job_no, currency, hours_ww, hours_ah, hours_su,
      cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.job_no, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM unnest($1::text[]) k(key) CROSS JOIN LATERAL (SELECT * FROM machining_jobcostagg j
      WHERE j.task_id = k.key OFFSET 0) j ]] .. not_rejected("machining_jobcostagg", "j.task_id") .. [[
    WHERE nr.ok
    ON CONFLICT (part_id) DO NOTHING]],
  costs_rejected = [[SELECT j.task_id::text AS source_key, 'task_rejected' AS reason,
      'task ' || j.task_id || ' rejected: ' || tr.reason AS detail, to_jsonb(j) AS row_data
    FROM unnest($1::text[]) k(key) CROSS JOIN LATERAL (SELECT * FROM machining_jobcostagg j
      WHERE j.task_id = k.key OFFSET 0) j
    ]] .. task_reject_join("j.task_id"),
  user_costs_copy = [[INSERT INTO tasks_partcostagguser (part_id, user_id, currency, hours_ww, hours_ah,
      hours_su, cost_ww, cost_ah, cost_su, total_cost, updated_at)
    SELECT 'PT-' || j.task_id, j.user_id, j.currency, j.hours_ww, j.hours_ah, j.hours_su,
           j.cost_ww, j.cost_ah, j.cost_su, j.total_cost, j.updated_at
    FROM unnest($1::text[]) k(key) CROSS JOIN LATERAL (SELECT * FROM machining_jobcostagguser j
      WHERE j.task_id = k.key OFFSET 0) j
    JOIN auth_user u ON u.id = j.user_id ]] .. not_rejected("machining_jobcostagguser", "j.id::text") .. [[
    WHERE nr.ok
    ON CONFLICT (part_id, user_id) DO NOTHING]],
  user_costs_orphan_user = [[SELECT j.id::text AS source_key, 'orphan_user' AS reason,
      'no auth_user with id ' || j.user_id AS detail, to_jsonb(j) AS row_data
    FROM unnest($1::text[]) k(key) CROSS JOIN LATERAL (SELECT * FROM machining_jobcostagguser j
      WHERE j.task_id = k.key OFFSET 0) j
    WHERE NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = j.user_id)]],
  user_costs_rejected = [[SELECT j.id::text AS source_key, 'task_rejected' AS reason,
      'task ' || j.task_id || ' rejected: ' || tr.reason AS detail, to_jsonb(j) AS row_data
    FROM unnest($1::text[]) k(key) CROSS JOIN LATERAL (SELECT * FROM machining_jobcostagguser j
      WHERE j.task_id = k.key OFFSET 0) j
    ]] .. task_reject_join("j.task_id"),
}

--- Resolves the timers and cost rows of one batch's tasks: `migrated` = keys of the tasks whose
--- part and operation the batch inserted, `rejected` = keys of the tasks it rejected (arrays).
function D.batch(ctx, migrated, rejected)
  local ct_task, ct_op = ctx.shared.ct_task, ctx.shared.ct_op
  if #migrated > 0 then
    local arr = db.array(migrated)
    ctx:written("tasks_timer", ctx.db:exec(B.timers_move, ct_task, ct_op, arr))
    ctx:written("machining_jobcostagg", ctx.db:exec(B.costs_copy, arr))
    ctx:written("machining_jobcostagguser", ctx.db:exec(B.user_costs_copy, arr))
    ctx:reject_rows("machining_jobcostagguser", B.user_costs_orphan_user, arr)
  end
  if #rejected > 0 then
    local arr = db.array(rejected)
    ctx:reject_rows("tasks_timer", B.timers_rejected, ct_task, arr)
    ctx:reject_rows("machining_jobcostagg", B.costs_rejected, arr)
    ctx:reject_rows("machining_jobcostagguser", B.user_costs_rejected, arr)
  end
end

return D
