-- mighost.mig_phase: the PhaseRunner — runs a run's phases one after another: a keyset phase's
-- parts (fresh key ranges, or the previous run's checkpoint when the set has no pending
-- predicate) batch by batch, here or in worker threads; a step phase's steps until nothing is
-- left; a phase's `after` work. It owns what the phases add up: rows handled per phase, rows
-- written per set, rejects and fixups, the --limit budget and the progress of the running phase.
-- A worker thread runs its parts with a PhaseRunner of its own and hands its tallies back.
local log = require "mighost.log"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local progress = require "mighost.mig_progress"
local batch = require "mighost.mig_batch"
local throttle = require "mighost.mig_throttle"
local keys = require "mighost.mig_keys"

local phase = {}

--- Fields (written only by its methods):
---   run        the mig_run Run whose phases it runs
---   done       phase name -> rows its batches handled in this run
---   written    set name -> rows written for it in this run (batches, `after`, finalize)
---   rejects, fixups   how many the batches recorded
---   budget     {left = n} while the main phase runs under --limit, else nil
---   progress   the running phase's mig_progress; base: rows resolved before this run of it
---   on_progress  function(done) told after each batch (a worker: its count for the main state),
---              nil in the main state (which draws the progress itself)
---   rate_share how many runners share --max-rate (a worker's pool size; 1 in the main state)
---   throttle   mig_throttle's state: when the next batch may start, the WAL positions it saw
local PhaseRunner = {}
PhaseRunner.__index = PhaseRunner

function phase.runner(run, on_progress, rate_share)
  return setmetatable({run = run, done = {}, written = {}, rejects = 0, fixups = 0, base = 0,
                       on_progress = on_progress, rate_share = rate_share or 1}, PhaseRunner)
end

--- Adds rows written per set (sign -1 takes back what a rolled-back finalize had added).
function PhaseRunner:add_written(by_set, sign)
  for name, n in pairs(by_set or {}) do self.written[name] = (self.written[name] or 0) + (sign or 1) * n end
end

--- Takes the tallies of a committed batch: rows handled, written, rejects and fixups.
function PhaseRunner:add_batch(ph, rs, b)
  self.done[ph.name] = (self.done[ph.name] or 0) + b.got
  if rs then self.written[rs.name] = (self.written[rs.name] or 0) + b.written end
  self:add_written(b.tallies.written)
  self.rejects = self.rejects + b.tallies.rejects
  self.fixups = self.fixups + b.tallies.fixups
  if self.on_progress then self.on_progress(self.done[ph.name])
  elseif self.progress then self.progress:update(self.base + self.done[ph.name]) end
end

--- The counts of every set as the data stands now, with this run's written / done tallies.
function PhaseRunner:counts() return self.run.sets:count_all(self.written, self.done) end

--- Called after every committed batch (of `rows` rows), before the next one: --pause, --max-rate.
function PhaseRunner:between_batches(rows) throttle.after_batch(self, rows) end

--- Runs the batches of one part until it is exhausted, the budget (--limit) is spent, or a stop
--- is asked for. A window without pending rows costs no transaction and no checkpoint (a repeated
--- or resumed run walks past resolved rows cheaply). Returns "done", "limit" or "stopped" and the
--- reason.
function PhaseRunner:run_part(ph, rs, part, index)
  local run = self.run
  local after = part.last or part.lo
  if part.complete then return "done" end
  local sizer = batch.sizer(run)
  while true do
    local reason = run:stop_reason() or throttle.before_batch(self)   -- waits while a standby lags
    if reason then return "stopped", reason end
    local want = sizer.want()
    if self.budget then
      want = math.min(want, self.budget.left)
      if want <= 0 then return "limit" end
    end
    local t0 = sys.now()
    local b = batch.keyset(run, ph, rs, part, index, after, want):run_keyset()
    sizer.observe(b.got, sys.now() - t0)
    for k, v in pairs(b.new_part) do part[k] = v end
    after = part.last
    if b.got > 0 then
      if self.budget then self.budget.left = self.budget.left - b.got end
      self:add_batch(ph, rs, b)
    end
    if part.complete then return "done" end
    if b.got > 0 then self:between_batches(b.got) end
  end
end

--- Runs a step phase: ph.step(ctx) in its own transaction, again and again, until it returns 0/nil
--- (nothing left) or a stop is asked for. Returns "done"/"stopped" and the reason.
function PhaseRunner:run_steps(ph)
  while true do
    local reason = self.run:stop_reason() or throttle.before_batch(self)
    if reason then return "stopped", reason end
    local b = batch.step(self.run, ph):run_step()
    if b.got <= 0 then return "done" end
    self:add_batch(ph, nil, b)
    self:between_batches(b.got)
  end
end

--- The parts of the previous run's checkpoint for this phase, when some are unfinished. Only for
--- sets without a pending predicate: with one, the data itself says what is left.
local function resume_parts(run, ph, rs)
  if rs.pending_sql then return nil end
  local cp = run.ledger:previous_checkpoint(ph.name)
  if type(cp) ~= "table" or type(cp.parts) ~= "table" then return nil end
  local open = false
  for _, p in ipairs(cp.parts) do open = open or not p.complete end
  if not open then return nil end
  log.info("phase %s: resuming %d key range(s) from run #%s's checkpoint", ph.name, #cp.parts,
    tostring(run.ledger.prev.run_id))
  return cp.parts
end

--- Merges the results of a phase's workers (mig_workers) into the tallies and the parts.
function PhaseRunner:merge(ph, results, parts)
  local status, reason = "done", nil
  for _, r in ipairs(results) do
    self:add_written(r.written)
    self.rejects = self.rejects + (r.rejects or 0)
    self.fixups = self.fixups + (r.fixups or 0)
    self.done[ph.name] = (self.done[ph.name] or 0) + (r.done or 0)
    if r.status == "stopped" then status, reason = "stopped", r.reason end
    for _, p in ipairs(r.parts or {}) do
      if parts then parts[p.index] = p.part end
    end
  end
  return status, reason
end

--- Runs a phase in worker threads (mig_workers): job_parts = nil for a step phase.
function PhaseRunner:in_workers(ph, parts, nworkers)
  local workers = require "mighost.mig_workers"
  local base = self.base
  local results, failure = workers.run(self.run, ph, parts, nworkers, function(sum) self.progress:update(base + sum) end)
  local status, reason = self:merge(ph, results, parts)
  workers.raise(self.run, failure)
  return status, reason
end

function PhaseRunner:keyset_phase(ph, nworkers)
  local run = self.run
  local rs = run:set(ph.name)
  self.budget = (ph == run.def.main_phase and run.values.limit) and {left = run.values.limit} or nil
  if self.budget and nworkers > 1 then
    log.info("phase %s: --limit runs in one thread", ph.name)
    nworkers = 1
  end
  local source_total, pending_total = rs:totals(run.sets:is_fresh(ph))
  if pending_total == 0 then   -- nothing to do: no batch, no checkpoint (a repeated run writes nothing)
    self.progress = progress.new{label = ph.label, total = source_total, done = source_total, prefix = run:prefix()}
    return "done"
  end
  local parts = resume_parts(run, ph, rs) or rs:split(nworkers)
  -- Nothing resolved yet (a fresh run): a batch resolves only rows of its own window, so every row
  -- past a part's last window is still pending and the windows need no per-row pending probe.
  if pending_total and pending_total == source_total and ph.probe ~= "always" then
    for _, p in ipairs(parts) do p.all_pending = true end
  end
  local base = 0
  if pending_total then
    base = source_total - pending_total
  else
    for _, p in ipairs(parts) do base = base + (p.done or 0) end
  end
  self.progress = progress.new{label = ph.label, total = source_total, done = base, every = ph.every,
                               interval = run.values.progress_every, prefix = run:prefix()}
  self.base = base
  run.ledger:set_phase_checkpoint(ph.name, {parts = json.array(parts)})
  local key = ph.mapped and keys.defer(run, ph.mapped, parts)
  if not key then return self:run_parts(ph, rs, parts, nworkers) end
  -- the key comes back however the parts end; a failure to add it never hides the phase's own
  local ok, status, reason = xpcall(self.run_parts, run:handler(), self, ph, rs, parts, nworkers)
  if not ok then
    local rok, rerr = pcall(keys.restore, run, key)
    if not rok then log.error("%s: the primary key %s stays missing until the next run: %s", key.table, key.name, tostring(rerr)) end
    error(status, 0)
  end
  keys.restore(run, key)
  return status, reason
end

--- The parts of a keyset phase, here or in worker threads.
function PhaseRunner:run_parts(ph, rs, parts, nworkers)
  if nworkers > 1 and #parts > 1 then return self:in_workers(ph, parts, nworkers) end
  local status, reason = "done", nil
  for i, part in ipairs(parts) do
    status, reason = self:run_part(ph, rs, part, i)
    if status ~= "done" then break end
  end
  return status, reason
end

--- A phase's work after its last batch (e.g. deferred references), in one transaction of its
--- own; what it writes counts as the set's written rows.
function PhaseRunner:after_rows(ph)
  local b = batch.step(self.run, ph)
  local n = 0
  b:within(function(ctx, target)
    target:tx(function()
      ctx:_set_phase(ph.name)
      n = ph.after(ctx) or 0
    end)
  end)
  self.written[ph.name] = (self.written[ph.name] or 0) + n
  self:add_written(b.tallies.written)
end

local function scalar_of(run, v)
  if type(v) == "function" then v = v(run.ctx) end
  if type(v) == "string" then v = run.conn:scalar(v) end
  return tonumber(v) or 0
end

--- Runs one phase; returns "done", "limit" or "stopped" (+ the reason) and its duration.
function PhaseRunner:run_phase(ph)
  local run, t0 = self.run, sys.now()
  local nworkers = (ph.workers and not run.dry_run) and (run.values.workers or 1) or 1
  if run.dry_run and ph.workers and (run.values.workers or 1) > 1 then
    log.info("[DRY RUN] phase %s runs in one thread (a dry run is one transaction)", ph.name)
  end
  local status, reason
  if ph.step then
    self.progress = progress.new{label = ph.label, total = ph.total and scalar_of(run, ph.total) or 0, done = 0,
                                 every = ph.every, interval = run.values.progress_every, prefix = run:prefix()}
    self.base = 0
    if nworkers > 1 then
      status, reason = self:in_workers(ph, nil, nworkers)
    else
      status, reason = self:run_steps(ph)
    end
  else
    status, reason = self:keyset_phase(ph, nworkers)
    if status == "done" and ph.after then self:after_rows(ph) end
  end
  self.progress:finish()
  return status, reason, sys.now() - t0
end

--- True when the phase's set still has unresolved rows (decides partial vs complete after --limit).
function PhaseRunner:has_pending(ph)
  local rs = self.run:set(ph.name)
  if rs.pending_sql then
    local _, pending = rs:totals()
    return pending > 0
  end
  local cp = self.run.ledger:phase_checkpoint(ph.name)
  if not cp then return true end
  for _, p in ipairs(cp.parts or {}) do
    if not p.complete then return true end
  end
  return false
end

return phase
