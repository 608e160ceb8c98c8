-- rds_mapping: a legacy TraceTrack database (column names vary per install) -> the new TraceTrack
-- schema, possibly in another database. What it does, its options, codes, checks and rollback:
-- docs/rds_mapping.md.
--
-- Runbook it replaces (seed 004): "back up every table to JSON; look at which columns this install
-- has; create the new tables; copy users, bags, scans, bills and links with the field mapping;
-- check that the counts look right". Unlike that runbook, the source is read in one snapshot by a
-- read-only session and never written; the JSON backup is re-read before anything is written;
-- every row is migrated or rejected with a reason; dangling references are nulled and logged; and
-- the checks prove the target equals the mapping of the snapshot, table by table.
--
--   mighost run scripts/rds_mapping.lua --source-db "$AWS_DATABASE_URL" --target-db "$DATABASE_URL" --dry-run
--   mighost run scripts/rds_mapping.lua --target-schema tracetrack      # one database, a new schema
--   mighost restore rds_backup_<time>.json --db URL --schema legacy     # the backup, into empty legacy tables
local migration = require "mighost.migration"
local L = require "rds_mapping.legacy"
local R = require "rds_mapping.rules"
local plan = require "rds_mapping.plan"

-- §2's DDL (rds_mapping/ddl.lua): the framework creates the tables with their keys, unique and
-- CHECK constraints before the rows, and adds the indexes and foreign keys after them.
local TARGET_DDL = require "rds_mapping.ddl"

-- One phase per target table, in §3's processing order, from the source connection (streamed:
-- the source's PostgreSQL maps each window, the target decides the rules that need it).
local phases = {}
for _, t in ipairs(L.ORDER) do
  local map = {}
  for _, col in ipairs(L.COLUMNS[t]) do
    map[col[1]] = {sql = function(ctx) return L.values(plan.res(ctx), t)[col[1]] end}
  end
  local rejects = {}
  for i, r in ipairs(R.rules[t]) do
    if r.missing or r.duplicate then
      rejects[i] = {r[1], missing = r.missing, duplicate = r.duplicate}
    else
      rejects[i] = {r[1], {sql = function(ctx) return r[2](plan.res(ctx)) end},
                    detail = {sql = function(ctx) return r.detail(plan.res(ctx)) end}}
    end
  end
  local references = {}
  for col, ref in pairs(R.references[t] or {}) do
    references[col] = {table = ref[1], key = "id", rule = "orphan_reference", deferred = ref.deferred, not_self = ref.not_self}
  end
  phases[#phases + 1] = {name = t, from = "source", key = "id",
    source = function(ctx) return L.source(plan.res(ctx), t) end,
    target = {table = t, key = "id"}, map = map, rejects = rejects, references = references}
end

local m = migration.define {
  name = "rds_mapping",
  description = "legacy TraceTrack (any install's column names) -> the new TraceTrack schema, source read-only",
  connections = {
    {name = "source", env = "AWS_DATABASE_URL", default = "libpq", snapshot = true, schema = "source_schema",
     help = "the legacy database, read in one REPEATABLE READ READ ONLY transaction (default $AWS_DATABASE_URL,"
       .. " else the libpq environment)"},
    {name = "target", env = "DATABASE_URL", fallback = "source", schema = "target_schema",
     help = "the database written, holding mig_meta (default $DATABASE_URL, else the source)"},
  },
  options = {
    limit = false,   -- §6: no --limit
    -- a batch costs a fixed round of statements whatever its size: 5000 rows a batch instead
    -- of the common 500 (figures in tests/bench/README.md, "Batch sizes")
    batch_size = {default = 5000},
    source_schema = {type = "string", default = "public", metavar = "SCHEMA", help = "schema of the legacy tables"},
    target_schema = {type = "string", default = "public", metavar = "SCHEMA", help = "schema of the new tables (created if missing)"},
  },
  backup = {format = "json", from = "source", prefix = "rds", dir = ".", order_by = "id", dry_run = true,
            tables = function(ctx) return plan.present(ctx) end,
            meta = function(ctx) return {source_schema = ctx.options.source_schema} end},
  target_ddl = TARGET_DDL,
  target_columns = "exact",   -- §4: a target table with other columns (the legacy schema itself) refuses

  preconditions = {
    {name = "source_is_not_target", early = true, check = plan.distinct_check},
    {name = "required_tables", check = plan.required_tables},
    {name = "required_columns", check = plan.required_columns},
    {name = "legacy_ids", check = plan.legacy_ids},
  },
  prepare = function(ctx) plan.announce(ctx) end,
  phases = phases,
  finalize = plan.finalize,   -- bill weights, sequences (after the indexes and foreign keys)
  checks = plan.checks(),
  rollback = function(ctx)
    ctx.db:exec([[DROP TABLE IF EXISTS audit_log, promotionrequest, scan, link, bill_bag, bill, bag, "user"]])
    ctx.db:exec("DELETE FROM mig_meta.rejects WHERE migration = 'rds_mapping'")
    ctx.db:exec("DELETE FROM mig_meta.fixups WHERE migration = 'rds_mapping'")
  end,
}

return m:main()
