-- mighost.mig_lifecycle: `mighost run` — the lifecycle of the contract: lock, ledger row,
-- preconditions, file backup, setup (+ in-database backup), the phases (a PhaseRunner), finalize +
-- checks, report — in apply and dry-run mode. It drives one Run (mig_run), one PhaseRunner
-- (mig_phase) and fills one Outcome (mig_outcome).
local db = require "mighost.db"
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local connect = require "mighost.mig_connect"
local context = require "mighost.mig_context"
local lock = require "mighost.mig_lock"
local checks = require "mighost.mig_checks"
local report = require "mighost.mig_report"
local backups = require "mighost.mig_backup"
local phase = require "mighost.mig_phase"
local run_mod = require "mighost.mig_run"
local outcome_mod = require "mighost.mig_outcome"

local M = {}

--- Fields: run (the Run), runner (its PhaseRunner), out (its Outcome).
local Lifecycle = {}
Lifecycle.__index = Lifecycle

function Lifecycle:refuse(detail, write_nothing)
  local run, out = self.run, self.out
  out.status, out.message = "refused", "refused: " .. detail
  io.stderr:write(string.format("mighost: %s: refused: %s\n", run.def.name, detail))
  if run.dry_run or write_nothing then return end
  if run:run_id() then
    run.ledger:finish("refused", {}, {total = out:elapsed()}, detail)
  elseif require("mighost.mig_ledger").exists(run.conn) then  -- refused before our row existed (lock): record the attempt
    pcall(function()
      run:start{status = "refused", options = run:options_json(), sha256 = out.sha, version = sys.version}
      run.ledger:finish("refused", {}, {total = out:elapsed()}, detail)
    end)
  end
end

local ROLLBACK = setmetatable({}, {__tostring = function() return "(rollback)" end})

--- Runs fn in a transaction (a savepoint when nested) that is always rolled back.
function Lifecycle:with_rollback(fn)
  local run = self.run
  local ok, err = xpcall(function()
    run.conn:tx(function()
      fn()
      error(ROLLBACK, 0)
    end)
  end, function(e)
    if e ~= ROLLBACK then run:keep_traceback(debug.traceback("", 2)) end
    return e
  end)
  if not ok and err ~= ROLLBACK then error(err, 0) end
end

--- One precondition, in a savepoint: recorded for the report; false when it refuses the run.
function Lifecycle:one_precondition(p)
  local run, out = self.run, self.out
  local ok, passed, detail = pcall(function()
    return run.conn:tx(function()
      if p.check then return p.check(run.ctx) end
      local sql = type(p.sql) == "function" and p.sql(run.ctx) or p.sql
      local v = run.conn:scalar(sql)
      local want = p.expected == nil and true or p.expected
      local got, exp = context.value_text(v) or "NULL", context.value_text(want)
      return got == exp, p.detail or ("expected " .. exp .. ", got " .. got)
    end)
  end)
  if not ok then passed, detail = false, "error: " .. tostring(passed) end
  passed = passed and true or false
  out:add_precondition(p.name, passed, detail ~= nil and tostring(detail) or nil, p.warn_only)
  if passed then return true end
  if p.warn_only then
    log.warn("%sprecondition %s: %s", run:prefix(), p.name, tostring(detail or "not met"))
    return true
  end
  out.refusal = out.refusal or string.format("precondition %s failed%s", p.name, detail and (": " .. tostring(detail)) or "")
  return false
end

--- Runs the preconditions (`early`: only those marked early = true, checked right after the lock
--- and before mig_meta is read, so that their refusal writes nothing; else the others) in a
--- transaction that is rolled back. Returns true when none refuses.
function Lifecycle:preconditions(early)
  local ok_all = true
  self:with_rollback(function()
    for _, p in ipairs(self.run.def.preconditions) do
      if (p.early == true) == (early == true) then ok_all = self:one_precondition(p) and ok_all end
    end
  end)
  return ok_all
end

--- Counts and checks of a partial or stopped run (no finalize), recorded in one transaction.
function Lifecycle:checks_only()
  local run, out = self.run, self.out
  local t0 = sys.now()
  run.conn:tx(function()
    checks.analyze(run)
    out.counts = self.runner:counts()
    out:set_checks(checks.run(run, {finalized = false}, out.counts))
    if out.checks_failed > 0 then out.status = "validation_failed" end
    out.durations.checks = sys.now() - t0
    out:record(run.ledger, run.def)
  end)
end

local VALIDATION = setmetatable({}, {__tostring = function() return "(validation failed)" end})

