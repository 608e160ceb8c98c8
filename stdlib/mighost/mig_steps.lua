-- mighost.mig_steps: one phase of a run in the main state — its totals and progress, its parts
-- (fresh key ranges, or the previous run's checkpoint when the set has no pending predicate),
-- and whether it runs here or in worker threads.
local log = require "mighost.log"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local ledger = require "mighost.mig_ledger"
local phase = require "mighost.mig_phase"
local progress = require "mighost.mig_progress"
local workers = require "mighost.mig_workers"

local steps = {}
local after_rows

--- The parts of the previous run's checkpoint for this phase, when some are unfinished. Only for
--- sets without a pending predicate: with one, the data itself says what is left.
local function resume_parts(R, ph, rs)
  if rs.pending_sql then return nil end
  local cp = R.prev and type(R.prev.checkpoint) == "table" and R.prev.checkpoint[ph.name]
  if type(cp) ~= "table" or type(cp.parts) ~= "table" then return nil end
  local open = false
  for _, p in ipairs(cp.parts) do open = open or not p.complete end
  if not open then return nil end
  log.info("phase %s: resuming %d key range(s) from run #%s's checkpoint", ph.name, #cp.parts, tostring(R.prev.run_id))
  return cp.parts
end

local function on_batch(R)
  return function(ph, rs, got, written, tallies)
    R.done[ph.name] = (R.done[ph.name] or 0) + got
    if rs then R.written[rs.name] = (R.written[rs.name] or 0) + written end
    for name, n in pairs(tallies.written) do R.written[name] = (R.written[name] or 0) + n end
    R.rejects_n = R.rejects_n + tallies.rejects
    R.fixups_n = R.fixups_n + tallies.fixups
    R.progress:update(R.progress_base + R.done[ph.name])
  end
end

local function scalar_of(R, v)
  if type(v) == "function" then v = v(R.ctx) end
  if type(v) == "string" then v = R.conn:scalar(v) end
  return tonumber(v) or 0
end

local function keyset_phase(R, ph, nworkers)
  local rs = R.sets[ph.name]
  R.budget = (ph == R.def.main_phase and R.values.limit) and {left = R.values.limit} or nil
  if R.budget and nworkers > 1 then
    log.info("phase %s: --limit runs in one thread", ph.name)
    nworkers = 1
  end
  local source_total, pending_total = phase.totals(rs, phase.is_fresh(R, ph, rs))
  if pending_total == 0 then   -- nothing to do: no batch, no checkpoint (a repeated run writes nothing)
    R.progress = progress.new{label = ph.label, total = source_total, done = source_total, prefix = R.ctx:prefix()}
    return "done"
  end
  local parts = resume_parts(R, ph, rs) or phase.split(rs, nworkers)
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
  R.progress = progress.new{label = ph.label, total = source_total, done = base, every = ph.every,
                            prefix = R.ctx:prefix()}
  R.progress_base = base
  ledger.set_phase_checkpoint(R.conn, R.run_id, ph.name, {parts = json.array(parts)})
  if nworkers > 1 and #parts > 1 then
    return workers.run_keyset(R, ph, rs, parts, nworkers, function(sum) R.progress:update(base + sum) end)
  end
  local status, reason = "done", nil
  for i, part in ipairs(parts) do
    status, reason = phase.run_part(R, ph, rs, part, i)
    if status ~= "done" then break end
  end
  R.budget_hit = R.budget_hit or status == "limit"
  return status, reason
end

--- A phase's work after its last batch (e.g. deferred references), in one transaction of its
--- own; what it writes counts as the set's written rows.
after_rows = function(R, ph)
  local b = require("mighost.mig_batch").step(R, ph)
  local n = 0
  b:within(function(ctx, target)
    target:tx(function()
      ctx.phase = ph.name
      n = ph.after(ctx) or 0
    end)
  end)
  R.written[ph.name] = (R.written[ph.name] or 0) + n
  for name, k in pairs(b.tallies.written) do R.written[name] = (R.written[name] or 0) + k end
end

--- Runs one phase; returns "done", "limit" or "stopped" (+ the reason).
function steps.run_phase(R, ph)
  local t0 = sys.now()
  R.on_batch = on_batch(R)
  local nworkers = (ph.workers and not R.dry_run) and (R.values.workers or 1) or 1
  if R.dry_run and ph.workers and (R.values.workers or 1) > 1 then
    log.info("[DRY RUN] phase %s runs in one thread (a dry run is one transaction)", ph.name)
  end
  local status, reason
  if ph.step then
    R.progress = progress.new{label = ph.label, total = ph.total and scalar_of(R, ph.total) or 0, done = 0,
                              every = ph.every, prefix = R.ctx:prefix()}
    R.progress_base = 0
    if nworkers > 1 then
      status, reason = workers.run_steps(R, ph, nworkers, function(sum) R.progress:update(sum) end)
    else
      status, reason = phase.run_steps(R, ph)
    end
  else
    status, reason = keyset_phase(R, ph, nworkers)
    if status == "done" and ph.after then after_rows(R, ph) end
  end
  R.progress:finish()
  R.durations.phases[ph.name] = sys.now() - t0
  return status, reason
end

--- True when the phase's set still has unresolved rows (decides partial vs complete after --limit).
function steps.has_pending(R, ph)
  local rs = R.sets[ph.name]
  if rs.pending_sql then
    local _, pending = phase.totals(rs)
    return pending > 0
  end
  local cp = R.conn:scalar("SELECT checkpoint -> $2 FROM mig_meta.runs WHERE run_id = $1", R.run_id, ph.name)
  if type(cp) ~= "string" then return true end
  for _, p in ipairs(json.decode(cp).parts or {}) do
    if not p.complete then return true end
  end
  return false
end

return steps
