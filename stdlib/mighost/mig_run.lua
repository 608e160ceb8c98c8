-- mighost.mig_run: the run lifecycle of ../shared/spec/README.md — lock, ledger row, preconditions,
-- file backup, setup (+ in-database backup), batched phases, finalize + checks, report — in apply
-- and dry-run mode, and the entry of a worker thread.
local db = require "mighost.db"
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local context = require "mighost.mig_context"
local ledger = require "mighost.mig_ledger"
local lock = require "mighost.mig_lock"
local phase = require "mighost.mig_phase"
local progress = require "mighost.mig_progress"
local checks = require "mighost.mig_checks"
local report = require "mighost.mig_report"
local workers = require "mighost.mig_workers"
local steps = require "mighost.mig_steps"
local backups = require "mighost.mig_backup"

local M = {}

local EXIT = {ok = 0, partial = 0, stopped = 0, error = 1, refused = 2, validation_failed = 3}

local function new_run(def, values)
  local R = {def = def, values = values, dry_run = values.dry_run, mode = values.dry_run and "dry-run" or "apply",
             t0 = sys.now(), started_at = os.date("!%Y-%m-%dT%H:%M:%SZ"), durations = {phases = {}},
             written = {}, done = {}, rejects_n = 0, fixups_n = 0, preconditions = json.array(),
             checks = json.array(), checks_failed = 0, counts = {}, status = "running",
             batch_size = values.batch_size, stop_file = values.stop_file or (def.name .. ".stop")}
  R.report_path = values.report or string.format("reports/%s-%s.json", def.name, os.date("!%Y%m%dT%H%M%SZ"))
  R.sha = sys.sha256_file(script.path) or ""
  return R
end

