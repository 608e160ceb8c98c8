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

-- §2, as the spec writes it. The framework creates the tables with their keys, unique and CHECK
-- constraints before the rows, and adds the indexes and foreign keys after them.
local TARGET_DDL = [[
CREATE TABLE "user" (
  id serial PRIMARY KEY, username varchar(64) NOT NULL, email text, password_hash text NOT NULL,
  role varchar(20) NOT NULL DEFAULT 'dispatcher' CHECK (role IN ('admin','biller','dispatcher')),
  dispatch_area text, verified boolean NOT NULL DEFAULT false, created_at timestamp,
  CONSTRAINT user_username_key UNIQUE (username));
CREATE INDEX idx_user_email ON "user"(email);
CREATE TABLE bag (
  id serial PRIMARY KEY, qr_id varchar(255) NOT NULL,
  type varchar(10) NOT NULL CHECK (type IN ('parent','child')), name text,
  child_count integer NOT NULL DEFAULT 0,
  parent_id integer REFERENCES bag(id) ON DELETE SET NULL,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  dispatch_area text, status text NOT NULL DEFAULT 'pending',
  weight_kg double precision NOT NULL DEFAULT 0, created_at timestamp,
  CONSTRAINT bag_qr_id_key UNIQUE (qr_id));
CREATE INDEX idx_bag_type ON bag(type);          CREATE INDEX idx_bag_parent_id ON bag(parent_id);
CREATE INDEX idx_bag_user_id ON bag(user_id);    CREATE INDEX idx_bag_dispatch_area ON bag(dispatch_area);
CREATE TABLE bill (
  id serial PRIMARY KEY, bill_id varchar(50) NOT NULL, description text,
  parent_bag_count integer NOT NULL DEFAULT 0, total_weight_kg double precision NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'new', created_by_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  created_at timestamp, CONSTRAINT bill_bill_id_key UNIQUE (bill_id));
CREATE TABLE bill_bag (
  id serial PRIMARY KEY, bill_id integer NOT NULL REFERENCES bill(id) ON DELETE CASCADE,
  bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE, created_at timestamp,
  CONSTRAINT bill_bag_bill_id_bag_id_key UNIQUE (bill_id, bag_id));
CREATE TABLE link (
  id serial PRIMARY KEY,
  parent_bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE,
  child_bag_id integer NOT NULL REFERENCES bag(id) ON DELETE CASCADE,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL, created_at timestamp,
  CONSTRAINT link_parent_child_key UNIQUE (parent_bag_id, child_bag_id),
  CONSTRAINT link_not_self CHECK (parent_bag_id <> child_bag_id));
CREATE INDEX idx_link_child ON link(child_bag_id);
CREATE TABLE scan (
  id serial PRIMARY KEY, "timestamp" timestamp NOT NULL,
  parent_bag_id integer REFERENCES bag(id) ON DELETE SET NULL,
  child_bag_id integer REFERENCES bag(id) ON DELETE SET NULL,
  user_id integer REFERENCES "user"(id) ON DELETE SET NULL);
CREATE INDEX idx_scan_timestamp ON scan("timestamp"); CREATE INDEX idx_scan_parent ON scan(parent_bag_id);
CREATE INDEX idx_scan_child ON scan(child_bag_id);    CREATE INDEX idx_scan_user ON scan(user_id);
CREATE TABLE promotionrequest (
  id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
  requested_role varchar(20) NOT NULL, reason text, status varchar(20) NOT NULL DEFAULT 'pending',
  admin_id integer REFERENCES "user"(id) ON DELETE SET NULL, admin_notes text,
  requested_at timestamp, processed_at timestamp);
CREATE TABLE audit_log (
  id serial PRIMARY KEY, "timestamp" timestamp, user_id integer REFERENCES "user"(id) ON DELETE SET NULL,
  action text NOT NULL, entity_type text, entity_id integer, details text, ip_address text);
CREATE INDEX idx_audit_log_timestamp ON audit_log("timestamp");]]

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
