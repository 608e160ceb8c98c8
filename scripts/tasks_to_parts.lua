-- tasks_to_parts: Django machining Tasks -> Parts/Operations. What it does, its options, codes,
-- checks and rollback: docs/tasks_to_parts.md. Replaces the runbook's
-- migrate_tasks_to_parts, migrate_job_costs, validate_migration and recompute_part_costs:
--
--   mighost run scripts/tasks_to_parts.lua --db URL --dry-run --limit 10   # phase 3: look first
--   mighost run scripts/tasks_to_parts.lua --db URL                        # phase 4 + 5
--   mighost run scripts/tasks_to_parts.lua --db URL --recompute --workers 4   # phase 6
--   touch recompute_part_costs.stop                                        # stop the recompute
--
-- Decisions the rules leave open:
-- * A per-user cost row whose task is missing/rejected AND whose user is missing: the task reason
--   wins (orphan_task, then task_rejected, then orphan_user) — the order of examples/.../expected.sql.
-- * A cost row counts as migrated only when its target row belongs to OUR part (task_key = the
--   task), like the *_accounted checks, so a native part's cost row never makes a row "migrated".
-- * Timers and cost rows follow their task inside the task's batch (`after`); the finalize step
--   sweeps what is left (orphans, and rows whose task was decided in an earlier run, e.g. after a
--   deleted reject).
-- * counts.machining_task.written = parts + operations inserted; recompute.queued = the queue
--   length when the recompute phase starts.
-- * The stop file (default recompute_part_costs.stop) is checked at every batch boundary, so it
--   also stops the task phase; the recompute checks it before each claim, as the spec says.
local db = require "mighost.db"
local migration = require "mighost.migration"
local S = require "tasks_to_parts.sql"
local deps = require "tasks_to_parts.deps"

-- JIT off on every connection the script uses: the checks, counts and finalize statements have
-- large estimated costs, and compiling them cost more than running them. Session-level, once per
-- connection.
local jit_off = setmetatable({}, {__mode = "k"})
local function no_jit(conn)
  if not jit_off[conn] then
    conn:exec("SET jit = off")
    jit_off[conn] = true
  end
end

local P = [['PT-' || s.key]]   -- the part of task s; its operation's key is the task's own
local USERS = {created_by_id = {table = "auth_user", key = "id", rule = "orphan_user_nulled"},
               completed_by_id = {table = "auth_user", key = "id", rule = "orphan_user_nulled"}}
local OURS = "EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || s.task_id AND p.task_key = s.task_id)"