--- The checks of the finalize transaction: with a switch (alter_ddl), its ACCESS EXCLUSIVE locks
--- are held only for the checks that need finalize (the report's lists are read before it).
function Lifecycle:finalize_checks()
  local run, out = self.run, self.out
  if not run.def.switch then
    out:set_checks(checks.run(run, {finalized = true}, out.counts))
    return
  end
  local later = function(c) return c.needs == "finalize" end
  local first, failed = checks.run(run, {finalized = true, filter = function(c) return not later(c) end}, out.counts)
  if failed == 0 then
    out:take_lists(run.ledger, run.def)
    run.def.switch(run.ctx)
  end
  local rest, failed2 = checks.run(run, {finalized = true, filter = later}, out.counts)
  for _, c in ipairs(rest) do first[#first + 1] = c end
  out:set_checks(first, failed + failed2)
end

--- Finalize + checks of a complete run, in one transaction that a failed check rolls back.
function Lifecycle:finalize()
  local run, out, runner = self.run, self.out, self.runner
  local t0 = sys.now()
  if run.def.online then   -- lock-safe DDL on existing tables: its own transactions, before finalize
    run.def.online(run.ctx, function(what, fn) run:with_retry(what, fn) end)
    out.durations.online = sys.now() - t0
    t0 = sys.now()
  end
  -- finalize tallies like a batch (ctx:written), so rows it updates count as written, once it commits
  local fin, added = require("mighost.mig_batch").tallies(), false
  local ok, err = pcall(run.conn.tx, run.conn, function()
    run.ctx:_begin_batch(fin)
    local ok_fin, err_fin = pcall(function() if run.def.finalize then run.def.finalize(run.ctx) end end)
    run.ctx:_end_batch()
    if not ok_fin then error(err_fin, 0) end
    runner:add_written(fin.written)
    added = true
    out.durations.finalize = sys.now() - t0
    local t1 = sys.now()
    checks.analyze(run)
    out.counts = runner:counts()
    self:finalize_checks()
    out.durations.checks = sys.now() - t1
    if out.checks_failed > 0 then error(VALIDATION, 0) end
    out.status = "ok"
    out:record(run.ledger, run.def)
  end)
  if ok then return end
  if added then runner:add_written(fin.written, -1) end
  if err ~= VALIDATION then error(err, 0) end
  out.status, out.lists = "validation_failed", false   -- lists read in the rolled-back transaction
  out.message = string.format("%d check(s) failed: the finalize step was rolled back", out.checks_failed)
  log.error("%s%s", run:prefix(), out.message)
  run.conn:tx(function()
    out.counts = runner:counts()
    out:record(run.ledger, run.def)
  end)
end

--- The phases in order; returns why they stopped (nil: they ran to their end).
function Lifecycle:phases()
  local run, out = self.run, self.out
  for _, ph in ipairs(run.def.phases) do
    local status, reason, seconds = self.runner:run_phase(ph)
    out.durations.phases[ph.name] = seconds
    if status == "stopped" then return reason end
  end
  -- the boundary before finalize (which may hold destructive steps) is a batch boundary too
  return run:stop_reason()
end

--- Steps 2-5 of the lifecycle, after the lock (in dry-run inside one rolled-back transaction).
function Lifecycle:body()
  local run, out = self.run, self.out
  local def, conn = run.def, run.conn
  run.ledger:ensure()
  run:start{options = run:options_json(), sha256 = out.sha, version = sys.version,
            checkpoint = run.ledger.prev and run.ledger.prev.checkpoint}
  for _, d in ipairs(run.ledger:close_dead_runs()) do
    log.warn("run #%s (started %s) never finished (killed?): marked error; this run continues its work",
      tostring(d.run_id), tostring(d.started_at))
  end
  if out.refusal then return self:refuse(out.refusal) end
  if not self:preconditions() then return self:refuse(out.refusal) end
  -- before any change: a failed directory backup refuses the run, a failed JSON backup is an error
  local backed_up, detail, info = (def.backup_json and backups.json or backups.file)(run)
  out:set_backup(info)
  if detail then out:add_precondition("file_backup", backed_up, detail) end
  if not backed_up then return self:refuse(detail) end
  if def.prepare then def.prepare(run.ctx) end
  local t0 = sys.now()
  conn:tx(function()
    connect.ensure_schema(run)
    for _, d in ipairs(backups.copy(run)) do   -- the snapshot an earlier run took is read as it is
      log.warn("%s%s", run:prefix(), d)
      out:add_precondition("snapshot_current", false, d, true)
    end
    if def.setup then def.setup(run.ctx) end
  end)
  out.durations.setup = sys.now() - t0
  run:resolve_sets()
  local stopped = self:phases()
  out:set_backup(backups.finish(run))   -- a backup copied alongside the phases, before finalize
  local complete = not stopped
  if complete and run.values.limit and def.main_phase then
    complete = not self.runner:has_pending(def.main_phase)
  end
  if stopped then
    out.status = "stopped"
    out.message = "stopped at a batch boundary: " .. stopped
  elseif not complete then
    out.status = "partial"
  end
  if complete then self:finalize() else self:checks_only() end
  if stopped then
    local hint = run.stop_file and sys.exists(run.stop_file) and (" (remove " .. run.stop_file .. " first)") or ""
    run.ctx:say("Stopped at a batch boundary (%s); every finished batch is committed.", stopped)
    run.ctx:say("%s%s", run:resume_hint(), script.throwaway_db and "" or hint)
  end
end

--- A warning (or, --strict, a refusal) when the script changed since the last recorded run.
function Lifecycle:script_changed()
  local run, out = self.run, self.out
  local prev = run.ledger:load_previous()
  if not (prev and prev.script_sha256 and prev.script_sha256 ~= db.NULL and prev.script_sha256 ~= out.sha) then return end
  local msg = string.format("%s changed since run #%s (%s, %s): sha256 %s… now %s…", script.path,
    tostring(prev.run_id), tostring(prev.started_at), prev.status, prev.script_sha256:sub(1, 12), out.sha:sub(1, 12))
  if run.values.strict then
    out:add_precondition("script_unchanged", false, msg)
    out.refusal = msg .. " (--strict)"
  else
    log.warn("%s%s", run:prefix(), msg .. "; --strict would refuse")
    out:add_precondition("script_unchanged", false, msg, true)
  end
end

--- The lifecycle from the lock on (inside the source snapshots, when declared).
function Lifecycle:locked()
  local run, out = self.run, self.out
  local name = run.def.name
  if not lock.try(run.conn, name) then
    local detail = lock.describe(run.conn, name)
    out:add_precondition("lock", false, detail)
    return self:refuse(detail)
  end
  local pooled = lock.not_owned(run.conn, name, connect.conninfos(run.def, run.values, script.db)[run.def.ledger])
  if pooled then
    lock.release(run.conn, name)
    out:add_precondition("session", false, pooled)
    return self:refuse(pooled, true)
  end
  out:add_precondition("lock", true, "advisory lock mighost:" .. name .. " taken")
  run.conn:track_locks()   -- the lock report: every table that exists before the run changes anything
  -- before mig_meta is read: a role that may not read it is refused by `privileges`, not an error
  if not self:preconditions(true) then return self:refuse(out.refusal, true) end
  self:script_changed()
  if run.dry_run then self:with_rollback(function() self:body() end) else self:body() end
end

function Lifecycle:execute()
  self.run:connect()
  return self.run:with_snapshots(function() return self:locked() end)
end

--- The run's session is gone (its backend terminated, the server restarted): the open batch died
--- with it, and so did the lock. Its ledger row is marked error through a new session; failing
--- that, `mighost status` or the next run marks it.
function Lifecycle:record_lost()
  local run, out = self.run, self.out
  local ok, e = run.ledger:finish_anew(connect.conninfos(run.def, run.values, script.db)[run.def.ledger],
    string.format("mighost:%s run pid %d (recording)", run.def.name, sys.getpid()),
    report.counts_json(out.counts, run.def.order), {total = out:elapsed()}, out.message .. " (recorded through a new session)")
  if ok then
    log.warn("the run's session was lost: run #%s marked error through a new session", tostring(run:run_id()))
  else
    log.warn("the run's session was lost and no new session could record run #%s (%s): `mighost status` or the"
      .. " next run marks it error", tostring(run:run_id()), log.mask(tostring(e)))
  end
end

function Lifecycle:on_error(err)
  local run, out = self.run, self.out
  if run.file_backup then pcall(backups.abandon, run) end
  out.status = "error"
  out.message = log.mask(tostring(err))
  if sys.interrupted() >= 2 then
    -- The host raised the abort at the next Lua instruction, wherever that was (often inside an
    -- error handler, which Lua reports as "error in error handling"): say what really happened.
    out.message = "aborted by a second interrupt (SIGINT/SIGTERM); the open transaction was rolled back"
    run:keep_traceback("", true)
  end
  io.stderr:write("mighost: error: ", out.message, "\n")
  -- a connection that failed is no error of the script or the framework: its one line says it all
  if run.conn and run.traceback and run.traceback ~= "" then io.stderr:write((run.traceback:gsub("^\n", "")), "\n") end
  if run.conn and run:run_id() and not run.dry_run and not run.conn:is_open() then
    self:record_lost()
  elseif run.conn and run:run_id() and not run.dry_run then
    local ok, e = pcall(function()
      run.conn:tx(function()
        local okc, counts = pcall(self.runner.counts, self.runner)
        out.counts = okc and counts or out.counts
        out.durations.total = out:elapsed()
        run.ledger:finish("error", report.counts_json(out.counts, run.def.order), out.durations, out.message)
      end)
    end)
    if not ok then log.warn("could not record the error in mig_meta.runs: %s", tostring(e)) end
    pcall(function() out.rejects, out.fixups = require("mighost.mig_sample").take(run.conn, run.def.name) end)
  end
  if run.conn and run:run_id() then
    io.stdout:write(run:prefix(), "The open batch was rolled back. ", run:resume_hint(), "\n")
  end
end

--- `mighost run SCRIPT [options]`: the whole lifecycle. Returns the exit code.
function M.run(def, values)
  sys.defer_interrupts(true)  -- the first SIGINT/SIGTERM stops at the next batch boundary
  local run = run_mod.new(def, values, {role = "run", dry_run = values.dry_run})
  local self = setmetatable({run = run, runner = phase.runner(run), out = outcome_mod.new(def, values)}, Lifecycle)
  local ok, err = xpcall(self.execute, run:handler(), self)
  if not ok then self:on_error(err) end
  return self.out:conclude(run)
end

return M
