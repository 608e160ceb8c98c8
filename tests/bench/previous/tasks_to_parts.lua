-- scripts/tasks_to_parts.lua — Django machining Tasks -> Parts/Operations (docs/
-- tasks_to_parts.md). Replaces the runbook's
-- migrate_tasks_to_parts, migrate_job_costs, validate_migration and recompute_part_costs:
--
--   mighost run scripts/tasks_to_parts.lua --db URL --dry-run --limit 10   # phase 3: look first
--   mighost run scripts/tasks_to_parts.lua --db URL                        # phase 4 + 5
--   mighost run scripts/tasks_to_parts.lua --db URL --recompute --workers 4   # phase 6
--   touch recompute_part_costs.stop                                        # stop the recompute
--
-- Decisions where the spec leaves room:
-- * A per-user cost row whose task is missing/rejected AND whose user is missing: the task reason
--   wins (orphan_task, then task_rejected, then orphan_user) — the order of examples/.../expected.sql.
-- * A cost row counts as migrated only when its target row belongs to OUR part (task_key = the
--   task), like the *_accounted checks, so a native part's cost row never makes a row "migrated".
-- * Timers and cost rows follow their task inside the task's batch; the finalize step sweeps what is
--   left (orphans, and rows whose task was decided in an earlier run, e.g. after a crash or a
--   deleted reject).
-- * counts.machining_task.written = parts + operations inserted; recompute.queued = the queue
--   length when the recompute phase starts.
-- * The stop file (default recompute_part_costs.stop) is checked at every batch boundary, so it
--   also stops the task phase; the recompute checks it before each claim, as the spec says.
local db = require "mighost.db"
local migration = require "mighost.migration"
local S = require "tasks_to_parts.sql"
local deps = require "tasks_to_parts.deps"

-- §3.1 rules 2-4, first match wins (rule 1, "already migrated", is the phase's `migrated`). The
-- verdict sits in a LATERAL subquery kept apart by OFFSET 0: planned for one task, its EXISTS probe
-- the indexes instead of hashing all of tasks_part / tasks_operation once per batch.
local CLASSIFY = [[
SELECT t.key, v.reason, v.detail FROM machining_task t CROSS JOIN LATERAL (SELECT CASE
    WHEN char_length('PT-' || t.key) > 255 THEN 'key_too_long'
    WHEN EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || t.key) THEN 'part_key_conflict'
    WHEN EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = t.key) THEN 'part_key_conflict'
    WHEN EXISTS (SELECT 1 FROM tasks_operation o WHERE o.key = t.key) THEN 'operation_key_conflict' END AS reason,
  CASE
    WHEN char_length('PT-' || t.key) > 255 THEN 'part key would be ' || char_length('PT-' || t.key) || ' characters (max 255)'
    WHEN EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || t.key) THEN 'tasks_part PT-' || t.key || ' already exists'
    WHEN EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = t.key) THEN 'tasks_part '
      || (SELECT p.key FROM tasks_part p WHERE p.task_key = t.key) || ' already has task_key ' || t.key
    ELSE 'Task key already exists as operation' END AS detail OFFSET 0) v
WHERE t.key = ANY($1)]]

-- §3.1 mapping table; a creator/completer missing from auth_user becomes NULL (fixup below).
local INSERT_PARTS = [[
INSERT INTO tasks_part (key, task_key, name, job_no, image_no, position_no, quantity, description,
                        completion_date, completed_by_id, created_by_id, created_at)
SELECT 'PT-' || t.key, t.key, t.name, t.job_no, t.image_no, t.position_no, t.quantity, t.description,
       t.completion_date, cu.id, cr.id, t.created_at
FROM machining_task t LEFT JOIN auth_user cu ON cu.id = t.completed_by_id LEFT JOIN auth_user cr ON cr.id = t.created_by_id
WHERE t.key = ANY($1) ORDER BY t.key COLLATE "C" ON CONFLICT DO NOTHING]]

local INSERT_OPERATIONS = [[
INSERT INTO tasks_operation (key, part_id, name, "order", machine_fk_id, estimated_hours, in_plan, plan_order,
                             planned_start_ms, planned_end_ms, completion_date, completed_by_id, created_by_id, created_at)
SELECT t.key, 'PT-' || t.key, t.name, 1, t.machine_fk_id, t.estimated_hours, t.in_plan, t.plan_order,
       t.planned_start_ms, t.planned_end_ms, t.completion_date, cu.id, cr.id, t.created_at
FROM machining_task t LEFT JOIN auth_user cu ON cu.id = t.completed_by_id LEFT JOIN auth_user cr ON cr.id = t.created_by_id
WHERE t.key = ANY($1) ORDER BY t.key COLLATE "C" ON CONFLICT DO NOTHING]]

