-- assignments: single assignment (parts.assigned_to) -> multi-assignment (job_assignments)
-- (docs/assignments.md).
--
-- Runbook it replaces (seed 000): "create job_assignments; drop parts.assigned_to". The seed
-- loses every assignment; here each one is first copied from the snapshot of parts into
-- job_assignments (dangling users and vanished parts are rejected), and the legacy columns are
-- dropped only at the end of a complete run, in the transaction that validates it.
--
-- Every batch is ONE statement over the window's id range of the snapshot S =
-- mig_backup_assignments.parts (ctx.window.source): the rejects and the assignments as
-- data-modifying CTEs (ctx:write_batch).
local schema = require "mighost.schema"
local migration = require "mighost.migration"

local S = "mig_backup_assignments.parts"

-- Rule 1 and 2 of §3 over the snapshot row s (NULL: the row migrates).
local REJECT_REASON = [[CASE
  WHEN NOT EXISTS (SELECT 1 FROM parts p WHERE p.id = s.id) THEN 'part_missing'
  WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.assigned_to) THEN 'orphan_user'
END]]

-- The parts of the batch (ctx.window.source: the window's id range of the snapshot, its pending
-- rows only), read once, with the rule that applies (__reason) and the snapshot row for a reject.
-- The two EXISTS sit in a LATERAL subquery that OFFSET 0 keeps from being flattened: planned for
-- one row, they probe the primary keys, where the planner would otherwise hash all of "parts"
-- for every batch (and twice: __reason is used twice).
local function batch_parts(source)
  return [[b AS MATERIALIZED (
  SELECT s.*, x.__reason, CASE WHEN x.__reason IS NOT NULL THEN to_jsonb(s) END AS __row_data
    FROM (]] .. source .. [[) s
   CROSS JOIN LATERAL (SELECT ]] .. REJECT_REASON .. [[ AS __reason OFFSET 0) x)]]
end

-- The rejects of the batch: source_key, reason, detail, row_data (for ctx:write_batch).
local REJECTS = [[SELECT b.id::text AS source_key, b.__reason AS reason,
       CASE b.__reason WHEN 'orphan_user' THEN 'user ' || b.assigned_to || ' does not exist'
                       ELSE 'part ' || b.id || ' no longer exists' END AS detail, b.__row_data AS row_data
  FROM b WHERE b.__reason IS NOT NULL]]

-- The mapping table of §3 (assigned_at: the snapshot's, or NULL when the install had none); ids
-- in part order.
local function insert_sql(has_assigned_at)
  return [[
  INSERT INTO job_assignments (part_id, user_id, status, assigned_at, started_at, completed_at)
  SELECT b.id, b.assigned_to,
         CASE lower(btrim(b.status)) WHEN 'completed' THEN 'completed' WHEN 'in_progress' THEN 'in_progress'
                                     ELSE 'pending' END,
         COALESCE(]] .. (has_assigned_at and "b.assigned_at" or "NULL::timestamp") .. [[, b.created_at),
         b.started_at, b.completed_at
    FROM b WHERE b.__reason IS NULL
   ORDER BY b.id
  ON CONFLICT (part_id, user_id) DO NOTHING]]
end

local TARGET_DDL = [[
CREATE TABLE IF NOT EXISTS job_assignments (
  id           serial PRIMARY KEY,
  part_id      integer NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
  user_id      integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  status       varchar(20) NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending','in_progress','completed')),
  assigned_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  started_at   timestamp,
  completed_at timestamp,
  CONSTRAINT job_assignments_part_user_key UNIQUE (part_id, user_id)
);
CREATE INDEX IF NOT EXISTS idx_job_assignments_part_id ON job_assignments(part_id);
CREATE INDEX IF NOT EXISTS idx_job_assignments_user_id ON job_assignments(user_id);
CREATE INDEX IF NOT EXISTS idx_job_assignments_status  ON job_assignments(status);]]

local function target_compatible(ctx)
  if not schema.table_exists(ctx.db, "job_assignments") then return true, "job_assignments does not exist yet" end
  local missing = {}
  for _, c in ipairs {"part_id", "user_id", "status", "assigned_at", "started_at", "completed_at"} do
    if not schema.column_exists(ctx.db, "job_assignments", c) then missing[#missing + 1] = c end
  end
  if #missing > 0 then return false, "job_assignments lacks column(s) " .. table.concat(missing, ", ") end
  local unique = ctx.db:scalar([[SELECT count(*) FROM pg_constraint
      WHERE conrelid = 'job_assignments'::regclass AND contype IN ('u', 'p')
        AND conkey::int2[] @> ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'job_assignments'::regclass
                                     AND attname = 'part_id'),
                                    (SELECT attnum FROM pg_attribute WHERE attrelid = 'job_assignments'::regclass
                                     AND attname = 'user_id')]::int2[]
        AND cardinality(conkey) = 2]])
  if tonumber(unique) == 0 then return false, "job_assignments has no unique constraint on (part_id, user_id)" end
  return true, "job_assignments has the section-2 columns and UNIQUE (part_id, user_id)"
end

local REJ = [[EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = 'assignments'
    AND r.source_table = 'parts' AND r.source_key = s.id::text)]]

