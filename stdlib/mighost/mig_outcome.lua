-- mighost.mig_outcome: the Outcome of a `mighost run` — what it tells at the end: its status and
-- message, the preconditions, counts and checks, the durations, the backup it took, the rejects
-- and fixups, the locks. The lifecycle (mig_lifecycle) fills it; it records itself in the ledger
-- and becomes the summary, the report file and the RESULT line.
local script = require "mighost.script"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local report = require "mighost.mig_report"
local sample = require "mighost.mig_sample"

local outcome = {}

outcome.EXIT = {ok = 0, partial = 0, stopped = 0, error = 1, refused = 2, validation_failed = 3}

--- Fields (written only by the lifecycle through these methods, or by it directly where said):
---   status ("running" … "ok"), message, refusal (why the run is to be refused, once known)
---   t0 (sys.now() at the start), started_at (UTC text), durations {total, setup, backup,
---   phases = {name = s}, online, finalize, checks}
---   preconditions, checks (JSON arrays), checks_failed, counts (set -> counts)
---   backup (the file / JSON backup taken), rejects, fixups (mig_sample: counts and a sample;
---   lists: taken in the current transaction, cleared by the lifecycle when that transaction rolls
---   back), locks
---   report_path (report_unique: the default name, suffixed when taken), sha (the script's sha256)
local Outcome = {}
Outcome.__index = Outcome

function outcome.new(def, values)
  local self = setmetatable({status = "running", t0 = sys.now(), started_at = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    durations = {phases = {}}, preconditions = json.array(), checks = json.array(), checks_failed = 0,
    counts = {}}, Outcome)
  self.report_path = values.report or report.default_path(def.name)
  self.report_unique = values.report == nil   -- the default name gets a suffix when taken
  self.sha = sys.sha256_file(script.path) or ""
  return self
end

function Outcome:add_precondition(name, passed, detail, warning)
  self.preconditions[#self.preconditions + 1] = json.object({"name", "passed", "detail", "warning"},
    {name = name, passed = passed, detail = detail, warning = warning or nil})
end

--- The checks' results (mig_checks.run) and how many failed.
function Outcome:set_checks(results, failed)
  self.checks, self.checks_failed = results, failed
end

function Outcome:set_backup(info)
  if not info then return end
  self.backup = info
  self.durations.backup = info.seconds
end

function Outcome:elapsed() return sys.now() - self.t0 end

--- Reads the report's rejects and fixups (counts and a sample) from mig_meta, in the caller's
--- transaction (`lists`: already read there, e.g. before a switch takes its locks).
function Outcome:take_lists(ledger, def)
  self.rejects, self.fixups = sample.take(ledger.conn, def.name)
  self.lists = true
end

--- Records the end of the run in the ledger (checks, counts, status), in the caller's transaction,
--- and reads the report's lists there unless they already are.
function Outcome:record(ledger, def)
  if not self.lists then self:take_lists(ledger, def) end
  self.durations.total = self:elapsed()
  ledger:record_checks(self.checks)
  ledger:finish(self.status, report.counts_json(self.counts, def.order), self.durations, self.message)
end

local function round_durations(t)
  for k, v in pairs(t) do
    if type(v) == "number" then t[k] = math.floor(v * 1000 + 0.5) / 1000
    elseif type(v) == "table" then round_durations(v) end
  end
  return t
end

--- Prints the summary, writes the report file and the RESULT line; returns the exit code.
--- run: the mig_run Run (its ledger connection gives the lock report).
function Outcome:conclude(run)
  local def = run.def
  self.durations.total = self.durations.total or self:elapsed()
  if run.conn then
    local ok, locks = pcall(run.conn.lock_report, run.conn)
    self.locks = ok and report.locks_json(locks) or nil
  end
  round_durations(self.durations)
  local r = {migration = def.name, mode = run.dry_run and "dry-run" or "apply", status = self.status,
             run_id = (not run.dry_run) and run:run_id() or nil,
             counts = self.counts, counts_json = report.counts_json(self.counts, def.order), order = def.order,
             checks_failed = self.checks_failed, preconditions = self.preconditions, rejects = self.rejects,
             fixups = self.fixups, checks = self.checks, message = self.message, durations = self.durations,
             options = run:options_json(), script = script.path, script_sha256 = self.sha,
             host_version = sys.version, started_at = self.started_at, locks = self.locks,
             finished_at = os.date("!%Y-%m-%dT%H:%M:%SZ"), backup = self.backup,
             extra = run.ctx and run.ctx:_report_fields()}
  r.report_path = report.write_file(self.report_path, r, self.report_unique)
  report.summary(r)
  report.result_line(r)
  return outcome.EXIT[self.status] or 1
end

return outcome