local ENQUEUE = [[INSERT INTO tasks_partcostrecalcqueue (part_id)
SELECT 'PT-' || k FROM unnest($1::text[]) k ORDER BY k COLLATE "C" ON CONFLICT DO NOTHING]]

local ORPHAN_USERS = [[
SELECT t.key, v.field, v.val FROM machining_task t
CROSS JOIN LATERAL (VALUES ('created_by_id', t.created_by_id), ('completed_by_id', t.completed_by_id)) v(field, val)
WHERE t.key = ANY($1) AND v.val IS NOT NULL AND NOT EXISTS (SELECT 1 FROM auth_user u WHERE u.id = v.val)
ORDER BY t.key COLLATE "C", v.field]]

-- §3.4, set-based: a step claims up to RECOMPUTE_BATCH parts (SKIP LOCKED, so workers never
-- collide) and recomputes them with two statements. The model is evaluated per claimed part
-- (LATERAL … OFFSET 0: the views take the part_id qual), never for the whole timer table. Same
-- figures as one transaction per part; the stop file is still checked before each claim.
local RECOMPUTE_BATCH = 10
local CLAIM = [[DELETE FROM tasks_partcostrecalcqueue WHERE part_id IN (SELECT part_id FROM tasks_partcostrecalcqueue
  ORDER BY part_id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING part_id]]
local FIGURES = "hours_ww, hours_ah, hours_su, cost_ww, cost_ah, cost_su"
local SET_FIGURES = [[hours_ww = EXCLUDED.hours_ww, hours_ah = EXCLUDED.hours_ah, hours_su = EXCLUDED.hours_su,
  cost_ww = EXCLUDED.cost_ww, cost_ah = EXCLUDED.cost_ah, cost_su = EXCLUDED.cost_su, total_cost = EXCLUDED.total_cost,
  updated_at = now()]]
local RECOMPUTE_PARTS = [[
INSERT INTO tasks_partcostagg (part_id, job_no, currency, ]] .. FIGURES .. [[, total_cost, updated_at)
SELECT p.key, p.job_no, 'TRY', COALESCE(m.hours_ww, 0), COALESCE(m.hours_ah, 0), COALESCE(m.hours_su, 0),
       COALESCE(m.cost_ww, 0), COALESCE(m.cost_ah, 0), COALESCE(m.cost_su, 0),
       COALESCE(m.cost_ww, 0) + COALESCE(m.cost_ah, 0) + COALESCE(m.cost_su, 0), now()
FROM unnest($1::text[]) k(key) JOIN tasks_part p ON p.key = k.key
LEFT JOIN LATERAL (SELECT * FROM mig_meta.t2p_cost_part m WHERE m.part_id = p.key OFFSET 0) m ON true
ORDER BY p.key
ON CONFLICT (part_id) DO UPDATE SET job_no = EXCLUDED.job_no, currency = 'TRY', ]] .. SET_FIGURES
-- the model's users upserted, then the claimed parts' other user rows zeroed (one statement: the
-- model is computed once; the two modify disjoint rows)
local RECOMPUTE_USERS = [[
WITH m AS MATERIALIZED (SELECT m.* FROM unnest($1::text[]) k(key)
    CROSS JOIN LATERAL (SELECT * FROM mig_meta.t2p_cost_user m WHERE m.part_id = k.key OFFSET 0) m),
up AS (INSERT INTO tasks_partcostagguser (part_id, user_id, currency, ]] .. FIGURES .. [[, total_cost, updated_at)
  SELECT m.part_id, m.user_id, 'TRY', ]] .. FIGURES .. [[, cost_ww + cost_ah + cost_su, now()
  FROM m ORDER BY m.part_id, m.user_id
  ON CONFLICT (part_id, user_id) DO UPDATE SET currency = 'TRY', ]] .. SET_FIGURES .. [[ RETURNING 1)
UPDATE tasks_partcostagguser a SET hours_ww = 0, hours_ah = 0, hours_su = 0, cost_ww = 0, cost_ah = 0, cost_su = 0,
  total_cost = 0, updated_at = now()
WHERE a.part_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM m WHERE m.part_id = a.part_id AND m.user_id = a.user_id)]]

