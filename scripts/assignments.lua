-- assignments: single assignment (parts.assigned_to) -> multi-assignment (job_assignments). What it
-- does, its options, codes, checks and rollback: docs/assignments.md.
--
-- Runbook it replaces: "create job_assignments; drop parts.assigned_to". That runbook loses every
-- assignment; here each one is first copied from the snapshot of parts into job_assignments
-- (dangling users and vanished parts are rejected), and the legacy columns are dropped only at
-- the end of a complete run, in the transaction that validates it.
local schema = require "mighost.schema"
local migration = require "mighost.migration"

local S = "mig_backup_assignments.parts"   -- the snapshot: the source of every run

-- The target as the spec writes it (its indexes and foreign keys are added after the rows).
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

local m = migration.define {
  name = "assignments",
  description = "parts.assigned_to -> job_assignments (then drops parts.assigned_to / assigned_at)",
  options = {batch_size = {default = 5000}},   -- one statement per batch: fewer, larger transactions
  backup = {"parts"},                          -- the legacy columns vanish at the end: S keeps them
  target_ddl = TARGET_DDL,

  preconditions = {
    {name = "tables_present", sql = [[SELECT to_regclass('users') IS NOT NULL AND to_regclass('parts') IS NOT NULL]]},
    {name = "legacy_column", check = function(ctx)
      if schema.column_exists(ctx.db, "parts", "assigned_to") then return true, "parts.assigned_to exists" end
      if schema.table_exists(ctx.db, S) then return true, "parts.assigned_to is gone; the snapshot " .. S .. " exists" end
      return false, "parts has no assigned_to column and there is no snapshot " .. S .. ": nothing to migrate"
    end},
  },

  phases = {
    { name = "parts",
      source = [[SELECT * FROM mig_backup_assignments.parts WHERE assigned_to IS NOT NULL]], key = "id",
      target = {table = "job_assignments", key = {"part_id", "user_id"}},
      map = {
        part_id = "s.id", user_id = "s.assigned_to",
        status = [[CASE lower(btrim(s.status)) WHEN 'completed' THEN 'completed' WHEN 'in_progress' THEN 'in_progress'
                   ELSE 'pending' END]],
        -- the snapshot's assigned_at, or created_at on older installs that had none
        assigned_at = {sql = function(ctx)
          return schema.column_exists(ctx.db, S, "assigned_at") and "COALESCE(s.assigned_at, s.created_at)" or "s.created_at"
        end},
        started_at = "s.started_at", completed_at = "s.completed_at",
      },
      rejects = {   -- first match wins
        {"part_missing", "NOT EXISTS (SELECT 1 FROM parts p WHERE p.id = s.id)", detail = [['part ' || s.id || ' no longer exists']]},
        {"orphan_user", "NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.assigned_to)",
         detail = [['user ' || s.assigned_to || ' does not exist']]},
      },
      check_names = {values = "assignment_values", rejects = "reject_reasons"} },
  },

  finalize = function(ctx)   -- every source row is resolved: the legacy columns go (rolled back if a check fails)
    ctx.db:exec("ALTER TABLE parts DROP COLUMN IF EXISTS assigned_to, DROP COLUMN IF EXISTS assigned_at")
  end,

  -- The generated checks cover parts_accounted, no_double_resolution, assignment_values and
  -- reject_reasons; these are the spec's others.
  checks = {
    {name = "parts_preserved", sql = [[SELECT count(*) FROM mig_backup_assignments.parts s
        LEFT JOIN parts p ON p.id = s.id
        WHERE p.id IS NULL OR (to_jsonb(p) - 'assigned_to' - 'assigned_at')
                              IS DISTINCT FROM (to_jsonb(s) - 'assigned_to' - 'assigned_at')]]},
    {name = "legacy_columns_dropped", needs = "finalize", sql = [[SELECT count(*) FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'parts' AND column_name IN ('assigned_to', 'assigned_at')]]},
    {name = "indexes_present", needs = "finalize", sql = [[SELECT 4 - count(*) FROM pg_indexes WHERE tablename = 'job_assignments'
        AND indexname IN ('idx_job_assignments_part_id', 'idx_job_assignments_user_id', 'idx_job_assignments_status',
                          'job_assignments_part_user_key')]]},
  },

  rollback = function(ctx)   -- in one transaction; assigned_at only where the install had it
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