--- The effective options as recorded in mig_meta.runs.options (conninfos masked).
local function options_json(R)
  local keys, out = {}, {}
  local conn_opts = {}
  for _, c in ipairs(R.def.connections) do conn_opts[c.option] = true end
  for _, s in ipairs(R.def.option_list) do
    local v = R.values[s.name]
    if not s.hidden and not s.disabled and v ~= nil then
      keys[#keys + 1] = s.name
      out[s.name] = conn_opts[s.name] and log.mask(v) or v
    end
  end
  return json.object(keys, out)
end

local function add_precondition(R, name, passed, detail, warning)
  R.preconditions[#R.preconditions + 1] = json.object({"name", "passed", "detail", "warning"},
    {name = name, passed = passed, detail = detail, warning = warning or nil})
end

local function refuse(R, detail, write_nothing)
  R.status, R.message = "refused", "refused: " .. detail
  io.stderr:write(string.format("mighost: %s: refused: %s\n", R.def.name, detail))
  if R.dry_run or write_nothing then return end
  if R.run_id then
    ledger.finish_run(R.conn, R.run_id, "refused", {}, {total = sys.now() - R.t0}, detail)
  elseif ledger.exists(R.conn) then  -- refused before our row existed (lock): record the attempt
    pcall(function()
      local id = ledger.start_run(R.conn, R.def.name, {status = "refused", options = options_json(R),
        sha256 = R.sha, version = sys.version})
      ledger.finish_run(R.conn, id, "refused", {}, {total = sys.now() - R.t0}, detail)
      R.run_id = id
    end)
  end
end

local ROLLBACK = setmetatable({}, {__tostring = function() return "(rollback)" end})

--- Runs fn in a transaction (a savepoint when nested) that is always rolled back.
local function with_rollback(R, fn)
  local ok, err = xpcall(function()
    R.conn:tx(function()
      fn()
      error(ROLLBACK, 0)
    end)
  end, function(e)
    if e ~= ROLLBACK then R.traceback = R.traceback or debug.traceback("", 2) end
    return e
  end)
  if not ok and err ~= ROLLBACK then error(err, 0) end
end

--- One precondition, in a savepoint: recorded for the report; false when it refuses the run.
local function one_precondition(R, p)
  local ok, passed, detail = pcall(function()
    return R.conn:tx(function()
      if p.check then return p.check(R.ctx) end
      local sql = type(p.sql) == "function" and p.sql(R.ctx) or p.sql
      local v = R.conn:scalar(sql)
      local want = p.expected == nil and true or p.expected
      local got, exp = context.value_text(v) or "NULL", context.value_text(want)
      return got == exp, p.detail or ("expected " .. exp .. ", got " .. got)
    end)
  end)
  if not ok then passed, detail = false, "error: " .. tostring(passed) end
  passed = passed and true or false
  add_precondition(R, p.name, passed, detail ~= nil and tostring(detail) or nil, p.warn_only)
  if passed then return true end
  if p.warn_only then
    log.warn("%sprecondition %s: %s", R.ctx:prefix(), p.name, tostring(detail or "not met"))
    return true
  end
  R.refusal = R.refusal or string.format("precondition %s failed%s", p.name, detail and (": " .. tostring(detail)) or "")
  return false
end

--- Runs the preconditions (`early`: only those marked early = true, checked right after the lock
--- and before mig_meta is touched, so that their refusal writes nothing; else the others) in a
--- transaction that is rolled back. Returns true when none refuses.
local function run_preconditions(R, early)
  local ok_all = true
  with_rollback(R, function()
    for _, p in ipairs(R.def.preconditions) do
      if (p.early == true) == (early == true) then ok_all = one_precondition(R, p) and ok_all end
    end
  end)
  return ok_all
end

local function compute_counts(R) return phase.count_all(R, R.written, R.done) end

--- Records the end of the run (apply mode): checks, counts, status. In the caller's transaction.
local function record(R)
  R.rejects, R.fixups = require("mighost.mig_spool").take(R.conn, R.def.name)
  R.durations.total = sys.now() - R.t0
  ledger.record_checks(R.conn, R.run_id, R.checks)
  ledger.finish_run(R.conn, R.run_id, R.status, report.counts_json(R.counts, R.def.order), R.durations, R.message)
end

local VALIDATION = setmetatable({}, {__tostring = function() return "(validation failed)" end})

--- Finalize + checks (complete runs), or checks only (partial / stopped runs).
local function end_stage(R, complete)
  local t0 = sys.now()
  if not complete then
    R.conn:tx(function()
      checks.analyze(R)
      R.counts = compute_counts(R)
      R.checks, R.checks_failed = checks.run(R, {finalized = false}, R.counts)
      if R.checks_failed > 0 then R.status = "validation_failed" end
      R.durations.checks = sys.now() - t0
      record(R)
    end)
    return
  end
  if R.def.online then   -- lock-safe DDL on existing tables: its own transactions, before finalize
    R.def.online(R.ctx, function(what, fn) context.with_retry(R, what, fn) end)
    R.durations.online = sys.now() - t0
    t0 = sys.now()
  end
  local fin   -- rows finalize wrote for a set (ctx:written), counted only if it commits
  local function add_written(sign)
    for name, n in pairs(fin and fin.written or {}) do R.written[name] = (R.written[name] or 0) + sign * n end
  end
  local ok, err = pcall(R.conn.tx, R.conn, function()
    -- finalize tallies like a batch (ctx:written), so rows it updates count as written
    R.ctx.batch = {tallies = {rejects = 0, fixups = 0, written = {}}}
    local ok_fin, err_fin = pcall(function() if R.def.finalize then R.def.finalize(R.ctx) end end)
    fin, R.ctx.batch = R.ctx.batch.tallies, nil
    if not ok_fin then error(err_fin, 0) end
    add_written(1)
    R.durations.finalize = sys.now() - t0
    local t1 = sys.now()
    checks.analyze(R)
    R.counts = compute_counts(R)
    if R.def.switch then
      -- the switch's ACCESS EXCLUSIVE locks are held only for the checks that need finalize
      local later = function(c) return c.needs == "finalize" end
      local first, failed = checks.run(R, {finalized = true, filter = function(c) return not later(c) end}, R.counts)
      if failed == 0 then R.def.switch(R.ctx) end
      local rest, failed2 = checks.run(R, {finalized = true, filter = later}, R.counts)
      for _, c in ipairs(rest) do first[#first + 1] = c end
      R.checks, R.checks_failed = first, failed + failed2
    else
      R.checks, R.checks_failed = checks.run(R, {finalized = true}, R.counts)
    end
    R.durations.checks = sys.now() - t1
    if R.checks_failed > 0 then error(VALIDATION, 0) end
    R.status = "ok"
    record(R)
  end)
  if ok then return end
  add_written(-1)
  if err ~= VALIDATION then error(err, 0) end
  R.status = "validation_failed"
  R.message = string.format("%d check(s) failed: the finalize step was rolled back", R.checks_failed)
  log.error("%s%s", R.ctx:prefix(), R.message)
  R.conn:tx(function()
    R.counts = compute_counts(R)
    record(R)
  end)
end

local function quote_arg(a)
  if a:match("^[%w%-_./=:,@]+$") then return a end
  return "'" .. a:gsub("'", "'\\''") .. "'"
end

--- The command line that resumes this run (passwords masked).
local function resume_command(R)
  local parts = {"mighost", "run", quote_arg(script.path)}
  if script.db and script.db ~= "" then parts[#parts + 1] = "--db " .. quote_arg(log.mask(script.db)) end
  for _, a in ipairs(script.args or {}) do parts[#parts + 1] = quote_arg(log.mask(a)) end
  return table.concat(parts, " ")
end

--- Steps 2-5 of the lifecycle, after the lock (in dry-run inside one rolled-back transaction).
local function body(R)
  local def, conn = R.def, R.conn
  ledger.ensure(conn)
  local prev = R.prev
  R.run_id = ledger.start_run(conn, def.name, {options = options_json(R), sha256 = R.sha, version = sys.version,
    checkpoint = prev and prev.checkpoint})
  R.ctx.run_id = R.run_id
  for _, d in ipairs(ledger.close_dead_runs(conn, def.name, R.run_id)) do
    log.warn("run #%s (started %s) never finished (killed?): marked error; this run continues its work",
      tostring(d.run_id), tostring(d.started_at))
  end
  if R.refusal then return refuse(R, R.refusal) end
  if not run_preconditions(R) then return refuse(R, R.refusal) end
  -- before any change: a failed directory backup refuses the run, a failed JSON backup is an error
  local backed_up, detail = (def.backup_json and backups.json or backups.file)(R)
  if detail then add_precondition(R, "file_backup", backed_up, detail) end
  if not backed_up then return refuse(R, detail) end
  if def.prepare then def.prepare(R.ctx) end
  local t0 = sys.now()
  conn:tx(function()
    context.ensure_schema(R)
    backups.copy(R)
    if def.setup then def.setup(R.ctx) end
  end)
  R.durations.setup = sys.now() - t0
  phase.resolve_all(R)
  local stopped
  for _, ph in ipairs(def.phases) do
    local status, reason = steps.run_phase(R, ph)
    if status == "stopped" then stopped = reason break end
  end
  -- the boundary before finalize (which may hold destructive steps) is a batch boundary too
  stopped = stopped or context.stop_reason(R)
  local complete = not stopped
  if complete and R.values.limit and def.main_phase then
    complete = not steps.has_pending(R, def.main_phase)
  end
  if stopped then
    R.status = "stopped"
    R.message = "stopped at a batch boundary: " .. stopped
  elseif not complete then
    R.status = "partial"
  end
  end_stage(R, complete)
  if stopped then
    local hint = R.stop_file and sys.exists(R.stop_file) and (" (remove " .. R.stop_file .. " first)") or ""
    R.ctx:say("Stopped at a batch boundary (%s); every finished batch is committed.", stopped)
    R.ctx:say("Resume with: %s%s", resume_command(R), hint)
  end
end

local locked_run

local function execute(R)
  local def = R.def
  R.conns = context.connect(def, context.conninfos(def, R.values, script.db), R.values, "run")
  R.conn = R.conns[def.ledger]
  R.ctx = context.new_ctx(R)
  return context.with_snapshots(def, R.conns, function() return locked_run(R) end)
end

--- The lifecycle from the lock on (inside the source snapshots, when declared).
function locked_run(R)
  local def = R.def
  if not lock.try(R.conn, def.name) then
    local detail = lock.describe(R.conn, def.name)
    add_precondition(R, "lock", false, detail)
    return refuse(R, detail)
  end
  add_precondition(R, "lock", true, "advisory lock mighost:" .. def.name .. " taken")
  R.conn:track_locks()   -- the lock report: every table that exists before the run changes anything
  local prev = ledger.previous_run(R.conn, def.name)
  R.prev = prev
  if prev and prev.script_sha256 and prev.script_sha256 ~= db.NULL and prev.script_sha256 ~= R.sha then
    local msg = string.format("%s changed since run #%s (%s, %s): sha256 %s… now %s…", script.path,
      tostring(prev.run_id), tostring(prev.started_at), prev.status, prev.script_sha256:sub(1, 12), R.sha:sub(1, 12))
    if R.values.strict then
      add_precondition(R, "script_unchanged", false, msg)
      R.refusal = msg .. " (--strict)"
    else
      log.warn("%s%s", R.ctx:prefix(), msg .. "; --strict would refuse")
      add_precondition(R, "script_unchanged", false, msg, true)
    end
  end
  if not R.refusal and not run_preconditions(R, true) then return refuse(R, R.refusal, true) end
  if R.dry_run then with_rollback(R, function() body(R) end) else body(R) end
end

local function on_error(R, err)
  R.status = "error"
  R.message = log.mask(tostring(err))
  if sys.interrupted() >= 2 then
    -- The host raised the abort at the next Lua instruction, wherever that was (often inside an
    -- error handler, which Lua reports as "error in error handling"): say what really happened.
    R.message = "aborted by a second interrupt (SIGINT/SIGTERM); the open transaction was rolled back"
    R.traceback = nil
  end
  io.stderr:write("mighost: error: ", R.message, "\n")
  if R.traceback and R.traceback ~= "" then io.stderr:write((R.traceback:gsub("^\n", "")), "\n") end
  if R.conn and R.run_id and not R.dry_run then
    local ok, e = pcall(function()
      R.conn:tx(function()
        local okc, counts = pcall(compute_counts, R)
        R.counts = okc and counts or R.counts
        R.durations.total = sys.now() - R.t0
        ledger.finish_run(R.conn, R.run_id, "error", report.counts_json(R.counts, R.def.order), R.durations, R.message)
      end)
    end)
    if not ok then log.warn("could not record the error in mig_meta.runs: %s", tostring(e)) end
    pcall(function() R.rejects, R.fixups = require("mighost.mig_spool").take(R.conn, R.def.name) end)
  end
  if R.conn and R.run_id then
    io.stdout:write(R.ctx:prefix(), "The open batch was rolled back. Resume with: ", resume_command(R), "\n")
  end
end

--- Prints the summary, writes the report file and the RESULT line; returns the exit code.
local function round_durations(t)
  for k, v in pairs(t) do
    if type(v) == "number" then t[k] = math.floor(v * 1000 + 0.5) / 1000
    elseif type(v) == "table" then round_durations(v) end
  end
  return t
end

local function conclude(R)
  R.durations.total = R.durations.total or (sys.now() - R.t0)
  if R.conn then
    local ok, locks = pcall(R.conn.lock_report, R.conn)
    R.locks = ok and report.locks_json(locks) or nil
  end
  round_durations(R.durations)
  local r = {migration = R.def.name, mode = R.mode, status = R.status, run_id = (not R.dry_run) and R.run_id or nil,
             counts = R.counts, counts_json = report.counts_json(R.counts, R.def.order), order = R.def.order,
             checks_failed = R.checks_failed, preconditions = R.preconditions, rejects = R.rejects, fixups = R.fixups,
             checks = R.checks, message = R.message, durations = R.durations, options = options_json(R),
             script = script.path, script_sha256 = R.sha, host_version = sys.version, started_at = R.started_at,
             locks = R.locks,
             finished_at = os.date("!%Y-%m-%dT%H:%M:%SZ"), backup = R.file_backup, extra = R.ctx and R.ctx._report}
  r.report_path = report.write_file(R.report_path, r)
  report.summary(r)
  for _, sp in ipairs({R.rejects or false, R.fixups or false}) do
    if require("mighost.mig_spool").is(sp) then sp:remove() end
  end
  report.result_line(r)
  return EXIT[R.status] or 1
end

--- `mighost run SCRIPT [options]`: the whole lifecycle. Returns the exit code.
function M.run(def, values)
  sys.defer_interrupts(true)  -- the first SIGINT/SIGTERM stops at the next batch boundary
  local R = new_run(def, values)
  local ok, err = xpcall(execute, function(e)
    R.traceback = R.traceback or debug.traceback("", 2)
    return e
  end, R)
  if not ok then on_error(R, err) end
  return conclude(R)
end

--- The main chunk of a worker thread: same options and connections, then its part of a phase.
function M.worker(def, values, job_text)
  local worker = require "mighost.worker"
  local job = json.decode(job_text)
  local index = worker.index()
  local R = {def = def, values = values, dry_run = false, run_id = job.run_id, shared = job.shared, worker = index,
             batch_size = values.batch_size, stop_file = values.stop_file or (def.name .. ".stop"),
             external_stop = worker.stopping}
  R.conns = context.connect(def, context.conninfos(def, values, script.db), values, "worker " .. index)
  R.ctx = context.new_ctx(R)
  -- An error comes back as data with the traceback of where it was raised (the host's own
  -- traceback would point at the re-raise after the batch's rollback).
  local ok, result = xpcall(workers.worker_main, function(e)
    R.traceback = R.traceback or debug.traceback("", 2)
    return e
  end, R, job)
  for _, c in pairs(R.conns) do pcall(c.close, c) end
  if not ok then
    return json.encode({failed = true, error = log.mask(tostring(result)), traceback = R.traceback})
  end
  return result
end

return M