-- The runbook's phase 3 output, one line per task of the batch, in key order.
local function say_plan(ctx, batch)
  local reason, keys = {}, {}
  for i, k in ipairs(batch.rejected) do reason[k] = batch.reasons[i] end
  for _, k in ipairs(batch.migrated) do keys[#keys + 1] = k end
  for _, k in ipairs(batch.rejected) do keys[#keys + 1] = k end
  table.sort(keys)   -- byte order, as COLLATE "C"
  for _, k in ipairs(keys) do
    if reason[k] then ctx:say("Would reject %s: %s", k, reason[k])
    else ctx:say("Would migrate %s -> Part: PT-%s, Operation: %s", k, k, k) end
  end
end

local m = migration.define {
  name = "tasks_to_parts",
  description = "machining Tasks -> tasks Parts/Operations, timers and cost rows moved; costs recomputed",
  options = {
    batch_size = {default = 100, help = "tasks per transaction (with their timers and cost rows)"},
    stop_file = {default = "recompute_part_costs.stop"},
    recompute = {type = "bool", help = "after the migration, recompute the queued parts' costs from their timers"},
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
    -- table's order, a task's timers sit on as many random pages of it as they have rows; clustered
    -- by task once, when the snapshot is new, they share a page or two. Same rows, same key: only
    -- their order on disk changes.
    if not ctx.db:scalar("SELECT to_regclass($1) IS NOT NULL", S.BACKUP_TASK_INDEX) then
      local index = S.BACKUP_TASK_INDEX:match("%.(.+)$")   -- CREATE INDEX / CLUSTER take the bare name
      ctx.db:exec("CREATE INDEX " .. index .. " ON " .. S.BACKUP .. " (content_type_id, object_id, id)")
      ctx.db:exec("CLUSTER " .. S.BACKUP .. " USING " .. index)
    end
    -- the fresh snapshot has no statistics: without them the planner hashes all of it for every batch
    ctx.db:exec("ANALYZE " .. S.BACKUP)
  end,

  phases = {
    { name = "machining_task", label = "tasks", every = 100,   -- §3.1
      source = "machining_task", key = "key",
      -- migrated (rule 1): our part P (task_key = the task) and its operation exist
      target = {table = "tasks_part", key = {"key", "task_key"}, owned = [[task_key IS NOT NULL]]},
      map = {key = P, task_key = "s.key", name = "s.name", job_no = "s.job_no", image_no = "s.image_no",
             position_no = "s.position_no", quantity = "s.quantity", description = "s.description",
             completion_date = "s.completion_date", completed_by_id = "s.completed_by_id",
             created_by_id = "s.created_by_id", created_at = "s.created_at"},
      also = {
        {table = "tasks_operation", key = {"key", "part_id"}, references = USERS, check_names = {values = "operation_values"},
         map = {key = "s.key", part_id = P, name = "s.name", order = "1", machine_fk_id = "s.machine_fk_id",
                estimated_hours = "s.estimated_hours", in_plan = "s.in_plan", plan_order = "s.plan_order",
                planned_start_ms = "s.planned_start_ms", planned_end_ms = "s.planned_end_ms",
                completion_date = "s.completion_date", completed_by_id = "s.completed_by_id",
                created_by_id = "s.created_by_id", created_at = "s.created_at"}},
        {table = "tasks_partcostrecalcqueue", key = "part_id", map = {part_id = P}, queue = true},
      },
      rejects = {   -- rules 2-4, first match wins
        {"key_too_long", [[char_length('PT-' || s.key) > 255]],
         detail = [['part key would be ' || char_length('PT-' || s.key) || ' characters (max 255)']]},
        {"part_key_conflict", [[EXISTS (SELECT 1 FROM tasks_part p WHERE p.key = 'PT-' || s.key
                                        AND p.task_key IS DISTINCT FROM s.key)]],
         detail = [['tasks_part PT-' || s.key || ' already exists']]},
        {"part_key_conflict", [[EXISTS (SELECT 1 FROM tasks_part p WHERE p.task_key = s.key AND p.key <> 'PT-' || s.key)]],
         detail = [['tasks_part ' || (SELECT p.key FROM tasks_part p WHERE p.task_key = s.key) || ' already has task_key ' || s.key]]},
        {"operation_key_conflict", [[EXISTS (SELECT 1 FROM tasks_operation o WHERE o.key = s.key)]],
         detail = [['Task key already exists as operation']]},
      },
      references = USERS,   -- a creator/completer missing from auth_user becomes NULL + a fixup
      check_names = {accounted = "tasks_accounted", values = "part_values"},
      after = function(ctx, batch)   -- the task's timers and cost rows, in the same transaction
        if ctx.dry_run then say_plan(ctx, batch) end
        deps.batch(ctx, batch)
      end },

    { name = "recompute", every = 50, workers = true,   -- §3.4
      total = function(ctx)
        ctx.shared.queued = tonumber(ctx.db:scalar("SELECT count(*) FROM tasks_partcostrecalcqueue")) or 0
        return ctx.options.recompute and ctx.shared.queued or 0
      end,
      step = function(ctx)
        if not ctx.options.recompute then return 0 end
        no_jit(ctx.db)
        local parts = {}
        for r in ctx.db:rows(S.CLAIM, S.RECOMPUTE_BATCH) do parts[#parts + 1] = r.part_id end
        if #parts == 0 then return 0 end
        table.sort(parts)
        local arr = db.array(parts)
        ctx.db:exec(S.RECOMPUTE_PARTS, arr)
        ctx.db:exec(S.RECOMPUTE_USERS, arr)
        return #parts
      end,
      counts = function(ctx, done) return {queued = ctx.shared.queued or 0, recomputed = done} end },
  },

  -- The sets that follow their task (§3.2, §3.3). Each `migrated_count` is its `migrated` predicate
  -- counted as one join (a probe per row costs far more on a large timer table).
  sets = {
    { name = "tasks_timer", key = "id", check_names = {accounted = "timers_accounted"},
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
      check_names = {accounted = "costs_accounted"},
      migrated = [[EXISTS (SELECT 1 FROM tasks_partcostagg a WHERE a.part_id = 'PT-' || s.task_id) AND ]] .. OURS,
      migrated_count = [[SELECT count(*) FROM machining_jobcostagg s JOIN tasks_partcostagg a ON a.part_id = 'PT-' || s.task_id
          JOIN tasks_part p ON p.key = a.part_id AND p.task_key = s.task_id]] },
    { name = "machining_jobcostagguser", key = "id", source = [[SELECT * FROM machining_jobcostagguser]],
      check_names = {accounted = "user_costs_accounted"},
      migrated = [[EXISTS (SELECT 1 FROM tasks_partcostagguser a WHERE a.part_id = 'PT-' || s.task_id
                           AND a.user_id = s.user_id) AND ]] .. OURS,
      -- (part_id, user_id) is unique in the target and task_key in tasks_part: one row per source row
      migrated_count = [[SELECT count(*) FROM machining_jobcostagguser s
          JOIN tasks_partcostagguser a ON a.part_id = 'PT-' || s.task_id AND a.user_id = s.user_id
          JOIN tasks_part p ON p.key = a.part_id AND p.task_key = s.task_id]] },
  },

  finalize = function(ctx)
    -- what the batches re-pointed and copied, for the plans of what follows (the statistics of
    -- tasks_timer still say every timer is on a task)
    ctx.db:exec("ANALYZE tasks_timer, tasks_partcostagg, tasks_partcostagguser")
    deps.resolve(ctx)   -- orphans, and rows whose task was decided by an earlier run
  end,

  -- The generated checks cover tasks_accounted, part_values (+ operation_values), fixups_logged,
  -- rejects_valid, no_double_resolution and the sets' *_accounted; these are the spec's others.
  checks = require "tasks_to_parts.checks",
  rollback = S.ROLLBACK,
}

return m:main()
