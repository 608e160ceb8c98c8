-- mighost.mig_ledger: the mig_meta schema (stdlib/README.md, mighost.migration) and every write to it.
--
-- The four spec tables are created exactly as specified. What the spec does not fix lives in extra
-- columns of mig_meta.runs (added once, only when missing, so no run ever takes a strong lock on
-- the ledger that another run's INSERT would wait for): the script's sha256, the host version,
-- the per-phase checkpoints, the durations, the error message and the file backup taken.
local db = require "mighost.db"
local json = require "mighost.mig_json"

local ledger = {}

--- The ledger of one migration on its connection, and this run's row in it. Fields:
---   conn       the ledger connection (every statement below goes there, in the caller's transaction)
---   migration  the migration's name
---   run_id     this run's row (nil until :start; a worker's is the main run's)
---   prev       the latest earlier run that was not refused (nil until :load_previous, or none)
local Ledger = {}
Ledger.__index = Ledger

function ledger.new(conn, migration, run_id)
  return setmetatable({conn = conn, migration = migration, run_id = run_id}, Ledger)
end

ledger.DDL = [[
CREATE SCHEMA IF NOT EXISTS mig_meta;
CREATE TABLE IF NOT EXISTS mig_meta.runs (
  run_id      bigserial PRIMARY KEY,
  migration   text NOT NULL,
  mode        text NOT NULL CHECK (mode IN ('apply')),
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz,
  status      text NOT NULL CHECK (status IN ('running','ok','partial','stopped',
                                              'validation_failed','refused','error')),
  options     jsonb NOT NULL DEFAULT '{}',
  counts      jsonb NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS mig_meta.rejects (
  migration    text NOT NULL,
  source_table text NOT NULL,
  source_key   text NOT NULL,
  reason       text NOT NULL,
  detail       text,
  row_data     jsonb NOT NULL,
  run_id       bigint NOT NULL REFERENCES mig_meta.runs,
  PRIMARY KEY (migration, source_table, source_key));
CREATE TABLE IF NOT EXISTS mig_meta.fixups (
  migration text NOT NULL, source_table text NOT NULL, source_key text NOT NULL,
  field text NOT NULL,
  rule  text NOT NULL,
  old_value text, new_value text,
  run_id bigint NOT NULL REFERENCES mig_meta.runs,
  PRIMARY KEY (migration, source_table, source_key, field));
CREATE TABLE IF NOT EXISTS mig_meta.checks (
  run_id bigint NOT NULL REFERENCES mig_meta.runs, check_name text NOT NULL,
  passed boolean,
  expected text NOT NULL, actual text NOT NULL,
  PRIMARY KEY (run_id, check_name));
]]

--- Extra columns of mig_meta.runs (not in the spec's DDL; the spec's columns stay as they are).
ledger.EXTRA_COLUMNS = {
  {"script_sha256", "text"},   -- sha256 of the script file this run executed
  {"host_version", "text"},    -- mighost version
  {"checkpoint", "jsonb"},     -- {"<phase>": {"parts": [{"lo","hi","last","done","complete"}]}}
  {"durations", "jsonb"},      -- seconds: {"total","setup","phases":{...},"finalize","checks"}
  {"message", "text"},         -- why a run ended in error/refused
  {"backup", "jsonb"},         -- file backup: {"dir","tables":[{"table","rows"}],"manifest_sha256","bytes","seconds"}
  {"rolled_back_at", "timestamptz"},  -- when `mighost rollback` undid this run's work
}

--- True when mig_meta.runs exists (a database no migration ever touched has none).
function ledger.exists(conn)
  return conn:scalar("SELECT to_regclass('mig_meta.runs') IS NOT NULL") == true
end

--- Columns of mig_meta.runs (set), or nil if the table is absent.
function ledger.run_columns(conn)
  if not ledger.exists(conn) then return nil end
  local have = {}
  for _, r in ipairs(conn:query([[SELECT attname FROM pg_attribute
      WHERE attrelid = 'mig_meta.runs'::regclass AND attnum > 0 AND NOT attisdropped]])) do
    have[r.attname] = true
  end
  return have
end

--- Creates mig_meta and the extra columns when missing. Runs in the caller's transaction, or in
--- its own; races with another migration creating it at the same moment are retried once.
function ledger.ensure(conn)
  local function go()
    local have = ledger.run_columns(conn)
    local complete = have and conn:scalar([[SELECT to_regclass('mig_meta.rejects') IS NOT NULL
        AND to_regclass('mig_meta.fixups') IS NOT NULL AND to_regclass('mig_meta.checks') IS NOT NULL]]) == true
    if not complete then
      conn:exec(ledger.DDL)
      have = ledger.run_columns(conn)
    end
    for _, c in ipairs(ledger.EXTRA_COLUMNS) do
      if not have[c[1]] then
        conn:exec(string.format("ALTER TABLE mig_meta.runs ADD COLUMN IF NOT EXISTS %s %s", c[1], c[2]))
      end
    end
  end
  local ok, err = pcall(conn.tx, conn, go)
  if not ok then
    local state = type(err) == "table" and err.sqlstate
    if state ~= "23505" and state ~= "42P07" and state ~= "42P06" then error(err, 0) end
    conn:tx(go)  -- another session created it between our check and our CREATE
  end
end

--- Reads the latest run of the migration that was not refused (for the script-changed warning
--- and the checkpoints to resume from) into self.prev; returns it, or nil.
function Ledger:load_previous()
  self.prev = nil
  if not ledger.exists(self.conn) then return nil end
  local r = self.conn:query([[SELECT run_id, status, started_at::text AS started_at, script_sha256,
      checkpoint::text AS checkpoint FROM mig_meta.runs
      WHERE migration = $1 AND status <> 'refused' ORDER BY run_id DESC LIMIT 1]], self.migration)[1]
  if not r then return nil end
  local cp = r.checkpoint
  r.checkpoint = (type(cp) == "string") and json.decode(cp) or nil
  self.prev = r
  return r
end

--- The previous run's checkpoint entry `key` (a phase's {parts}, or the framework's own keys), or nil.
function Ledger:previous_checkpoint(key)
  local cp = self.prev and self.prev.checkpoint
  return type(cp) == "table" and cp[key] or nil
end

--- Creates mig_meta when missing (see ledger.ensure).
function Ledger:ensure() ledger.ensure(self.conn) end

--- Inserts this run's row (status running, or info.status) and keeps its run_id.
function Ledger:start(info)
  self.run_id = self.conn:scalar([[INSERT INTO mig_meta.runs (migration, mode, status, options, script_sha256,
      host_version, checkpoint) VALUES ($1, 'apply', $2, $3::jsonb, $4, $5, $6::jsonb) RETURNING run_id]],
    self.migration, info.status or "running", json.encode(info.options or {}), info.sha256, info.version,
    json.encode(info.checkpoint or {}))
  return self.run_id
end

--- Runs of this migration still marked running while we hold its lock: their process died.
function Ledger:close_dead_runs()
  return self.conn:query([[UPDATE mig_meta.runs SET status = 'error',
      message = 'process ended without finishing (killed or crashed); noticed by run ' || $2
      WHERE migration = $1 AND status = 'running' AND run_id <> $2
      RETURNING run_id, started_at::text AS started_at]], self.migration, self.run_id)
end

--- Runs still marked running whose migration's lock no session holds: their process is gone
--- (killed, its session terminated, the server restarted). A live run takes the lock before it
--- inserts its row and keeps it until its session ends, so no live run matches. Marks them error.
function ledger.close_orphaned_runs(conn, noticed_by)
  local lock = require "mighost.mig_lock"
  return conn:query([[UPDATE mig_meta.runs r SET status = 'error',
      message = 'process ended without finishing (killed, its session terminated or the server restarted):'
                || ' no session holds its lock; noticed by ' || $1
      WHERE r.status = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE ]] .. lock.is_lock_of("r.migration") .. [[)
      RETURNING run_id]], noticed_by)
end

--- Marks this run error through a new session (its own was lost), retrying the connection with
--- pauses of 0.25 s doubling to 4 s for ~35 s in all, so a restarting server is waited for.
--- Returns true, or false and the last error.
function Ledger:finish_anew(conninfo, application_name, counts, durations, message)
  local sys = require "mighost.sys"
  local last
  for attempt = 1, 12 do
    local ok, e = pcall(function()
      local c = db.connect(conninfo)
      c:exec("SELECT set_config('application_name', $1, false)", application_name:sub(1, 63))
      ledger.new(c, self.migration, self.run_id):finish("error", counts, durations, message)
      c:close()
    end)
    if ok then return true end
    last = e
    sys.sleep(math.min(4, 0.25 * 2 ^ (attempt - 1)))
  end
  return false, last
end

--- Sets the final state of this run.
function Ledger:finish(status, counts, durations, message)
  durations = durations and json.decode(json.encode(durations)) or {}
  for k, v in pairs(durations) do
    if type(v) == "number" then durations[k] = math.floor(v * 1000 + 0.5) / 1000 end
  end
  for k, v in pairs(type(durations.phases) == "table" and durations.phases or {}) do
    durations.phases[k] = math.floor(v * 1000 + 0.5) / 1000
  end
  self.conn:exec([[UPDATE mig_meta.runs SET status = $2, finished_at = clock_timestamp(), counts = $3::jsonb,
      durations = $4::jsonb, message = $5 WHERE run_id = $1]],
    self.run_id, status, json.encode(counts or {}), json.encode(durations or {}), message)
end

--- Records the verified file backup of this run (mig_backup), in its own statement.
function Ledger:record_backup(info)
  self.conn:exec("UPDATE mig_meta.runs SET backup = $2::jsonb WHERE run_id = $1", self.run_id, json.encode(info))
end

--- Replaces one phase's checkpoint (all its parts), or another key of this run's checkpoint.
function Ledger:set_phase_checkpoint(phase, cp)
  self.conn:exec([[UPDATE mig_meta.runs SET checkpoint = jsonb_set(COALESCE(checkpoint, '{}'), $2::text[], $3::jsonb)
      WHERE run_id = $1]], self.run_id, db.array({phase}), json.encode(cp))
end

--- Updates one part of a phase's checkpoint (workers do this concurrently: jsonb_set is evaluated
--- on the latest row version, so their updates never overwrite each other).
function Ledger:set_part_checkpoint(phase, index, part)
  self.conn:exec([[UPDATE mig_meta.runs SET checkpoint = jsonb_set(checkpoint, $2::text[], $3::jsonb)
      WHERE run_id = $1]], self.run_id, db.array({phase, "parts", tostring(index - 1)}), json.encode(part))
end

--- This run's checkpoint of one phase as stored now (decoded), or nil.
function Ledger:phase_checkpoint(phase)
  local cp = self.conn:scalar("SELECT checkpoint -> $2 FROM mig_meta.runs WHERE run_id = $1", self.run_id, phase)
  return type(cp) == "string" and json.decode(cp) or nil
end

--- Records a rollback: every run of the migration not rolled back yet gets rolled_back_at, and
--- loses its checkpoint (a later run must not resume from the rolled-back work). Returns the
--- runs marked, or nil when the database has no mig_meta.
function Ledger:rolled_back()
  if not ledger.exists(self.conn) then return nil end
  ledger.ensure(self.conn)
  return self.conn:query([[UPDATE mig_meta.runs SET rolled_back_at = clock_timestamp(), checkpoint = NULL
      WHERE migration = $1 AND rolled_back_at IS NULL AND status <> 'refused' RETURNING run_id]], self.migration)
end

--- Records a reject of set r.set (insert if absent). `row_sql`, when given, computes
--- to_jsonb(<source row>) in the same statement, with its parameters from $8 on (`row_params`);
--- `row_json` is the fallback. Returns 1 if inserted.
function Ledger:reject(r)
  local lookup = r.row_sql and ("(" .. r.row_sql .. ")") or "NULL::jsonb"
  local extra = r.row_params or {}
  return self.conn:exec([[INSERT INTO mig_meta.rejects (migration, source_table, source_key, reason, detail,
      row_data, run_id) VALUES ($1, $2, $3, $4, $5, COALESCE(]] .. lookup .. [[, $6::jsonb), $7)
      ON CONFLICT (migration, source_table, source_key) DO NOTHING]],
    self.migration, r.set, r.key, r.reason, r.detail, r.row_json or "{}", self.run_id, unpack(extra, 1, #extra))
end

--- Records a fixup of set f.set (insert if absent). Returns 1 if inserted.
function Ledger:fixup(f)
  return self.conn:exec([[INSERT INTO mig_meta.fixups (migration, source_table, source_key, field, rule,
      old_value, new_value, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (migration, source_table, source_key, field) DO NOTHING]],
    self.migration, f.set, f.key, f.field, f.rule, f.old, f.new, self.run_id)
end

--- Stores the check results of this run.
function Ledger:record_checks(results)
  for _, c in ipairs(results) do
    local passed = c.passed  -- json.null / nil: skipped
    if passed == json.null then passed = nil end
    self.conn:exec([[INSERT INTO mig_meta.checks (run_id, check_name, passed, expected, actual)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, check_name) DO UPDATE
        SET passed = EXCLUDED.passed, expected = EXCLUDED.expected, actual = EXCLUDED.actual]],
      self.run_id, c.name, passed, c.expected_text, c.actual_text)
  end
end

return ledger