-- JIT off on every connection the script uses: the checks, counts and finalize statements have
-- large estimated costs, and compiling them costs more than running them. Session-level, once per
-- connection.
local jit_off = setmetatable({}, {__mode = "k"})
local function no_jit(conn)
  if not jit_off[conn] then
    conn:exec("SET jit = off")
    jit_off[conn] = true
  end
end

local OURS_SQL = "EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || s.task_id AND p.task_key = s.task_id)"

local m = migration.define {
  name = "tasks_to_parts",
  description = "machining Tasks -> tasks Parts/Operations, timers and cost rows moved; costs recomputed",
  options = {
    batch_size = {default = 100, help = "tasks per transaction (with their timers and cost rows)"},
    stop_file = {default = "recompute_part_costs.stop"},
    recompute = {type = "bool", help = "after the migration, recompute the queued parts' costs (spec 3.4)"},
  },

  backup = {"tasks_timer"},   -- the snapshot: source of the timer set, and what rollback restores

  preconditions = {
    {name = "tables_present", check = function(ctx)
      local missing = {}
      for _, t in ipairs(S.TABLES) do
        if not ctx.db:scalar("SELECT to_regclass($1) IS NOT NULL", t) then missing[#missing + 1] = t end
      end
      return #missing == 0, #missing == 0 and "all legacy tables present" or ("missing: " .. table.concat(missing, ", "))
    end},
    {name = "content_types", sql = [[SELECT count(*) FROM django_content_type
        WHERE (app_label, model) IN (('machining', 'task'), ('tasks', 'operation'))]], expected = 2},
    {name = "no_active_timers", sql = [[SELECT count(*) FROM tasks_timer WHERE finish_time IS NULL]], expected = 0},
    {name = "other_sessions", warn_only = true, sql = [[SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend']],
     expected = 0},
  },

  prepare = function(ctx)
    no_jit(ctx.db)
    local ct = function(app, model)
      return ctx.db:scalar("SELECT id FROM django_content_type WHERE app_label = $1 AND model = $2", app, model)
    end
    ctx.shared.ct_task, ctx.shared.ct_op = ct("machining", "task"), ct("tasks", "operation")
  end,

  setup = function(ctx)
    ctx.db:exec(S.TARGET_DDL)
    ctx.db:exec(S.COST_VIEWS)
    -- A batch probes the snapshot for its tasks' timers (the timer source set). Taken in the live
    -- table's order, a task's timers sit on as many random pages of it as they have rows;
    -- clustered by task once, when the snapshot is
    -- new, they share a page or two. Same rows, same key: only their order on disk changes.
    if not ctx.db:scalar("SELECT to_regclass($1) IS NOT NULL", S.BACKUP_TASK_INDEX) then
      local index = S.BACKUP_TASK_INDEX:match("%.(.+)$")   -- CREATE INDEX / CLUSTER take the bare name
      ctx.db:exec("CREATE INDEX " .. index .. " ON " .. S.BACKUP .. " (content_type_id, object_id, id)")
      ctx.db:exec("CLUSTER " .. S.BACKUP .. " USING " .. index)
    end
    -- the fresh snapshot has no statistics: without them the planner hashes all of it for every batch
    ctx.db:exec("ANALYZE " .. S.BACKUP)
  end,

  phases = {
    { name = "machining_task", label = "tasks", every = 100,
      source = [[SELECT * FROM machining_task]],
      key = "key",
      migrated = [[EXISTS (SELECT 1 FROM tasks_part p JOIN tasks_operation o ON o.part_id = p.key AND o.key = s.key
                           WHERE p.key = 'PT-' || s.key AND p.task_key = s.key)]],
      batch = function(ctx, tasks)
        no_jit(ctx.db)
        local keys, by_key = {}, {}
        for i, t in ipairs(tasks) do keys[i], by_key[t.key] = t.key, t end
        local good, reasons, rejected = {}, {}, {}
        for v in ctx.db:rows(CLASSIFY, db.array(keys)) do
          if db.is_null(v.reason) then
            good[#good + 1] = v.key
          else
            reasons[v.key] = v.reason
            rejected[#rejected + 1] = v.key
            ctx:reject(by_key[v.key], v.reason, v.detail)
          end
        end
        if ctx.dry_run then   -- the runbook's phase 3 output, one line per task
          for _, k in ipairs(keys) do
            if reasons[k] then ctx:say("Would reject %s: %s", k, reasons[k])
            else ctx:say("Would migrate %s -> Part: PT-%s, Operation: %s", k, k, k) end
          end
        end
        table.sort(good)  -- byte order = COLLATE "C": one lock order for every run
        local arr = db.array(good)
        local written = 0
        if #good > 0 then
          for f in ctx.db:rows(ORPHAN_USERS, arr) do ctx:fixup(f.key, f.field, "orphan_user_nulled", f.val, nil) end
          written = ctx.db:exec(INSERT_PARTS, arr) + ctx.db:exec(INSERT_OPERATIONS, arr)
          ctx.db:exec(ENQUEUE, arr)
        end
        deps.batch(ctx, good, rejected)   -- their timers and cost rows, in the same transaction
        return written
      end },

    { name = "recompute", every = 50, workers = true,
      total = function(ctx)
        ctx.shared.queued = tonumber(ctx.db:scalar("SELECT count(*) FROM tasks_partcostrecalcqueue")) or 0
        return ctx.options.recompute and ctx.shared.queued or 0
      end,
      step = function(ctx)
        if not ctx.options.recompute then return 0 end
        no_jit(ctx.db)
        local parts = {}
        for r in ctx.db:rows(CLAIM, RECOMPUTE_BATCH) do parts[#parts + 1] = r.part_id end
        if #parts == 0 then return 0 end
        table.sort(parts)
        local arr = db.array(parts)
        ctx.db:exec(RECOMPUTE_PARTS, arr)
        ctx.db:exec(RECOMPUTE_USERS, arr)
        return #parts
      end,
      counts = function(ctx, done) return {queued = ctx.shared.queued or 0, recomputed = done} end },
  },

  -- Each set's `migrated_count` is its `migrated` predicate counted as one join (the run's counts).
  sets = {
    { name = "tasks_timer", key = "id",
      source = function(ctx)
        return string.format("SELECT * FROM %s WHERE content_type_id = %d", S.BACKUP, ctx.shared.ct_task)
      end,
      migrated = function(ctx)
        return string.format([[EXISTS (SELECT 1 FROM tasks_timer t WHERE t.id = s.id AND t.content_type_id = %d
                                       AND t.object_id = s.object_id)]], ctx.shared.ct_op)
      end,
      migrated_count = function(ctx)
        return ctx.db:scalar(string.format([[SELECT count(*) FROM %s s JOIN tasks_timer t ON t.id = s.id
            AND t.content_type_id = %d AND t.object_id = s.object_id WHERE s.content_type_id = %d]],
          S.BACKUP, ctx.shared.ct_op, ctx.shared.ct_task))
      end },
    { name = "machining_jobcostagg", key = "task_id", source = [[SELECT * FROM machining_jobcostagg]],
      migrated = [[EXISTS (SELECT 1 FROM tasks_partcostagg a WHERE a.part_id = 'PT-' || s.task_id) AND ]] .. OURS_SQL,
      migrated_count = [[SELECT count(*) FROM machining_jobcostagg s JOIN tasks_partcostagg a ON a.part_id = 'PT-' || s.task_id
          JOIN tasks_part p ON p.key = a.part_id AND p.task_key = s.task_id]] },
    { name = "machining_jobcostagguser", key = "id", source = [[SELECT * FROM machining_jobcostagguser]],
      migrated = [[EXISTS (SELECT 1 FROM tasks_partcostagguser a WHERE a.part_id = 'PT-' || s.task_id
                           AND a.user_id = s.user_id) AND ]] .. OURS_SQL,
      -- (part_id, user_id) is unique in the target and task_key in tasks_part: one row per source row
      migrated_count = [[SELECT count(*) FROM machining_jobcostagguser s
          JOIN tasks_partcostagguser a ON a.part_id = 'PT-' || s.task_id AND a.user_id = s.user_id
          JOIN tasks_part p ON p.key = a.part_id AND p.task_key = s.task_id]] },
  },

  finalize = function(ctx)
    no_jit(ctx.db)
    deps.resolve(ctx)   -- orphans, and rows whose task was decided by an earlier run
  end,

  checks = S.CHECKS,
  rollback = S.ROLLBACK,
}

return m:main()