local m = migration.define {
  name = "assignments",
  description = "parts.assigned_to -> job_assignments (then drops parts.assigned_to / assigned_at)",

  options = {batch_size = {default = 5000}},   -- set-based batches: fewer, larger transactions

  backup = {"parts"},   -- S: the source of every run (the legacy columns vanish at the end)

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('users') IS NOT NULL AND to_regclass('parts') IS NOT NULL]]},
    {name = "legacy_column", check = function(ctx)
      if schema.column_exists(ctx.db, "parts", "assigned_to") then return true, "parts.assigned_to exists" end
      if schema.table_exists(ctx.db, S) then return true, "parts.assigned_to is gone; the snapshot " .. S .. " exists" end
      return false, "parts has no assigned_to column and there is no snapshot " .. S .. ": nothing to migrate"
    end},
    {name = "target_compatible", check = target_compatible},
  },

  setup = function(ctx)
    ctx.db:exec(TARGET_DDL)
    ctx.shared.has_assigned_at = schema.column_exists(ctx.db, S, "assigned_at")   -- older installs lack it
  end,

  phases = {
    { name = "parts",
      source = [[SELECT * FROM mig_backup_assignments.parts WHERE assigned_to IS NOT NULL]],
      key = "id",
      migrated = [[EXISTS (SELECT 1 FROM job_assignments j WHERE j.part_id = s.id AND j.user_id = s.assigned_to)]],
      migrated_count = [[SELECT count(*) FROM mig_backup_assignments.parts s
          JOIN job_assignments j ON j.part_id = s.id AND j.user_id = s.assigned_to]],   -- one hash join
      fresh = [[SELECT NOT EXISTS (SELECT 1 FROM job_assignments)]],   -- a first run: no per-row pending probe
      fetch = "range",                                -- the batch reads its rows itself (ctx.window)
      batch = function(ctx)
        local w = ctx.window
        return ctx:write_batch({with = batch_parts(w.source), rejects = REJECTS,
          write = insert_sql(ctx.shared.has_assigned_at)}, unpack(w.params))
      end },
  },

  finalize = function(ctx)   -- every source row is resolved: the legacy columns go (rolled back if a check fails)
    ctx.db:exec("ALTER TABLE parts DROP COLUMN IF EXISTS assigned_to, DROP COLUMN IF EXISTS assigned_at")
  end,

  checks = {
    {name = "parts_accounted", needs = "complete", sql = [[SELECT count(*) FROM mig_backup_assignments.parts s
        WHERE s.assigned_to IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM job_assignments j WHERE j.part_id = s.id AND j.user_id = s.assigned_to)
          AND NOT ]] .. REJ},
    {name = "no_double_resolution", sql = [[SELECT count(*) FROM mig_backup_assignments.parts s
        JOIN job_assignments j ON j.part_id = s.id AND j.user_id = s.assigned_to WHERE ]] .. REJ},
    {name = "reject_reasons", sql = [[SELECT count(*) FROM mig_meta.rejects r
        WHERE r.migration = 'assignments' AND (r.reason NOT IN ('orphan_user', 'part_missing')
           OR (r.reason = 'orphan_user' AND EXISTS (SELECT 1 FROM users u WHERE u.id = (r.row_data->>'assigned_to')::int)))]]},
    {name = "assignment_values", sql = [[SELECT count(*) FROM mig_backup_assignments.parts s
        JOIN job_assignments j ON j.part_id = s.id AND j.user_id = s.assigned_to
        WHERE j.status IS DISTINCT FROM CASE lower(btrim(s.status)) WHEN 'completed' THEN 'completed'
                                         WHEN 'in_progress' THEN 'in_progress' ELSE 'pending' END
           OR j.assigned_at IS DISTINCT FROM COALESCE((to_jsonb(s)->>'assigned_at')::timestamp, s.created_at)
           OR j.started_at IS DISTINCT FROM s.started_at OR j.completed_at IS DISTINCT FROM s.completed_at]]},
    {name = "parts_preserved", sql = [[SELECT count(*) FROM mig_backup_assignments.parts s
        LEFT JOIN parts p ON p.id = s.id
        WHERE p.id IS NULL OR (to_jsonb(p) - 'assigned_to' - 'assigned_at')
                              IS DISTINCT FROM (to_jsonb(s) - 'assigned_to' - 'assigned_at')]]},
    {name = "legacy_columns_dropped", needs = "finalize", sql = [[SELECT count(*) FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'parts' AND column_name IN ('assigned_to', 'assigned_at')]]},
    {name = "indexes_present", sql = [[SELECT 4 - count(*) FROM pg_indexes WHERE tablename = 'job_assignments'
        AND indexname IN ('idx_job_assignments_part_id', 'idx_job_assignments_user_id', 'idx_job_assignments_status',
                          'job_assignments_part_user_key')]]},
  },

  rollback = function(ctx)   -- §7, in one transaction; assigned_at only where the install had it
    local has_at = schema.column_exists(ctx.db, S, "assigned_at")
    ctx.db:exec("ALTER TABLE parts ADD COLUMN IF NOT EXISTS assigned_to integer"
      .. (has_at and ", ADD COLUMN IF NOT EXISTS assigned_at timestamp" or ""))
    ctx.db:exec("UPDATE parts p SET assigned_to = s.assigned_to"
      .. (has_at and ", assigned_at = s.assigned_at" or "") .. " FROM mig_backup_assignments.parts s WHERE s.id = p.id")
    ctx.db:exec("CREATE INDEX IF NOT EXISTS idx_parts_assigned_to ON parts(assigned_to)")
    ctx.db:exec("DROP TABLE job_assignments")
    ctx.db:exec("DELETE FROM mig_meta.rejects WHERE migration = 'assignments'")
  end,
}

return m:main()
